"""Hotspots over HTTP: residents list them; editors place, edit, delete and restore them (routes in routes.py).

Every change is answered first and pushed to every instance of the scene after (`Call.push_scene`); a stale
edit gets 409 with the current state.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from aiohttp import web
from pydantic import AfterValidator, Field, StringConstraints

from ..keys import CATALOG, PROPOSALS, STORE
from ..schema_types import Prose, Title, Vec3
from ..services.hotspots import Hotspots, hotspot_event, hotspot_json
from ..store import Conflict
from .models import VERSION, Optional, Out
from .route import Body, Call, Query, conflict

Kind = Literal["proposal", "information", "event"]


def _http_link(v: str) -> str:
    if not re.match(r"^https?://[^\s/@]+(/\S*)?$", v):
        raise ValueError("links must be http:// or https:// addresses")
    return v


Link = Annotated[str, StringConstraints(max_length=500), AfterValidator(_http_link)]
ProposalRef = Annotated[str, StringConstraints(max_length=500,
                                               pattern=r"^(local:\d{1,12}|(decidim:|consul:)?https?://\S+)$")]


class HotspotIn(Body):
    position: Vec3
    normal: Vec3 = [0.0, 0.0, 1.0]
    kind: Kind
    title: Title
    description: Prose = {}
    proposalRef: ProposalRef | None = None
    link: Link | None = None


class HotspotPatch(Body):
    """Only the fields given change; `null` is allowed only where it means "none" (proposalRef, link)."""

    version: int = VERSION
    position: Vec3 = Optional
    normal: Vec3 = Optional
    kind: Kind = Optional
    title: Title = Optional
    description: Prose = Optional
    proposalRef: ProposalRef | None = None
    link: Link | None = None


class VersionIn(Body):
    version: int = VERSION


class DeleteQuery(Query):
    version: int = Field(ge=0, le=2**53, description="The version being deleted.")


class Hotspot(Out):
    id: int
    scene: str
    position: list[float]
    normal: list[float]
    kind: Kind
    title: dict[str, str]
    description: dict[str, str]
    proposalRef: str | None
    link: str | None
    version: int
    createdBy: str
    createdAt: float
    updatedBy: str
    updatedAt: float
    warning: str | None = Field(
        default=None, description="Only in answers to staff who linked a remote proposal the platform does not "
        "show now (missing, not public, or unreachable): the hotspot is saved, the link is read again later.")


class HotspotList(Out):
    hotspots: list[Hotspot]


def service(call: Call) -> Hotspots:
    return Hotspots(call.app[STORE], call.app[CATALOG], call.app[PROPOSALS])


async def list_hotspots(call: Call) -> web.Response:
    return web.json_response({"hotspots": await service(call).list(call.request.match_info["scene_id"])})


async def create_hotspot(call: Call) -> web.Response:
    scene_id = call.request.match_info["scene_id"]
    hotspot = await service(call).create(scene_id, call.body.model_dump(), call.actor().username)
    call.push_scene(scene_id, hotspot_event(hotspot))
    return web.json_response(hotspot, status=201)


async def _change(call: Call, version: int, change: str, given: dict[str, object] | None = None) -> web.Response:
    hotspots, hotspot_id, actor = service(call), call.path_id("hotspot_id", "hotspot"), call.actor().username
    try:
        if change == "delete":
            hotspot = await hotspots.delete(hotspot_id, version, actor)
        elif change == "restore":
            hotspot = await hotspots.restore(hotspot_id, version, actor)
        else:
            hotspot = await hotspots.update(hotspot_id, version, given or {}, actor)
    except Conflict as stale:
        return conflict("hotspot", hotspot_json(stale.current))
    response = web.json_response(hotspot)
    call.push_scene(hotspot["scene"], hotspot_event(hotspot, deleted=change == "delete"))
    return response


async def update_hotspot(call: Call) -> web.Response:
    given = call.body.model_dump(exclude_unset=True, exclude={"version"})
    return await _change(call, call.body.version, "update", given)


async def delete_hotspot(call: Call) -> web.Response:
    return await _change(call, call.query.version, "delete")


async def restore_hotspot(call: Call) -> web.Response:
    """Undo of a delete."""
    return await _change(call, call.body.version, "restore")
