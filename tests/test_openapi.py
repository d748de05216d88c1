"""The OpenAPI document matches the routes the application really serves."""

from __future__ import annotations

import re


async def test_openapi_documents_exactly_the_api_routes(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for route in tiny_client.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "*") or not (path.startswith("/api/") or path in ("/healthz", "/metrics")):
            continue
        served.add((re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path), route.method))
    assert served == documented


async def test_openapi_request_schemas_are_the_validators(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    hotspot = document["components"]["schemas"]["HotspotIn"]
    assert set(hotspot["required"]) == {"position", "kind", "title"}
    assert hotspot["additionalProperties"] is False
