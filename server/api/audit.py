"""The append-only audit log over HTTP, for admins: newest first, 100 at a time (`?before=<id>` pages back)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from ..keys import STORE
from .models import Out
from .route import Call, Query


class AuditQuery(Query):
    before: int | None = Field(default=None, ge=0, le=2**62, description="Entries older than this id.")


class AuditEntry(Out):
    id: int
    at: float
    actor: str
    action: str
    target: str
    before: Any
    after: Any


class AuditPage(Out):
    entries: list[AuditEntry]


async def audit_log(call: Call) -> web.Response:
    return web.json_response({"entries": await call.app[STORE].audit(limit=100, before_id=call.query.before)})
