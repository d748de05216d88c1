"""Types every store implementation shares with its callers (see `server/store/__init__.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class StoreError(Exception):
    """The store cannot be opened or used as it is (unreadable, empty, newer than the code); a one-line reason."""


class Conflict(Exception):
    """An edit based on a stale version; carries the current row."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("stale version")
        self.current = current


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str
    password_hash: str
