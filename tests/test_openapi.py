"""The OpenAPI document is generated from the route table and matches what the application really serves."""

from __future__ import annotations

from server.api.routes import ROUTES
from server.openapi import path_template


async def test_openapi_documents_exactly_the_routes_the_router_serves(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for route in tiny_client.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "*") or path == "/ws":  # the WebSocket upgrade is in docs/protocol.md
            continue
        served.add((path_template(path), route.method))
    assert served == documented
    assert {(path_template(r.path), r.method) for r in ROUTES if r.documented} == documented


async def test_openapi_request_schemas_are_the_validators(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    hotspot = document["components"]["schemas"]["HotspotIn"]
    assert set(hotspot["required"]) == {"position", "kind", "title"}
    assert hotspot["additionalProperties"] is False


async def test_openapi_says_truthfully_which_patch_fields_may_be_null(tiny_client):
    schemas = (await (await tiny_client.get("/api/openapi.json")).json())["components"]["schemas"]

    def nullable(model: str, field: str) -> bool:
        schema = schemas[model]["properties"][field]
        return any(option.get("type") == "null" for option in schema.get("anyOf", [])) or schema.get("type") == "null"

    assert not any(nullable("HotspotPatch", f) for f in ("position", "normal", "kind", "title", "description"))
    assert nullable("HotspotPatch", "proposalRef") and nullable("HotspotPatch", "link")
    assert not any(nullable("ProposalPatch", f) for f in ("title", "summary", "body", "status"))
    assert nullable("ProposalPatch", "deadline")
    assert schemas["HotspotPatch"]["required"] == ["version"]


async def test_every_staff_route_declares_its_role_in_the_document(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    for route in ROUTES:
        if route.role is not None:
            operation = document["paths"][path_template(route.path)][route.method.lower()]
            assert operation["security"] and route.role in operation["description"], route.path
    resolve = document["paths"]["/api/proposals/resolve"]["get"]
    assert "editor" in resolve["description"]
