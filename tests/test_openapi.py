"""The OpenAPI document is generated from the route table and matches what the application really serves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.api.routes import ROUTES
from server.openapi import path_template

from .test_hotspots_api import place, staff_session


async def test_openapi_documents_exactly_the_routes_the_router_serves(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    upgrades = {path_template(r.path) for r in ROUTES if not r.documented}  # WebSockets: docs/protocol.md
    assert upgrades == {"/ws", "/api/events/{event_id}/audio"}
    served = set()
    for route in tiny_client.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "*") or path_template(path) in upgrades:
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


async def test_a_real_version_conflict_matches_the_document(tiny_client):
    """The 409 of a stale hotspot edit (`error` and `current` side by side) validates against its operation."""
    schemathesis = pytest.importorskip("schemathesis")
    checks = pytest.importorskip("schemathesis.openapi.checks")
    requests = pytest.importorskip("requests")
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()
    url, headers = f"/api/hotspots/{created['id']}", {"X-CSRF-Token": csrf}
    assert (await tiny_client.patch(url, json={"version": 1, "title": {"en": "First"}}, headers=headers)).status == 200
    stale = await tiny_client.patch(url, json={"version": 1, "title": {"en": "Second"}}, headers=headers)
    assert stale.status == 409
    body = await stale.read()
    assert set(json.loads(body)) == {"error", "current"}

    document = await (await tiny_client.get("/api/openapi.json")).json()
    operation = schemathesis.openapi.from_dict(document)["/api/hotspots/{hotspot_id}"]["PATCH"]
    request = requests.Request("PATCH", str(stale.url), json={"version": 1}).prepare()

    def answer(content: bytes) -> Any:
        return schemathesis.Response(status_code=409, headers={k: [v] for k, v in stale.headers.items()},
                                     content=content, request=request, elapsed=0.0, verify=False)

    assert operation.validate_response(answer(body)) is not False  # raises when it disagrees
    # And the check has teeth: a conflict without the current state, or with an extra field, is refused.
    for wrong in ({"error": json.loads(body)["error"]}, {**json.loads(body), "extra": 1}):
        with pytest.raises(checks.JsonSchemaError):
            operation.validate_response(answer(json.dumps(wrong).encode()))


async def test_uploads_are_documented_as_forms_and_duty_routes_say_the_meeting_decides(tiny_client):
    document = await (await tiny_client.get("/api/openapi.json")).json()
    upload = document["paths"]["/api/events/{event_id}/slides"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["requestBody"]["required"] and list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    assert set(form["required"]) == {"image", "alt"}
    assert form["properties"]["image"]["format"] == "binary" and form["properties"]["alt"]["type"] == "string"
    for route in ROUTES:
        if route.role is None:
            continue
        operation = document["paths"][path_template(route.path)][route.method.lower()]
        said = "any staff role; the meeting's duties decide" in operation["description"]
        assert said == (route.role == "staff"), route.path
    assert not [r.path for r in ROUTES if r.documented and r.upload != ("multipart/form-data" in str(
        document["paths"][path_template(r.path)][r.method.lower()].get("requestBody", {})))]
