"""Proposal sources: what a consultation hotspot shows, read from Civic Space itself, Decidim or CONSUL Democracy.

`ProposalCache` is the one entry point the server uses; the adapters (`DecidimSource`, `ConsulSource`) each turn one
platform's GraphQL answer into a `Proposal`, and reach the platforms only through `PlatformHttp` (address policy
against server-side request forgery, request budgets). Browsers never call the platforms: everything here runs
server-side.
"""

from server.proposals._http import PlatformHttp
from server.proposals.budget import Budget
from server.proposals.cache import ProposalCache
from server.proposals.consul import ConsulSource
from server.proposals.decidim import DecidimSource
from server.proposals.model import AddressRefused, NotSent, Proposal, ProposalSource, RateLimited, SourceError
from server.proposals.urls import ProposalRef, parse_proposal_url, parse_ref

__all__ = [
    "AddressRefused",
    "Budget",
    "ConsulSource",
    "DecidimSource",
    "NotSent",
    "PlatformHttp",
    "Proposal",
    "ProposalCache",
    "ProposalRef",
    "ProposalSource",
    "RateLimited",
    "SourceError",
    "parse_proposal_url",
    "parse_ref",
]
