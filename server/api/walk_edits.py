"""Staff corrections of the walkable floor and spawn points over HTTP (issue 12 item 4): anyone reads a scene's
paints and spawn points and downloads its corrected grid; editors paint boxes walkable or not, and add, reorder
and delete spawn points from the page's editor (CSRF, optimistic `version`). The rules are in
server/services/walk_edits.py. Every change is answered first and then pushed to every instance of the scene as
one `places` content event carrying the scene's `walkable` (the corrected grid's address) and `spawn` besides the
whole zone and tour lists (`Call.push_scene`), so open pages reload the grid.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from ..blobs import serve_blob
from ..keys import CATALOG, STORE
from ..schema_types import Vec3
from ..services.places import Places
from ..services.walk_edits import WalkEdits, paint_json, spawn_json
from ..store import Conflict
from .models import VERSION, Out
from .route import Body, Call, Query, Route, conflict

SCENE = "/api/scenes/{scene_id}"
PAINT, SPAWN = "/api/walk-paints/{paint_id}", "/api/spawns/{spawn_id}"
EDIT = (401, 403, 404, 409, 413, 415, 422)
IMMUTABLE = "public, max-age=31536000, immutable"
Angle = Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)]


class Box(Body):
    min: Vec3
    max: Vec3


class PaintIn(Body):
    """A box (metres) whose cells become walkable or not. Floors concerned: heights in [min.y - 0.35, max.y];
    a walkable paint over a hole puts the floor at min.y."""

    area: Box
    walkable: bool


class SpawnIn(Body):
    position: Vec3 = Field(description="Where a visitor's feet arrive (on a walkable floor of the corrected grid)")
    yaw: Angle = 0.0


class SpawnMove(Body):
    version: int = VERSION
    order: Annotated[int, Field(ge=0, le=10_000)]


class DeleteQuery(Query):
    version: int = Field(ge=0, le=2**53, description="The version being deleted.")


class Area(Out):
    min: list[float]
    max: list[float]


class Paint(Out):
    id: int
    scene: str
    area: Area
    walkable: bool
    version: int
    updatedBy: str


class SpawnPoint(Out):
    id: int
    scene: str
    position: list[float]
    yaw: float
    order: int
    version: int
    updatedBy: str


class Limits(Out):
    paints: int
    spawns: int


class WalkEditList(Out):
    """The scene's stored paints (in the order they apply) and spawn points, the spawn points its document gives
    (the stored ones, else the manifest's) and its `walkable` grid (corrected when it has paints)."""

    paints: list[Paint]
    spawns: list[SpawnPoint]
    spawn: list[dict[str, Any]]
    walkable: dict[str, Any]
    limits: Limits


def service(call: Call) -> WalkEdits:
    return WalkEdits(call.app[STORE], call.app[CATALOG])


def _push(call: Call, scene_id: str) -> None:
    edits, places = service(call), Places(call.app[STORE], call.app[CATALOG])

    async def event() -> dict[str, Any]:
        return await edits.event(await places.event(scene_id), scene_id)

    call.push_scene(scene_id, event)


async def list_edits(call: Call) -> web.Response:
    return web.json_response(await service(call).listing(call.request.match_info["scene_id"]))


async def get_grid(call: Call) -> web.Response:
    name = call.request.match_info["name"]
    blob = await service(call).grid_blob(call.request.match_info["scene_id"], name)
    return serve_blob(call.request, blob, IMMUTABLE)


async def add_paint(call: Call) -> web.Response:
    scene_id = call.request.match_info["scene_id"]
    body = call.body
    paint = await service(call).add_paint(scene_id, body.area.model_dump(), body.walkable, call.actor().username)
    _push(call, scene_id)
    return web.json_response(paint, status=201)


async def delete_paint(call: Call) -> web.Response:
    paint_id = call.path_id("paint_id", "walk_paint")
    try:
        gone = await service(call).delete_paint(paint_id, call.query.version, call.actor().username)
    except Conflict as stale:
        return conflict("painted area", paint_json(stale.current))
    _push(call, gone["scene"])
    return web.json_response(gone)


async def add_spawn(call: Call) -> web.Response:
    scene_id = call.request.match_info["scene_id"]
    spawn = await service(call).add_spawn(scene_id, call.body.position, call.body.yaw, call.actor().username)
    _push(call, scene_id)
    return web.json_response(spawn, status=201)


async def _spawn_change(call: Call, version: int, order: int | None) -> web.Response:
    spawn_id, edits, actor = call.path_id("spawn_id", "spawn"), service(call), call.actor().username
    try:
        result = (await edits.move_spawn(spawn_id, version, order, actor) if order is not None
                  else await edits.delete_spawn(spawn_id, version, actor))
    except Conflict as stale:
        return conflict("spawn point", spawn_json(stale.current))
    _push(call, result["scene"])
    return web.json_response(result)


async def move_spawn(call: Call) -> web.Response:
    return await _spawn_change(call, call.body.version, call.body.order)


async def delete_spawn(call: Call) -> web.Response:
    return await _spawn_change(call, call.query.version, None)


ROUTES: tuple[Route, ...] = (
    Route("GET", SCENE + "/walk-edits", list_edits,
          "A scene's walkable-floor corrections (painted boxes, in the order they apply) and spawn points", "walkable",
          response=WalkEditList, errors=(404,)),
    Route("GET", SCENE + "/walkable/{name}", get_grid,
          "A scene's corrected walkable grid by content hash (immutable; the scene document's `walkable.url`)",
          "walkable", content_type="application/octet-stream", errors=(404,)),
    Route("POST", SCENE + "/walk-paints", add_paint,
          "Paint a box walkable or not walkable (applied after the scene's earlier paints)", "walkable",
          body=PaintIn, response=Paint, status=201, role="editor", errors=EDIT),
    Route("DELETE", PAINT, delete_paint, "Delete a painted box (?version=N)", "walkable", query=DeleteQuery,
          response=Paint, role="editor", errors=EDIT),
    Route("POST", SCENE + "/spawns", add_spawn,
          "Add a spawn point after the last one: here, looking this way (stored ones replace the manifest's)",
          "walkable", body=SpawnIn, response=SpawnPoint, status=201, role="editor", errors=EDIT),
    Route("PATCH", SPAWN, move_spawn, "Move a spawn point to `order` (0-based; the first is where visitors arrive)",
          "walkable", body=SpawnMove, response=SpawnPoint, role="editor", errors=EDIT),
    Route("DELETE", SPAWN, delete_spawn, "Delete a spawn point (?version=N)", "walkable", query=DeleteQuery,
          response=SpawnPoint, role="editor", errors=EDIT),
)
