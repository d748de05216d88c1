"""A resident's pseudonym in one event: the handle moderators, bans, mutes and the hand queue know them by.

`base32(HMAC-SHA256(resident_key, "event:<id>:<resident id>"))[:12]`, lowercase: stable for one browser in one
event (a ban survives reloads and reconnects), not linkable across events, and never the resident token itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

HANDLE_PATTERN = r"^[a-z2-7]{12}$"
_HANDLE = re.compile(HANDLE_PATTERN)


def event_handle(key: bytes, event_id: int, resident_id: str) -> str:
    digest = hmac.new(key, f"event:{event_id}:{resident_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:12]


def is_handle(value: str) -> bool:
    return bool(_HANDLE.match(value))


def support_hash(question_id: int, resident_id: str) -> str:
    """What a question support is counted by (as proposal supports): never the resident id itself."""
    return hashlib.sha256(f"question:{question_id}:{resident_id}".encode()).hexdigest()
