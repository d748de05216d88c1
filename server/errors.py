"""Errors as data: every failure a client sees is `{"error": {"code", "message"}}` with a stable code.

Handlers raise `ApiError`; `error_middleware` is the one place exceptions become responses. An unexpected
exception is logged with its traceback on the server and answered with a bare `internal_error`: no stack
trace, path or exception text ever reaches a client. A store that cannot be reached (`StoreUnavailable`, e.g.
PostgreSQL restarting) is not a fault of ours nor of the client's: it is answered 503 `store_unavailable` with
`Retry-After`, and logged as one line (no traceback: the store's message is already redacted).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from .store.base import StoreUnavailable

log = logging.getLogger("civic.http")

# Stable codes for the HTTP errors aiohttp raises itself (routing, body size, method).
_HTTP_CODES = {
    400: ("bad_request", "The request is malformed."),
    404: ("not_found", "Nothing here."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request body is too large."),
    416: ("range_not_satisfiable", "The requested range is outside the file."),
}
# Seconds a client is asked to wait when the store is unreachable: the pool reconnects by itself within that.
STORE_RETRY_AFTER = 5


class ApiError(Exception):
    """An error meant for the client: HTTP status, stable machine code, human message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response(error_body(code, message), status=status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and 304s pass through untouched
            raise
        code, message = _HTTP_CODES.get(exc.status, ("http_error", exc.reason or "Request failed."))
        response = error_response(exc.status, code, message)
        for header in ("Allow", "Content-Range", "Retry-After"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    except StoreUnavailable as exc:
        log.warning("store unavailable: %s", exc, extra={"path": request.path, "method": request.method})
        response = error_response(503, "store_unavailable", "The service is briefly unavailable; try again soon.")
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
        return response
    except Exception:
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(500, "internal_error", "Something went wrong on our side.")
