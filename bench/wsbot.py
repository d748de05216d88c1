"""A lean WebSocket client for load generators: one asyncio protocol per bot, no task, no message objects.

The generator must cost less than the server it measures, on its own core, for a thousand bots at 20 Hz: a
general client library parses every incoming frame into an object (the websockets sans-I/O parser took most of
the generator's core). Here the upgrade is one request, incoming frames are skipped by their length (pings are
answered, text frames handed to `on_text` during the handshake phase only, when asked) and outgoing frames are
built with a zero mask (RFC 6455 asks for a masking key; its value only matters against proxies, which a
loopback benchmark has none of). Server-to-client frames are unmasked and never fragmented by the servers
benchmarked here. For benchmarks only: the servers' own clients use real libraries.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from urllib.parse import urlsplit

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA

def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked (zero key) final frame."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload

class LeanBot(asyncio.Protocol):
    """Connect with `open()`; `messages` (text and binary payloads) are kept until `keep` is turned off, then
    every frame is skipped except pings, which are answered."""

    def __init__(self, url: str, origin: str | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.origin = origin or f"http://{self.host}:{self.port}"
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.keep = True  # keep payloads in `messages` (handshake phase)
        self.messages: list[tuple[int, bytes]] = []
        self.arrived: asyncio.Event = asyncio.Event()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.received = 0  # bytes

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, self.host, self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        assert self.transport is not None
        self.transport.write((
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {self.origin}\r\n\r\n").encode())
        while not self.upgraded:
            await self.next_message_or_upgrade()

    async def next_message_or_upgrade(self) -> None:
        if self.closed.done():
            raise ConnectionError("closed")
        self.arrived.clear()
        waiter = asyncio.ensure_future(self.arrived.wait())
        await asyncio.wait([waiter, self.closed], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not self.arrived.is_set():
            raise ConnectionError("closed or timed out during the handshake")

    async def receive(self) -> tuple[int, bytes]:
        """The next kept message (opcode, payload)."""
        while not self.messages:
            await self.next_message_or_upgrade()
        return self.messages.pop(0)

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(opcode, payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # --- asyncio.Protocol -----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport) or hasattr(transport, "write")
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(bytes(buffer[:end]).decode(errors="replace"))
            del buffer[:end + 4]
            self.upgraded = True
            self.arrived.set()
        start, size = 0, len(buffer)
        while size - start >= 2:
            opcode, length = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            at = start + 2
            if length == 126:
                if size - at < 2:
                    break
                length, at = int.from_bytes(buffer[at:at + 2], "big"), at + 2
            elif length == 127:
                if size - at < 8:
                    break
                length, at = int.from_bytes(buffer[at:at + 8], "big"), at + 8
            if size - at < length:
                break
            if opcode == PING:
                self.send(PONG, bytes(buffer[at:at + length]))
            elif opcode == CLOSE:
                self.close()
            elif self.keep:
                self.messages.append((opcode, bytes(buffer[at:at + length])))
                self.arrived.set()
            start = at + length
        if start:
            del buffer[:start]

OnText = Callable[[bytes], None]
