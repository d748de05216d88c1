"""The one route table: every route the server answers, declared once with its handler, its models, the role it
needs and its documentation. `add_routes` gives it to aiohttp's router; server/openapi.py turns the same table
into /api/openapi.json; tests/test_openapi.py checks the document against the router itself.
"""

from __future__ import annotations

from aiohttp import web

from .. import openapi
from . import (
    audit,
    auth,
    event_audio,
    event_pages,
    event_recording,
    event_staff_pages,
    events,
    hotspots,
    places,
    proposals,
    scene_imports,
    site,
    walk_edits,
)
from .models import Ok
from .route import Call, Route

SCENE, HOTSPOT, PROPOSAL = "/api/scenes/{scene_id}", "/api/hotspots/{hotspot_id}", "/api/proposals/{proposal_id}"
EDIT = (401, 403, 404, 409, 413, 415, 422)


async def openapi_document(call: Call) -> web.Response:
    return web.json_response(openapi.document(ROUTES))


ROUTES: tuple[Route, ...] = (
    # --- the site ----------------------------------------------------------------------------------------------
    Route("GET", "/", site.landing_page, "The home page: the list of places", "pages",
          content_type="text/html"),
    Route("GET", "/scenes/{scene_id}", site.scene_page, "A scene's page (404 page for an unknown scene)",
          "pages", content_type="text/html", page_404=True),
    Route("GET", "/accessibility", site.statement_page, "The accessibility statement", "pages",
          content_type="text/html"),
    Route("GET", "/static/{path:.+}", site.get_static, "A file of the browser client (ETag, 304, Range)", "pages",
          content_type="application/octet-stream", errors=(404, 416)),
    Route("GET", "/ws", site.realtime, "The realtime WebSocket (docs/protocol.md)", "realtime", documented=False),
    Route("GET", "/healthz", site.healthz, "Ready check", "operations", response=site.Health),
    Route("GET", "/metrics", site.metrics, "Prometheus metrics (text format)", "operations",
          content_type="text/plain"),
    Route("GET", "/api/openapi.json", openapi_document, "This document", "operations"),
    # --- scenes and assets ---------------------------------------------------------------------------------------
    Route("GET", "/api/scenes", site.list_scenes, "The scenes (ETag, 304)", "scenes", response=site.SceneIndex),
    Route("GET", SCENE, site.get_scene, "One scene, resolved for the client (ETag, 304)", "scenes",
          response=site.SceneDocument, errors=(404, 503)),
    Route("GET", "/assets/{name}", site.get_asset, "A scene asset or walkable grid by content hash (immutable)",
          "scenes", content_type="application/octet-stream", errors=(404, 416)),
    # --- hotspots ------------------------------------------------------------------------------------------------
    Route("GET", SCENE + "/hotspots", hotspots.list_hotspots, "The hotspots of a scene", "hotspots",
          response=hotspots.HotspotList, errors=(404,)),
    Route("POST", SCENE + "/hotspots", hotspots.create_hotspot, "Place a hotspot", "hotspots",
          body=hotspots.HotspotIn, response=hotspots.Hotspot, status=201, role="editor", errors=EDIT),
    Route("PATCH", HOTSPOT, hotspots.update_hotspot, "Edit a hotspot (optimistic concurrency on `version`)",
          "hotspots", body=hotspots.HotspotPatch, response=hotspots.Hotspot, role="editor", errors=EDIT),
    Route("DELETE", HOTSPOT, hotspots.delete_hotspot, "Delete a hotspot (?version=N; undo with restore)",
          "hotspots", query=hotspots.DeleteQuery, response=hotspots.Hotspot, role="editor", errors=EDIT),
    Route("POST", HOTSPOT + "/restore", hotspots.restore_hotspot, "Restore a deleted hotspot", "hotspots",
          body=hotspots.VersionIn, response=hotspots.Hotspot, role="editor", errors=EDIT),
    # --- zones and tour stops staff add (server/api/places.py) ----------------------------------------------------
    *places.ROUTES,
    *walk_edits.ROUTES,  # walkable corrections and spawn points (server/api/walk_edits.py)
    *scene_imports.ROUTES,  # imports uploaded by admins (server/api/scene_imports.py)
    # --- proposals -----------------------------------------------------------------------------------------------
    Route("GET", "/api/proposals", proposals.search_proposals, "Search local proposals (?q=)", "proposals",
          query=proposals.SearchQuery, response=proposals.ProposalList, errors=(422,)),
    Route("POST", "/api/proposals", proposals.create_proposal, "Create a local proposal", "proposals",
          body=proposals.ProposalIn, response=proposals.LocalProposal, status=201, role="editor", errors=EDIT),
    Route("GET", "/api/proposals/live", proposals.live_proposal,
          "Live state of the proposal a hotspot shows (?ref=local:5|decidim:…|consul:…)", "proposals",
          query=proposals.LiveQuery, response=proposals.LiveProposal, errors=(404, 422, 503)),
    Route("GET", "/api/proposals/resolve", proposals.resolve_proposal,
          "Live state of any proposal: ?ref= or ?url=<platform page> (staff checking a link)", "proposals",
          query=proposals.ResolveQuery, response=proposals.LiveProposal, role="editor",
          errors=(401, 403, 404, 422, 503)),
    Route("GET", PROPOSAL, proposals.get_proposal, "One local proposal", "proposals",
          response=proposals.LocalProposal, errors=(404,)),
    Route("PATCH", PROPOSAL, proposals.update_proposal, "Edit a local proposal (optimistic concurrency)",
          "proposals", body=proposals.ProposalPatch, response=proposals.LocalProposal, role="editor", errors=EDIT),
    Route("POST", PROPOSAL + "/support", proposals.support_proposal,
          "Support a local proposal, once per resident (signed civic_resident cookie; same-origin JSON only)",
          "proposals", body=proposals.SupportIn, body_optional=True, response=proposals.SupportResult,
          errors=(403, 404, 413, 415, 422, 429)),
    # --- staff -----------------------------------------------------------------------------------------------------
    Route("POST", "/api/auth/login", auth.login, "Staff sign-in: sets the session cookie, returns the CSRF token",
          "staff", body=auth.Login, response=auth.SignedIn, errors=(401, 413, 415, 422, 429), no_store=True),
    Route("POST", "/api/auth/logout", auth.logout, "Staff sign-out", "staff", body=auth.Empty,
          body_optional=True, response=Ok, errors=(413, 415, 422), no_store=True),
    Route("GET", "/api/auth/me", auth.me, "The signed-in staff member and CSRF token", "staff",
          response=auth.SignedIn, errors=(401,), no_store=True),
    Route("GET", "/api/audit", audit.audit_log, "The audit log, newest first (?before=id)", "staff",
          query=audit.AuditQuery, response=audit.AuditPage, role="admin", errors=(401, 403, 422), no_store=True),
    # --- public meetings (server/events/) ----------------------------------------------------------------------
    *events.ROUTES,
    *event_pages.ROUTES,
    *event_staff_pages.ROUTES,
    *event_audio.ROUTES,  # stage audio (server/api/event_audio.py)
    *event_recording.ROUTES,  # stage audio recordings (server/api/event_recording.py)
)


def add_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    for route in routes:
        if route.method == "GET":
            app.router.add_get(route.path, route.endpoint)  # and HEAD
        else:
            app.router.add_route(route.method, route.path, route.endpoint)
