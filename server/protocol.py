"""The realtime wire protocol's constants, in one place (docs/protocol.md, version 1).

Everything a client writer must agree on lives here: the protocol version, the message types each way, the
close codes with their reasons and meanings, the error codes, the leave reasons and the limits (sizes, the
name rule, rates with their bursts, deadlines, ranges). The server's modules import them from here; the
browser's copy is `web/js/protocol.js`, kept equal by the shared fixture `tests/fixtures/protocol-vectors.json`
(generated from this module and server/codec.py, checked by pytest and by `node --test`), and
docs/protocol.md is checked against this module by tests/test_protocol_doc.py.

Invariants: no imports from the rest of the server (anything may import this); every value is a plain
constant (no behaviour beyond `valid_name`); a limit named here is the limit the server enforces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PROTOCOL_VERSION: Final = 1

# --- binary messages (little-endian; layouts in server/codec.py) -----------------------------------------------
POSE: Final = 1  # first byte of a client's pose
FRAME: Final = 2  # first byte of a server's pose frame
POSE_SIZE: Final = 10  # u8 kind, u16 x y z, u16 yaw, u8 pitch
FRAME_HEADER_SIZE: Final = 5  # u8 kind, u16 tick, u16 count
AVATAR_SIZE: Final = 11  # u16 id, u16 x y z, u16 yaw, u8 pitch
QUANT_MAX: Final = 65535  # positions are u16 over the room's bounds

# --- JSON messages --------------------------------------------------------------------------------------------
CLIENT_MESSAGES: Final = ("hello", "chat", "rename")
"""Text messages a client may send; anything else closes with CLOSE_BAD_MESSAGE."""

SERVER_MESSAGES: Final = ("welcome", "roster", "resync", "batch", "error")
"""Text messages the server sends on their own (never inside a batch)."""

PRESENCE_EVENTS: Final = ("join", "leave", "rename", "chat")
"""Room events the room itself produces; they arrive inside `batch`."""

CONTENT_EVENTS: Final = ("hotspot", "proposal", "proposal_supports", "places")
"""Content events of this version, produced outside the room and delivered inside `batch` like presence events.
The room forwards content events it does not own and clients hand them to whoever subscribed to the type, so
a new one is added by its producer and its consumer (and listed here and in the doc)."""

LEAVE_REASONS: Final = ("left", "timeout", "node_lost")

ERROR_CODES: Final = (
    "protocol_version", "bad_message", "room_full", "scene_not_found", "scene_preparing", "rate_limited", "too_slow",
    "chat_rate_limited", "server_shutdown", "too_many_connections",
)
"""The `code` of an `error` message. All but `chat_rate_limited` are followed by a close."""


# --- close codes ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CloseCode:
    code: int
    reason: str  # the close frame's reason text
    meaning: str


CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_TOO_BIG: Final = 1009
CLOSE_INTERNAL_ERROR: Final = 1011
CLOSE_PROTOCOL: Final = 4000
CLOSE_BAD_MESSAGE: Final = 4001
CLOSE_ROOM_FULL: Final = 4003
CLOSE_SCENE_NOT_FOUND: Final = 4004
CLOSE_SCENE_PREPARING: Final = 4013
CLOSE_RATE_LIMITED: Final = 4008
CLOSE_TOO_SLOW: Final = 4009
CLOSE_TOO_MANY_CONNECTIONS: Final = 4029

CLOSE_CODES: Final = {c.code: c for c in (
    CloseCode(CLOSE_NORMAL, "left", "the client (or the server answering its close) ended the session"),
    CloseCode(CLOSE_GOING_AWAY, "server_shutdown", "the server is restarting; reconnect after a few seconds"),
    CloseCode(CLOSE_TOO_BIG, "too_big", "a message larger than MAX_MESSAGE_BYTES"),
    CloseCode(CLOSE_INTERNAL_ERROR, "internal_error", "a fault in the server; reconnect"),
    CloseCode(CLOSE_PROTOCOL, "protocol_version", "hello with another protocol version; reload the page"),
    CloseCode(CLOSE_BAD_MESSAGE, "bad_message", "malformed message, unknown type, wrong fields, no hello in time"),
    CloseCode(CLOSE_ROOM_FULL, "room_full", "the instance is full (the error names the overflow instance)"),
    CloseCode(CLOSE_SCENE_NOT_FOUND, "scene_not_found", "hello names an unknown scene"),
    CloseCode(CLOSE_SCENE_PREPARING, "scene_preparing",
              "the scene is still being prepared; reconnect after the error's `retryAfter` seconds"),
    CloseCode(CLOSE_RATE_LIMITED, "rate_limited", "more poses or control messages than the rates allow"),
    CloseCode(CLOSE_TOO_SLOW, "too_slow", "the client stopped reading and its queue overflowed"),
    CloseCode(CLOSE_TOO_MANY_CONNECTIONS, "too_many_connections",
              "this address already holds MAX_JOINS_PER_ADDRESS open connections"),
)}

# --- limits ---------------------------------------------------------------------------------------------------
PREPARING_RETRY_SECONDS: Final = 5  # `retryAfter` of scene_preparing (and the HTTP Retry-After of the scene)
MAX_MESSAGE_BYTES: Final = 4096  # any message, text or binary
MAX_CHAT_LENGTH: Final = 500  # characters after trimming, one line
NAME_MAX_LENGTH: Final = 32  # characters after trimming
NAME_DEFAULT: Final = "Guest"
NAME_PATTERN: Final = re.compile(r"[\w .,'()\-]{1,32}")  # full match of the trimmed name (\w: Unicode)
SCENE_ID_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # full match
INSTANCE_MIN: Final = 1
INSTANCE_MAX: Final = 64
TICK_HZ_MIN: Final = 1  # tick rate range (a float setting; `welcome.tickHz` is a JSON number)
TICK_HZ_MAX: Final = 60
MAX_AVATARS_PER_FRAME: Final = 48
POSE_RATE_PER_TICK: Final = 2  # poses: rate = 2 × tickHz per second ...
POSE_BURST_TICKS: Final = 4  # ... burst = 4 × tickHz
CONTROL_RATE: Final = 10  # text messages per second
CONTROL_BURST: Final = 20
CHAT_RATE: Final = 0.5  # chat lines per second (over the limit: an `error` chat_rate_limited, no close)
CHAT_BURST: Final = 5
HELLO_TIMEOUT_S: Final = 10.0  # hello must arrive within this many seconds of the upgrade
PING_INTERVAL_S: Final = 10.0  # the server pings this often ...
PONG_TIMEOUT_S: Final = 5.0  # ... and drops a client whose pong is later than this (leave reason "timeout")
MAX_JOINS_PER_ADDRESS: Final = 20  # open /ws connections per client address (loopback exempt)

LIMITS: Final = (
    "MAX_MESSAGE_BYTES", "MAX_CHAT_LENGTH", "NAME_MAX_LENGTH", "INSTANCE_MIN", "INSTANCE_MAX", "TICK_HZ_MIN",
    "TICK_HZ_MAX", "MAX_AVATARS_PER_FRAME", "POSE_RATE_PER_TICK", "POSE_BURST_TICKS", "CONTROL_RATE",
    "CONTROL_BURST", "CHAT_RATE", "CHAT_BURST", "HELLO_TIMEOUT_S", "PING_INTERVAL_S", "PONG_TIMEOUT_S",
    "MAX_JOINS_PER_ADDRESS", "PREPARING_RETRY_SECONDS",
)
"""The numeric limits docs/protocol.md lists in its Limits table (checked both ways by a test)."""


def valid_name(raw: str | None) -> str | None:
    """The trimmed display name when it follows the name rule, else None (the client's `validName`)."""
    if raw is None:
        return None
    name = raw.strip()
    return name if NAME_PATTERN.fullmatch(name) else None
