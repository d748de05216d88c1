"""Staff authentication and permissions. Residents never sign in.

Passwords are hashed with Argon2id (argon2-cffi; memory-hard). A session is a random token in an HttpOnly,
SameSite=Strict cookie (Secure when the request came over HTTPS); only its SHA-256 is stored. Every write by
staff also needs the session's CSRF token in `X-CSRF-Token` and, when the browser sends one, a same-site
Origin. Sign-in attempts are rate-limited per account and per client (kept in memory, never logged).
Invariant: `require()` runs on every staff request; nothing is trusted from an earlier request.
Invariant: Argon2 never runs on the event loop (one verification costs ~100-200 ms of CPU): verifications run in
a small thread pool per application (argon2-cffi releases the GIL), and when too many wait for it, sign-in
answers 429 at once instead of queueing without bound (issue 9 item 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import ApiError
from .ratelimit import KeyedLimiter
from .store import STAFF_ROLES, Staff, Store

COOKIE = "civic_session"
SESSION_SECONDS = 12 * 3600
ROLES = STAFF_ROLES  # editor, moderator, host (creates and runs public meetings), admin
# Which roles may do what: admin may do everything.
GRANTS = {"editor": {"editor", "admin"}, "moderator": {"moderator", "admin"}, "host": {"host", "admin"},
          "admin": {"admin"}}

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal valid usernames.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    if not 10 <= len(password) <= 256:
        raise ValueError("passwords must be 10 to 256 characters long")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PasswordVerifier:
    """Argon2 verification off the event loop: at most `workers` at once, at most `waiting` more queued behind
    them; beyond that `verify` raises a 429 ApiError without hashing. The count follows the pool's own work
    (a cancelled request whose hash already runs still holds its place until the hash ends)."""

    def __init__(self, workers: int = 2, waiting: int = 16) -> None:
        self.workers = workers
        self.capacity = workers + waiting
        self.pending = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        weakref.finalize(self, self._pool.shutdown, wait=False)

    async def verify(self, password_hash: str, password: str) -> bool:
        if self.pending >= self.capacity:
            raise ApiError(429, "sign_in_busy", "Too many sign-ins at this moment; try again in a few seconds.")
        loop = asyncio.get_running_loop()
        self.pending += 1
        work = self._pool.submit(verify_password, password_hash, password)
        work.add_done_callback(lambda _: self._done_in(loop))
        return await asyncio.wrap_future(work)

    def _done_in(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called in the worker thread: count down on the loop's thread (not at all once the loop is gone)."""
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._count_down)

    def _count_down(self) -> None:
        self.pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RequestLimits:
    """Per-client limits of the HTTP API (in memory only, never logged): sign-in attempts (5 a minute per
    account, 20 per client address), anonymous supports (10 a minute per client address), and the bounded
    pool that verifies passwords."""

    def __init__(self) -> None:
        self.accounts = KeyedLimiter(rate=5 / 60, burst=5)
        self.clients = KeyedLimiter(rate=20 / 60, burst=20)
        self.supports = KeyedLimiter(rate=10 / 60, burst=10)  # anonymous supports per client address
        self.passwords = PasswordVerifier()

    def allow(self, username: str, client: str) -> bool:
        return self.accounts.allow(username.lower()) and self.clients.allow(client)


async def sign_in(request: web.Request, store: Store, limiter: RequestLimits, username: str,
                  password: str) -> tuple[web.Response, Staff]:
    if not limiter.allow(username, request.remote or "?"):
        raise ApiError(429, "too_many_attempts", "Too many sign-in attempts; wait a minute and try again.")
    staff = await store.get_staff(username)
    valid = await limiter.passwords.verify(staff.password_hash if staff else _DUMMY_HASH, password)
    if staff is None or not valid:
        raise ApiError(401, "invalid_credentials", "Wrong username or password.")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    await store.create_session(_digest(token), staff.id, csrf, time.time() + SESSION_SECONDS)
    response = web.json_response({"user": {"username": staff.username, "role": staff.role}, "csrf": csrf})
    response.set_cookie(COOKIE, token, max_age=SESSION_SECONDS, httponly=True, samesite="Strict",
                        secure=request.secure, path="/")
    return response, staff


async def sign_out(request: web.Request, store: Store) -> web.Response:
    token = request.cookies.get(COOKIE)
    if token:
        await store.end_session(_digest(token))
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def session_of(request: web.Request, store: Store) -> tuple[Staff, str] | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    return await store.session(_digest(token))


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin in {f"{scheme}://{request.host}" for scheme in ("http", "https")}


async def require(request: web.Request, store: Store, role: str) -> Staff:
    """The signed-in staff member allowed to act as `role`; 401/403 otherwise. Writes also need CSRF."""
    found = await session_of(request, store)
    if found is None:
        raise ApiError(401, "not_signed_in", "Sign in as staff to do this.")
    staff, csrf = found
    if staff.role not in GRANTS[role]:
        raise ApiError(403, "forbidden", f"This needs the {role} role.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token", "")
        if not secrets.compare_digest(sent.encode(), csrf.encode()) or not _same_origin(request):
            raise ApiError(403, "csrf_failed", "The request did not come from this site's staff page.")
    return staff


def public_user(staff: Staff) -> dict[str, Any]:
    return {"username": staff.username, "role": staff.role}
