"""The anonymous resident identity the server signs: one random id per browser, in an HttpOnly cookie.

Residents never sign in, yet a support must count once per browser. The id is chosen by the server (never by
the client) and carried as `<id>.<HMAC-SHA256(key, id)>` in a `civic_resident` cookie (HttpOnly, SameSite=Strict,
Secure over HTTPS). The key is 32 random bytes kept in the data directory (`resident.key`, mode 0600), so ids
survive restarts and are shared by processes on one data directory. Limits (docs/http-api.md): a browser that
drops its cookies gets a new identity; the per-address rate limit is what bounds that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from aiohttp import web

COOKIE = "civic_resident"
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep


class Residents:
    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = self._load()
        return self._key

    def use_key(self, key: bytes) -> None:
        """The key every process of the city shares (from the store, seeded with this data directory's key)."""
        self._key = key

    def _load(self) -> bytes:
        try:
            key = self.key_file.read_bytes()
            if len(key) >= 32:
                return key
        except FileNotFoundError:
            pass
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        tmp = self.key_file.with_suffix(f".{os.getpid()}.tmp")  # one per process: workers start together
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        try:
            os.link(tmp, self.key_file)  # first writer wins; a concurrent process reads the winner's key
        except FileExistsError:
            key = self.key_file.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
        return key

    def _sign(self, resident: str) -> str:
        return hmac.new(self.key, resident.encode(), hashlib.sha256).hexdigest()[:32]

    def identity(self, request: web.Request) -> str | None:
        """The resident id from a valid signed cookie, else None."""
        value = request.cookies.get(COOKIE, "")
        resident, _, signature = value.partition(".")
        if not (16 <= len(resident) <= 64 and len(signature) == 32 and resident.isascii()):
            return None
        return resident if hmac.compare_digest(signature, self._sign(resident)) else None

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(18)

    def set_cookie(self, response: web.StreamResponse, resident: str, secure: bool) -> None:
        response.set_cookie(COOKIE, f"{resident}.{self._sign(resident)}", max_age=MAX_AGE, httponly=True,
                            samesite="Strict", secure=secure, path="/")
