"""The OpenAPI document of the JSON API, served at /api/openapi.json.

Written by hand next to the handlers' pydantic models (their JSON Schemas are embedded, so request bodies can
never drift from validation); tests/test_openapi.py checks that every route the application serves under
/api is documented with its methods, and that nothing documented is missing.
"""

from __future__ import annotations

from typing import Any

from . import api_staff

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: int = 200, body: type | None = None, errors: tuple[int, ...] = (),
        auth: str | None = None, params: tuple[str, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {str(ok): {"description": "success"}}}
    for status in errors:
        op["responses"][str(status)] = {"description": "error", **_json(ERROR)}
    if body is not None:
        op["requestBody"] = {"required": True, **_json({"$ref": f"#/components/schemas/{body.__name__}"})}
    if auth:
        op["security"] = [{"session": []}]
        op["description"] = f"Needs a staff session with the {auth} role" + (
            "" if body is None and not summary.startswith(("Delete", "Restore")) else
            " and the session's CSRF token in X-CSRF-Token.")
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    return op


def document() -> dict[str, Any]:
    models = (api_staff.HotspotIn, api_staff.HotspotPatch, api_staff.Login, api_staff.ProposalIn,
              api_staff.ProposalPatch, api_staff.SupportIn)
    schemas: dict[str, Any] = {m.__name__: m.model_json_schema() for m in models}
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}
    scene, hotspot, proposal = ("scene_id",), ("hotspot_id",), ("proposal_id",)
    paths = {
        "/healthz": {"get": _op("Ready check")},
        "/metrics": {"get": _op("Prometheus metrics (text format)")},
        "/api/scenes": {"get": _op("The scenes (ETag, 304)")},
        "/api/scenes/{scene_id}": {"get": _op("One scene, resolved for the client", errors=(404,), params=scene)},
        "/api/scenes/{scene_id}/hotspots": {
            "get": _op("The hotspots of a scene", errors=(404,), params=scene),
            "post": _op("Place a hotspot", 201, api_staff.HotspotIn, (401, 403, 404, 422), "editor", scene),
        },
        "/api/hotspots/{hotspot_id}": {
            "patch": _op("Edit a hotspot (optimistic concurrency on `version`)", 200, api_staff.HotspotPatch,
                         (401, 403, 404, 409, 422), "editor", hotspot),
            "delete": _op("Delete a hotspot (?version=N; undo with restore)", 200, None, (401, 403, 404, 409, 422),
                          "editor", hotspot),
        },
        "/api/hotspots/{hotspot_id}/restore": {
            "post": _op("Restore a deleted hotspot", 200, api_staff.HotspotPatch, (401, 403, 404, 409), "editor",
                        hotspot),
        },
        "/api/proposals": {
            "get": _op("Search local proposals (?q=)"),
            "post": _op("Create a local proposal", 201, api_staff.ProposalIn, (401, 403, 422), "editor"),
        },
        "/api/proposals/resolve": {
            "get": _op("Live state of a proposal: ?ref=local:5|decidim:…|consul:… or ?url=<platform page>",
                       errors=(404, 422, 503)),
        },
        "/api/proposals/{proposal_id}": {
            "get": _op("One local proposal", errors=(404,), params=proposal),
            "patch": _op("Edit a local proposal", 200, api_staff.ProposalPatch, (401, 403, 404, 409, 422), "editor",
                         proposal),
        },
        "/api/proposals/{proposal_id}/support": {
            "post": _op("Support a local proposal once per browser (anonymous token)", 200, api_staff.SupportIn,
                        (404, 422, 429), params=proposal),
        },
        "/api/auth/login": {"post": _op("Staff sign-in: sets the session cookie, returns the CSRF token", 200,
                                        api_staff.Login, (401, 422, 429))},
        "/api/auth/logout": {"post": _op("Staff sign-out")},
        "/api/auth/me": {"get": _op("The signed-in staff member and CSRF token", errors=(401,))},
        "/api/audit": {"get": _op("The audit log, newest first (?before=id)", errors=(401, 403), auth="admin")},
        "/api/openapi.json": {"get": _op("This document")},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Civic Space", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "civic_session"}}},
    }
