"""Zones and tour stops over HTTP (issue 12 item 5): anyone lists a scene's places (the manifest's merged with the
stored ones, server/services/places.py); editors make, edit, reorder and delete the stored ones from the page's
editor (CSRF, optimistic `version`). Every change is answered first and then pushed to every instance of the scene
as one `places` event holding the whole merged lists (`Call.push_scene`).
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, StringConstraints, field_validator, model_validator

from ..keys import CATALOG, STORE
from ..schema_types import Prose, RequiredProse, Title, Vec3
from ..services.places import Places, stop_json, zone_json
from ..store import Conflict
from .models import VERSION, Optional, Out
from .route import Body, Call, Query, Route, conflict

SCENE = "/api/scenes/{scene_id}"
ZONE, STOP = "/api/zones/{zone_id}", "/api/tour-stops/{stop_id}"
EDIT = (401, 403, 404, 409, 413, 415, 422)
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Angle = Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)]
Pitch = Annotated[float, Field(ge=-89, le=89, allow_inf_nan=False)]
Metres = Annotated[float, Field(ge=0.5, le=200, allow_inf_nan=False)]


def _needs_english(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is not None and "en" not in value:
        raise ValueError("an English ('en') text is required as the fallback")
    return value


class Box(Body):
    min: Vec3
    max: Vec3


class Around(Body):
    """A zone around the staff member's feet: `size` is [width (x), depth (z)] in metres, `height` above the
    feet (3 m if left out); the server keeps the box inside the scene."""

    position: Vec3
    size: list[Metres] = Field(min_length=2, max_length=2)
    height: Annotated[float, Field(ge=1, le=50, allow_inf_nan=False)] | None = None


class _OneShape(Body):
    @model_validator(mode="after")
    def _one_shape(self) -> Any:
        if getattr(self, "area", None) is not None and getattr(self, "around", None) is not None:
            raise ValueError("give either area (a drawn box) or around (where you stand), not both")
        return self


class ZoneIn(_OneShape):
    key: Key | None = Field(default=None, description="Made from the English name when left out; a manifest "
                            "zone's id here replaces that zone")
    name: Title
    description: Prose = {}
    area: Box | None = None
    around: Around | None = None

    _en = field_validator("name")(_needs_english)

    @model_validator(mode="after")
    def _a_shape(self) -> ZoneIn:
        if self.area is None and self.around is None:
            raise ValueError("give area (a drawn box) or around (where you stand)")
        return self


class ZonePatch(_OneShape):
    version: int = VERSION
    name: Title = Optional
    description: Prose = Optional
    area: Box = Optional
    around: Around = Optional

    _en = field_validator("name")(_needs_english)


class StopIn(Body):
    position: Vec3
    yaw: Angle = 0.0
    pitch: Pitch = 0.0
    zone: Key | None = None
    title: Prose = {}
    narration: RequiredProse

    _en = field_validator("narration")(_needs_english)


class StopPatch(Body):
    """The fields given change; or `order` alone moves the stop to that place (0-based) among the stored stops."""

    version: int = VERSION
    position: Vec3 = Optional
    yaw: Angle = Optional
    pitch: Pitch = Optional
    zone: Key | None = None
    title: Prose = Optional
    narration: RequiredProse = Optional
    order: Annotated[int, Field(ge=0, le=10_000)] = Optional

    _en = field_validator("narration")(_needs_english)


class DeleteQuery(Query):
    version: int = Field(ge=0, le=2**53, description="The version being deleted.")


class AreaOut(Out):
    min: list[float]
    max: list[float]


class Zone(Out):
    """A zone as residents see it: the manifest's shape; stored ones say so (`source`, `record`, `version`)."""

    id: str
    scene: str | None = None
    name: dict[str, str]
    description: dict[str, str]
    area: AreaOut
    source: str | None = None
    record: int | None = None
    version: int | None = None
    updatedBy: str | None = None
    overrides: bool | None = None


class TourStop(Out):
    id: str
    scene: str | None = None
    position: list[float]
    yaw: float
    pitch: float
    narration: dict[str, str]
    title: dict[str, str] | None = None
    zone: str | None = None
    source: str | None = None
    record: int | None = None
    order: int | None = None
    version: int | None = None
    updatedBy: str | None = None


class PlaceList(Out):
    zones: list[Zone]
    tour: list[TourStop]


def service(call: Call) -> Places:
    return Places(call.app[STORE], call.app[CATALOG])


def _push(call: Call, scene_id: str) -> None:
    places = service(call)
    call.push_scene(scene_id, lambda: places.event(scene_id))


async def list_places(call: Call) -> web.Response:
    return web.json_response(await service(call).listing(call.request.match_info["scene_id"]))


async def create_zone(call: Call) -> web.Response:
    scene_id = call.request.match_info["scene_id"]
    zone = await service(call).create_zone(scene_id, call.body.model_dump(exclude_none=True), call.actor().username)
    _push(call, scene_id)
    return web.json_response(zone, status=201)


async def create_stop(call: Call) -> web.Response:
    scene_id = call.request.match_info["scene_id"]
    stop = await service(call).create_stop(scene_id, call.body.model_dump(), call.actor().username)
    _push(call, scene_id)
    return web.json_response(stop, status=201)


async def _change(call: Call, what: str, version: int, given: dict[str, Any] | None) -> web.Response:
    """An edit (`given`) or a deletion (None) of a zone or a tour stop; 409 with the current state if stale."""
    places, actor = service(call), call.actor().username
    row_id = call.path_id("zone_id" if what == "zone" else "stop_id", what)
    try:
        if what == "zone":
            result = (await places.update_zone(row_id, version, given, actor) if given is not None
                      else await places.delete_zone(row_id, version, actor))
        else:
            result = (await places.update_stop(row_id, version, given, actor) if given is not None
                      else await places.delete_stop(row_id, version, actor))
    except Conflict as stale:
        current = zone_json(stale.current) if what == "zone" else stop_json(stale.current)
        return conflict(what.replace("_", " "), current)
    _push(call, result["scene"])
    return web.json_response(result)


async def update_zone(call: Call) -> web.Response:
    return await _change(call, "zone", call.body.version, call.body.model_dump(exclude_unset=True,
                                                                               exclude={"version"}))


async def delete_zone(call: Call) -> web.Response:
    return await _change(call, "zone", call.query.version, None)


async def update_stop(call: Call) -> web.Response:
    return await _change(call, "tour_stop", call.body.version, call.body.model_dump(exclude_unset=True,
                                                                                    exclude={"version"}))


async def delete_stop(call: Call) -> web.Response:
    return await _change(call, "tour_stop", call.query.version, None)


ROUTES: tuple[Route, ...] = (
    Route("GET", SCENE + "/places", list_places,
          "A scene's zones and guided tour: the manifest's, extended and overridden by those staff added", "places",
          response=PlaceList, errors=(404,)),
    Route("POST", SCENE + "/zones", create_zone,
          "Add a zone: a drawn box (`area`) or the box around where the staff member stands (`around`)", "places",
          body=ZoneIn, response=Zone, status=201, role="editor", errors=EDIT),
    Route("PATCH", ZONE, update_zone, "Edit a stored zone (optimistic concurrency on `version`)", "places",
          body=ZonePatch, response=Zone, role="editor", errors=EDIT),
    Route("DELETE", ZONE, delete_zone, "Delete a stored zone (?version=N); a manifest zone it replaced comes back",
          "places", query=DeleteQuery, response=Zone, role="editor", errors=EDIT),
    Route("POST", SCENE + "/tour", create_stop, "Add a tour stop after the last one: here, looking this way",
          "places", body=StopIn, response=TourStop, status=201, role="editor", errors=EDIT),
    Route("PATCH", STOP, update_stop, "Edit a stored tour stop, or move it (`order` alone)", "places",
          body=StopPatch, response=TourStop, role="editor", errors=EDIT),
    Route("DELETE", STOP, delete_stop, "Delete a stored tour stop (?version=N)", "places", query=DeleteQuery,
          response=TourStop, role="editor", errors=EDIT),
)
