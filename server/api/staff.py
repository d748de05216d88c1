"""Staff accounts over HTTP, for admins: the list with roles, and assigning a role (e.g. `host`, who may create
and run public meetings). Every change goes to the audit log (the store writes it with the change)."""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError
from ..events.models import RoleIn, StaffList, StaffMember
from ..keys import STORE
from .route import Call, Route


async def list_staff(call: Call) -> web.Response:
    rows = await call.app[STORE].list_staff()
    return web.json_response({"staff": [{"username": r["username"], "role": r["role"], "createdAt": r["created_at"]}
                                        for r in rows]})


async def set_role(call: Call) -> web.Response:
    username = call.request.match_info["username"]
    if username == call.actor().username:  # an admin who demoted themselves could lock the city out
        raise ApiError(409, "own_role", "Ask another admin to change your own role.")
    store = call.app[STORE]
    if len(username) > 64 or not await store.set_staff_role(username, call.body.role, call.actor().username):
        raise ApiError(404, "staff_not_found", "There is no staff member with this username.")
    found = next((r for r in await store.list_staff() if r["username"] == username), None)
    if found is None:
        raise ApiError(404, "staff_not_found", "There is no staff member with this username.")
    return web.json_response({"username": found["username"], "role": found["role"], "createdAt": found["created_at"]})


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/staff", list_staff, "Staff accounts and their roles (admin)", "staff", response=StaffList,
          role="admin", errors=(401, 403), no_store=True),
    Route("PATCH", "/api/staff/{username}", set_role, "Assign a staff member's role (admin; audited)", "staff",
          body=RoleIn, response=StaffMember, role="admin", errors=(401, 403, 404, 413, 415, 422),
          no_store=True),
)
