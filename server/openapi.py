"""The OpenAPI 3.1 document of the server, generated from the route table (server/api/routes.py).

Nothing here is written by hand per route: paths, methods, parameters, request and response schemas (the
pydantic models' JSON Schemas, the very validators), the role each route needs and its errors all come from
the `Route` declarations, so the document cannot drift from what is served. tests/test_openapi.py checks it
against aiohttp's router, and a schemathesis run checks real responses against it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .api.models import Error
from .api.route import ANY_STAFF

if TYPE_CHECKING:
    from .api.route import Route

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
# A route that reads its own multipart/form-data body (`Route.upload`: a meeting's slides).
UPLOAD: dict[str, Any] = {"content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["image", "alt"], "properties": {
        "image": {"type": "string", "format": "binary", "contentMediaType": "image/*",
                  "description": "PNG, JPEG or WebP, at most 8 MB and 8000 px a side"},
        "alt": {"type": "string", "contentMediaType": "application/json",
                "description": 'JSON {lang: text}, e.g. {"en": "A chart of the budget"}: a text alternative, '
                               'non-empty in at least one language'}}},
    "encoding": {"image": {"contentType": "image/png, image/jpeg, image/webp"}}}}}


def path_template(path: str) -> str:
    """aiohttp's `/static/{path:.+}` -> OpenAPI's `/static/{path}`."""
    return _PARAM.sub(r"{\1}", path)


def _schema(model: type[BaseModel], schemas: dict[str, Any], mode: str = "validation") -> dict[str, Any]:
    document = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, definition in document.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault(model.__name__, document)
    return {"$ref": REF.format(model=model.__name__)}


def _content(media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PARAM.findall(route.path)
    ]
    if route.query is not None:
        properties = route.query.model_json_schema()
        required = set(properties.get("required", ()))
        for name, schema in properties.get("properties", {}).items():
            description = schema.pop("description", None)
            schema.pop("title", None)
            parameter = {"name": name, "in": "query", "required": name in required, "schema": schema}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    return parameters


def _conflict(success: dict[str, Any]) -> dict[str, Any]:
    """A version conflict's body: the error and the current state side by side (`route.conflict`)."""
    return {"type": "object", "required": ["error", "current"], "additionalProperties": False,
            "properties": {"error": {"$ref": REF.format(model="ErrorDetail")},
                           "current": success["content"]["application/json"]["schema"]}}


def operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    if route.response is not None:
        success = _content("application/json", _schema(route.response, schemas, "serialization"))
    elif route.content_type == "application/json":
        success = _content("application/json", {"type": "object"})
    else:
        success = {"content": {route.content_type: {"schema": {"type": "string"}}}}
    error = _content("application/json", _schema(Error, schemas))
    responses: dict[str, Any] = {str(route.status): {"description": "success", **success}}
    for status in route.errors:
        responses[str(status)] = {"description": "error", **error}
    if 409 in route.errors and route.response is not None:
        responses["409"] = {"description": "edited meanwhile: the error and the current state",
                            **_content("application/json", _conflict(success))}
    if route.page_404:
        page = _content("text/html", {"type": "string"})
        responses["404"] = {"description": "not found: a page that says so", **page}
    responses["default"] = {"description": "any other error", **error}
    op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag], "operationId": _operation_id(route),
                          "responses": responses}
    parameters = _parameters(route)
    if parameters:
        op["parameters"] = parameters
    if route.upload:
        op["requestBody"] = {"required": True, **(route.form or UPLOAD)}
    elif route.body is not None:
        op["requestBody"] = {"required": not route.body_optional,
                             **_content("application/json", _schema(route.body, schemas))}
    if route.role is not None:
        op["security"] = [{"session": []} if route.method == "GET" else {"session": [], "csrf": []}]
        who = ("a staff session (any staff role; the meeting's duties decide)" if route.role == ANY_STAFF
               else f"a staff session with the {route.role} role (or admin)")
        op["description"] = f"Needs {who}" + (
            "." if route.method == "GET" else " and the session's CSRF token in X-CSRF-Token.")
    if route.no_store:
        op["description"] = (op.get("description", "") + " Answered with Cache-Control: no-store.").strip()
    return op


def _operation_id(route: Route) -> str:
    handler = getattr(route.handler, "__name__", "handler")
    return f"{route.method.lower()}_{handler}"


def document(routes: tuple[Route, ...]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.documented:
            paths.setdefault(path_template(route.path), {})[route.method.lower()] = operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Civic Space", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "civic_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }
