"""Proposal sources: what a consultation hotspot shows, read from Civic Space itself, Decidim or CONSUL Democracy.

`ProposalCache` is the one entry point the server uses; the adapters (`DecidimSource`, `ConsulSource`) each turn one
platform's GraphQL answer into a `Proposal`. Browsers never call the platforms: everything here runs server-side.
"""

from server.proposals.cache import ProposalCache
from server.proposals.consul import ConsulSource
from server.proposals.decidim import DecidimSource
from server.proposals.model import Proposal, ProposalSource, RateLimited, SourceError
from server.proposals.urls import ProposalRef, parse_proposal_url, parse_ref

__all__ = [
    "ConsulSource",
    "DecidimSource",
    "Proposal",
    "ProposalCache",
    "ProposalRef",
    "ProposalSource",
    "RateLimited",
    "SourceError",
    "parse_proposal_url",
    "parse_ref",
]
