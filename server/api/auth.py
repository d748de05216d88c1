"""Staff sign-in over HTTP: sign in (sets the session cookie, answers the CSRF token), sign out, who am I.

The work is done by server/auth.py; these routes answer `Cache-Control: no-store` (declared in routes.py).
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import StringConstraints

from .. import auth
from ..errors import ApiError
from ..keys import LIMITS, STORE
from .models import Out
from .route import Body, Call


class Login(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Empty(Body):
    """No fields: `{}` or no body at all."""


class User(Out):
    username: str
    role: Literal["editor", "moderator", "admin"]


class SignedIn(Out):
    user: User
    csrf: str


async def login(call: Call) -> web.Response:
    app = call.app
    response, _ = await auth.sign_in(call.request, app[STORE], app[LIMITS], call.body.username, call.body.password)
    return response


async def logout(call: Call) -> web.Response:
    return await auth.sign_out(call.request, call.app[STORE])


async def me(call: Call) -> web.Response:
    found = await auth.session_of(call.request, call.app[STORE])
    if found is None:
        raise ApiError(401, "not_signed_in", "Not signed in.")
    staff, csrf = found
    return web.json_response({"user": auth.public_user(staff), "csrf": csrf})
