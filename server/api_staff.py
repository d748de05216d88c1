"""HTTP API of hotspots, local proposals, staff sign-in and the audit log (documented in server/openapi.py).

Handlers are thin: validate the body with pydantic, check the permission (`auth.require`, on every request),
call the store, push the change to the scene's rooms, answer JSON. A stale edit gets 409 with the current
state, so nothing is silently lost.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Annotated, Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from . import auth
from .errors import ApiError
from .keys import CATALOG, LIMITS, PROPOSALS, ROOMS, STORE
from .proposals import RateLimited, SourceError, parse_proposal_url, parse_ref
from .proposals.local import LocalSource
from .store import Conflict, Staff

LangCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
Title = Annotated[dict[LangCode, Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                                   max_length=120)]], Field(min_length=1)]
Prose = dict[LangCode, Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]]
Vec3 = Annotated[list[float], Field(min_length=3, max_length=3)]
MAX_BODY = 32 * 1024
M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _finite(v: list[float]) -> list[float]:
    if not all(math.isfinite(x) for x in v):
        raise ValueError("coordinates must be finite numbers")
    return v


def _http_link(v: str | None) -> str | None:
    if v is not None and not re.match(r"^https?://[^\s/@]+(/\S*)?$", v):
        raise ValueError("links must be http:// or https:// addresses")
    return v


ProposalRef = Annotated[str, StringConstraints(max_length=500, pattern=r"^(local:\d{1,12}|(decidim:|consul:)?https?://\S+)$")]


class HotspotIn(Body):
    position: Vec3
    normal: Vec3 = [0.0, 0.0, 1.0]
    kind: Literal["proposal", "information", "event"]
    title: Title
    description: Prose = {}
    proposalRef: ProposalRef | None = None
    link: Annotated[str, StringConstraints(max_length=500)] | None = None

    _finite = field_validator("position", "normal")(_finite)
    _link = field_validator("link")(_http_link)


class HotspotPatch(Body):
    version: int
    position: Vec3 | None = None
    normal: Vec3 | None = None
    kind: Literal["proposal", "information", "event"] | None = None
    title: Title | None = None
    description: Prose | None = None
    proposalRef: ProposalRef | None = None
    link: Annotated[str, StringConstraints(max_length=500)] | None = None

    _finite = field_validator("position", "normal")(lambda v: v if v is None else _finite(v))
    _link = field_validator("link")(_http_link)


class Login(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ProposalIn(Body):
    title: Title
    summary: Prose = {}
    body: Prose = {}
    status: Literal["open", "evaluating", "accepted", "rejected", "withdrawn", "closed"] = "open"
    deadline: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class ProposalPatch(Body):
    version: int
    title: Title | None = None
    summary: Prose | None = None
    body: Prose | None = None
    status: Literal["open", "evaluating", "accepted", "rejected", "withdrawn", "closed"] | None = None
    deadline: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class SupportIn(Body):
    token: Annotated[str, StringConstraints(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def parse(request: web.Request, model: type[M]) -> M:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "payload_too_large", "The request body is too large.")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "payload_too_large", "The request body is too large.")
    try:
        data = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The request body must be JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(422, "invalid_field", f"{where}: {first['msg']}") from None


def _int(value: str, what: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise ApiError(404, f"{what}_not_found", f"There is no {what} with this id.")
    return int(value)


def hotspot_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "scene": row["scene"], "position": row["position"], "normal": row["normal"],
        "kind": row["kind"], "title": row["title"], "description": row["description"],
        "proposalRef": row["proposal_ref"], "link": row["link"], "version": row["version"],
        "createdBy": row["created_by"], "createdAt": row["created_at"],
        "updatedBy": row["updated_by"], "updatedAt": row["updated_at"],
    }


def proposal_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ref": f"local:{row['id']}", "id": row["id"], "source": "local", "title": row["title"],
        "summary": row["summary"], "body": row["body"], "status": row["status"], "deadline": row["deadline"],
        "supports": row["supports"], "version": row["version"], "updatedAt": row["updated_at"],
    }


def _normal(v: list[float]) -> list[float]:
    length = math.sqrt(sum(x * x for x in v))
    if length < 1e-6:
        raise ApiError(422, "invalid_field", "normal: must not be the zero vector")
    return [round(x / length, 6) for x in v]


def _inside(request: web.Request, scene_id: str, position: list[float]) -> None:
    bounds = request.app[CATALOG].scenes[scene_id].prepared.bounds
    if not all(lo <= p <= hi for lo, p, hi in zip(bounds["min"], position, bounds["max"], strict=True)):
        raise ApiError(422, "invalid_field", "position: must be inside the scene")


def _scene(request: web.Request) -> str:
    scene_id = request.match_info["scene_id"]
    if scene_id not in request.app[CATALOG].scenes:
        raise ApiError(404, "scene_not_found", "There is no scene with this id.")
    return scene_id


def _conflict(what: str, current: dict[str, Any]) -> web.Response:
    message = f"Someone else changed this {what} meanwhile; here is its current state."
    return web.json_response({"error": {"code": "version_conflict", "message": message}, "current": current},
                             status=409)


async def canonical_ref(request: web.Request, given: str | None) -> str | None:
    """A pasted Decidim/CONSUL address or a stored reference → the canonical reference; 422 if it is neither."""
    if given is None:
        return None
    try:
        ref = parse_proposal_url(given).ref if given.startswith(("http://", "https://")) else parse_ref(given).ref
    except ValueError as exc:
        raise ApiError(422, "invalid_field", f"proposalRef: {exc}") from None
    if ref.startswith("local:") and await request.app[STORE].proposal(int(ref[6:])) is None:
        raise ApiError(422, "invalid_field", "proposalRef: there is no local proposal with this id")
    return ref


async def resolve(request: web.Request, ref: str) -> dict[str, Any]:
    if ref.startswith("local:"):
        proposal = await LocalSource(request.app[STORE]).fetch(ref)
    else:
        try:
            proposal = await request.app[PROPOSALS].get(ref)
        except RateLimited:
            raise ApiError(503, "proposal_unavailable", "The platform asks us to wait; try again soon.") from None
        except SourceError:
            raise ApiError(503, "proposal_unavailable", "The platform cannot be reached now.") from None
    if proposal is None:
        raise ApiError(404, "proposal_not_found", "The participation platform has no such proposal.")
    return proposal.to_json()


def _push(request: web.Request, scene_id: str, event: dict[str, Any]) -> None:
    request.app[ROOMS].broadcast_scene(scene_id, event)


# --- staff sign-in -------------------------------------------------------------------------------------------------
async def login(request: web.Request) -> web.Response:
    body = await parse(request, Login)
    response, _ = await auth.sign_in(request, request.app[STORE], request.app[LIMITS], body.username, body.password)
    return response


async def logout(request: web.Request) -> web.Response:
    return await auth.sign_out(request, request.app[STORE])


async def me(request: web.Request) -> web.Response:
    found = await auth.session_of(request, request.app[STORE])
    if found is None:
        raise ApiError(401, "not_signed_in", "Not signed in.")
    staff, csrf = found
    return web.json_response({"user": auth.public_user(staff), "csrf": csrf})


# --- hotspots ------------------------------------------------------------------------------------------------------
async def list_hotspots(request: web.Request) -> web.Response:
    rows = await request.app[STORE].hotspots(_scene(request))
    return web.json_response({"hotspots": [hotspot_json(r) for r in rows]})


async def create_hotspot(request: web.Request) -> web.Response:
    scene_id = _scene(request)
    staff = await auth.require(request, request.app[STORE], "editor")
    body = await parse(request, HotspotIn)
    _inside(request, scene_id, body.position)
    ref = await canonical_ref(request, body.proposalRef)
    fields = {"position": body.position, "normal": _normal(body.normal), "kind": body.kind, "title": body.title,
              "description": body.description, "proposal_ref": ref, "link": body.link}
    row = await request.app[STORE].create_hotspot(scene_id, fields, staff.username)
    if ref and not ref.startswith("local:"):
        request.app[PROPOSALS].watch(ref)
    hotspot = hotspot_json(row)
    _push(request, scene_id, {"type": "hotspot", "action": "upsert", "hotspot": hotspot})
    return web.json_response(hotspot, status=201)


async def _change_hotspot(request: web.Request, staff: Staff, version: int, fields: dict[str, Any],
                          action: str) -> web.Response:
    hotspot_id = _int(request.match_info["hotspot_id"], "hotspot")
    store = request.app[STORE]
    current = await store.hotspot(hotspot_id, include_deleted=True)
    if current is None or (current["deleted"] and action != "hotspot.restore"):
        raise ApiError(404, "hotspot_not_found", "There is no hotspot with this id.")
    if "position" in fields:
        _inside(request, current["scene"], fields["position"])
    try:
        row = await store.update_hotspot(hotspot_id, version, fields, staff.username, action)
    except Conflict as conflict:
        return _conflict("hotspot", hotspot_json(conflict.current))
    assert row is not None
    hotspot = hotspot_json(row)
    deleted = bool(row["deleted"])
    _push(request, row["scene"], {"type": "hotspot", "action": "delete" if deleted else "upsert",
                                  "hotspot": hotspot})
    return web.json_response(hotspot)


async def update_hotspot(request: web.Request) -> web.Response:
    staff = await auth.require(request, request.app[STORE], "editor")  # before reading the body
    body = await parse(request, HotspotPatch)
    given = body.model_dump(exclude_unset=True, exclude={"version"})
    names = {"proposalRef": "proposal_ref"}
    fields = {names.get(k, k): v for k, v in given.items()}
    if "normal" in fields:
        fields["normal"] = _normal(fields["normal"])
    if "proposal_ref" in fields:
        fields["proposal_ref"] = await canonical_ref(request, fields["proposal_ref"])
        if fields["proposal_ref"] and not fields["proposal_ref"].startswith("local:"):
            request.app[PROPOSALS].watch(fields["proposal_ref"])
    if not fields:
        raise ApiError(422, "invalid_field", "body: nothing to change")
    return await _change_hotspot(request, staff, body.version, fields, "hotspot.update")


async def delete_hotspot(request: web.Request) -> web.Response:
    staff = await auth.require(request, request.app[STORE], "editor")
    version = request.query.get("version", "")
    if not version.isdigit() or len(version) > 12:
        raise ApiError(422, "invalid_field", "version: the version being deleted is required (?version=N)")
    return await _change_hotspot(request, staff, int(version), {"deleted": 1}, "hotspot.delete")


async def restore_hotspot(request: web.Request) -> web.Response:
    """Undo of a delete."""
    staff = await auth.require(request, request.app[STORE], "editor")
    body = await parse(request, HotspotPatch)
    return await _change_hotspot(request, staff, body.version, {"deleted": 0}, "hotspot.restore")


# --- local proposals -----------------------------------------------------------------------------------------------
async def search_proposals(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:100]
    rows = await request.app[STORE].proposals(query)
    return web.json_response({"proposals": [proposal_json(r) for r in rows]})


async def resolve_proposal(request: web.Request) -> web.Response:
    """The live state of the proposal behind a hotspot: ?ref=local:5 | decidim:… | consul:…, or ?url= a
    Decidim/CONSUL page (staff pasting a link). Browsers never call the platforms themselves."""
    given = request.query.get("ref") or request.query.get("url")
    if not given or len(given) > 500:
        raise ApiError(422, "invalid_field", "ref: a proposal reference or url is required")
    ref = await canonical_ref(request, given)
    assert ref is not None
    return web.json_response(await resolve(request, ref))


async def get_proposal(request: web.Request) -> web.Response:
    row = await request.app[STORE].proposal(_int(request.match_info["proposal_id"], "proposal"))
    if row is None:
        raise ApiError(404, "proposal_not_found", "There is no proposal with this id.")
    return web.json_response(proposal_json(row))


async def create_proposal(request: web.Request) -> web.Response:
    staff = await auth.require(request, request.app[STORE], "editor")
    body = await parse(request, ProposalIn)
    row = await request.app[STORE].create_proposal(body.model_dump(), staff.username)
    return web.json_response(proposal_json(row), status=201)


async def update_proposal(request: web.Request) -> web.Response:
    staff = await auth.require(request, request.app[STORE], "editor")
    body = await parse(request, ProposalPatch)
    proposal_id = _int(request.match_info["proposal_id"], "proposal")
    fields = body.model_dump(exclude_unset=True, exclude={"version"})
    try:
        row = await request.app[STORE].update_proposal(proposal_id, body.version, fields, staff.username)
    except Conflict as conflict:
        return _conflict("proposal", proposal_json(conflict.current))
    if row is None:
        raise ApiError(404, "proposal_not_found", "There is no proposal with this id.")
    # Residents get the same shape as for remote proposals (what /api/proposals/resolve answers).
    request.app[ROOMS].broadcast_all({"type": "proposal", "proposal": await resolve(request, f"local:{proposal_id}")})
    return web.json_response(proposal_json(row))


async def support_proposal(request: web.Request) -> web.Response:
    """One support per browser: the anonymous token is hashed; no personal data is kept."""
    if not request.app[LIMITS].supports.allow(request.remote or "?"):
        raise ApiError(429, "too_many_supports", "Too many supports from here; wait a minute.")
    body = await parse(request, SupportIn)
    proposal_id = _int(request.match_info["proposal_id"], "proposal")
    digest = hashlib.sha256(f"support:{proposal_id}:{body.token}".encode()).hexdigest()
    result = await request.app[STORE].support(proposal_id, digest)
    if result is None:
        raise ApiError(404, "proposal_not_found", "There is no proposal with this id.")
    added, total = result
    if added:
        request.app[ROOMS].broadcast_all({"type": "proposal_supports", "ref": f"local:{proposal_id}",
                                          "supports": total})
    return web.json_response({"ref": f"local:{proposal_id}", "supports": total, "counted": added})


# --- audit ---------------------------------------------------------------------------------------------------------
async def audit_log(request: web.Request) -> web.Response:
    await auth.require(request, request.app[STORE], "admin")
    before = request.query.get("before")
    rows = await request.app[STORE].audit(limit=100, before_id=int(before) if before and before.isdigit() else None)
    return web.json_response({"entries": rows})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/auth/login", login)
    r.add_post("/api/auth/logout", logout)
    r.add_get("/api/auth/me", me)
    r.add_get("/api/scenes/{scene_id}/hotspots", list_hotspots)
    r.add_post("/api/scenes/{scene_id}/hotspots", create_hotspot)
    r.add_patch("/api/hotspots/{hotspot_id}", update_hotspot)
    r.add_delete("/api/hotspots/{hotspot_id}", delete_hotspot)
    r.add_post("/api/hotspots/{hotspot_id}/restore", restore_hotspot)
    r.add_get("/api/proposals", search_proposals)
    r.add_post("/api/proposals", create_proposal)
    r.add_get("/api/proposals/resolve", resolve_proposal)
    r.add_get("/api/proposals/{proposal_id}", get_proposal)
    r.add_patch("/api/proposals/{proposal_id}", update_proposal)
    r.add_post("/api/proposals/{proposal_id}/support", support_proposal)
    r.add_get("/api/audit", audit_log)
