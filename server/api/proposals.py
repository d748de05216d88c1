"""Proposals over HTTP: the live state of a hotspot's proposal, local proposals (editors author them,
residents support them once per signed identity) and resolving a pasted platform address (staff only).

Anonymous supports are the one anonymous write: they need a JSON body and a same-origin `Origin`, and they
count once per resident identity the server signed (server/api/residents.py), never per client-chosen token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field, StringConstraints, model_validator

from ..errors import ApiError
from ..keys import CONFIG, LIMITS, PROPOSALS, RESIDENTS, STORE
from ..schema_types import Prose, Title
from ..services.hotspots import is_remote
from ..services.proposals import Proposals, proposal_json
from ..store import Conflict
from . import hotspots
from .client import client_address, is_https
from .models import VERSION, Optional, Out
from .route import Body, Call, Query, conflict

Status = Literal["open", "evaluating", "accepted", "rejected", "withdrawn", "closed"]
Deadline = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ProposalIn(Body):
    title: Title
    summary: Prose = {}
    body: Prose = {}
    status: Status = "open"
    deadline: Deadline | None = None


class ProposalPatch(Body):
    """Only the fields given change; `null` is allowed only for the deadline (no deadline)."""

    version: int = VERSION
    title: Title = Optional
    summary: Prose = Optional
    body: Prose = Optional
    status: Status = Optional
    deadline: Deadline | None = None


class SupportIn(Body):
    """The body of a support: `{}`. A `token` sent by older clients is accepted and ignored (the server signs
    the resident's identity itself)."""

    token: Annotated[str, StringConstraints(max_length=64)] = Field(default="", deprecated=True)


class SearchQuery(Query):
    q: Annotated[str, StringConstraints(max_length=100)] = Field(default="", description="Words in a title or summary.")


class LiveQuery(Query):
    ref: Reference = Field(description="The reference a hotspot shows: local:5, decidim:…, consul:…")


class ResolveQuery(Query):
    ref: Reference | None = Field(default=None, description="local:5 | decidim:… | consul:…")
    url: Reference | None = Field(default=None, description="A Decidim or CONSUL proposal page")

    @model_validator(mode="after")
    def _one(self) -> ResolveQuery:
        if not (self.ref or self.url):
            raise ValueError("a proposal reference (ref) or address (url) is required")
        return self


class LocalProposal(Out):
    ref: str
    id: int
    source: Literal["local"]
    title: dict[str, str]
    summary: dict[str, str]
    body: dict[str, str]
    status: Status
    deadline: str | None
    supports: int
    version: int
    updatedAt: float


class ProposalList(Out):
    proposals: list[LocalProposal]


class LiveProposal(Out):
    """One shape for every source (server/proposals/model.py)."""

    ref: str
    source: Literal["local", "decidim", "consul"]
    title: dict[str, str]
    summary: dict[str, str]
    status: Status | Literal["gone"] | None  # gone: the platform deleted or hid it (not an outage: see stale)
    supports: int | None
    comments: int | None
    deadline: str | None
    url: str
    fetchedAt: float
    stale: bool
    statusLabel: dict[str, str]  # the platform's own name of the state, per language (custom states: status null)
    machineTranslated: bool  # the first title/summary entry is a machine translation
    machineTranslatedLocales: list[str]


class SupportResult(Out):
    ref: str
    supports: int
    counted: bool


def service(call: Call) -> Proposals:
    return Proposals(call.app[STORE], call.app[PROPOSALS])


async def canonical(call: Call, given: str) -> str:
    ref = await hotspots.service(call).canonical_ref(given)
    assert ref is not None
    return ref


async def search_proposals(call: Call) -> web.Response:
    return web.json_response({"proposals": await service(call).search(call.query.q)})


async def live_proposal(call: Call) -> web.Response:
    """What residents read: the live state of a proposal some hotspot shows (never an arbitrary address)."""
    proposals = service(call)
    ref = await canonical(call, call.query.ref)
    if is_remote(ref) and not await proposals.shown(ref):
        raise ApiError(404, "proposal_not_found", "No hotspot shows this proposal.")
    return web.json_response(await proposals.resolve(ref))


async def resolve_proposal(call: Call) -> web.Response:
    """Staff pasting a Decidim/CONSUL address (or any reference): what the platform says about it now."""
    ref = await canonical(call, call.query.ref or call.query.url)
    return web.json_response(await service(call).resolve(ref))


async def get_proposal(call: Call) -> web.Response:
    return web.json_response(await service(call).get(call.path_id("proposal_id", "proposal")))


async def create_proposal(call: Call) -> web.Response:
    created = await service(call).create(call.body.model_dump(), call.actor().username)
    return web.json_response(created, status=201)


async def update_proposal(call: Call) -> web.Response:
    proposals, proposal_id = service(call), call.path_id("proposal_id", "proposal")
    fields = call.body.model_dump(exclude_unset=True, exclude={"version"})
    try:
        updated = await proposals.update(proposal_id, call.body.version, fields, call.actor().username)
    except Conflict as stale:
        return conflict("proposal", proposal_json(stale.current))
    response = web.json_response(updated)
    # Residents get the same shape as for remote proposals (what /api/proposals/live answers).
    async def event() -> dict[str, object]:
        return {"type": "proposal", "proposal": await proposals.resolve(updated["ref"])}

    call.push_all(event)
    return response


def _same_origin(call: Call) -> bool:
    origin = call.request.headers.get("Origin")
    own = f"{'https' if is_https(call.request) else 'http'}://{call.request.host}"
    return origin is not None and (origin == own or origin in call.app[CONFIG].allowed_origins)


async def support_proposal(call: Call) -> web.Response:
    """One support per resident identity; the first support of a browser gives it its signed identity."""
    if not _same_origin(call):
        raise ApiError(403, "cross_origin", "Supports are accepted only from this site's pages.")
    if not call.app[LIMITS].supports.allow(client_address(call.request)):
        raise ApiError(429, "too_many_supports", "Too many supports from here; wait a minute.")
    residents = call.app[RESIDENTS]
    known = residents.identity(call.request)
    resident = known or residents.new_id()
    proposal_id = call.path_id("proposal_id", "proposal")
    added, total = await service(call).support(proposal_id, resident)
    ref = f"local:{proposal_id}"
    response = web.json_response({"ref": ref, "supports": total, "counted": added})
    if known is None:
        residents.set_cookie(response, resident, secure=is_https(call.request))
    if added:
        call.push_all({"type": "proposal_supports", "ref": ref, "supports": total})
    return response
