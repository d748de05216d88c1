"""The realtime endpoint against hostile or unlucky clients: sizes at the limit, deep JSON, invisible control
text, ping floods, clients that never read, aborted upgrades, missing Origin, too many sockets per address."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct

import aiohttp
import pytest

from server.app import create_app
from server.codec import encode_pose

from .conftest import tiny_manifest, write_world
from .test_realtime import closed_with, hello, next_frame_with, next_json, same_origin


async def welcomed(client, name=None, **extra):  # type: ignore[no-untyped-def]
    ws = await hello(client, name=name, **extra)
    return ws, (await next_json(ws, "welcome"))["id"]


def padded(message: dict[str, object], size: int) -> str:
    """`message` as JSON followed by spaces up to exactly `size` bytes (still valid JSON)."""
    text = json.dumps(message)
    return text + " " * (size - len(text.encode()))


async def test_a_message_of_exactly_4096_bytes_is_accepted(tiny_client):
    ann, _ = await welcomed(tiny_client, "Ann")
    message = padded({"type": "chat", "text": "at the limit"}, 4096)
    assert len(message.encode()) == 4096
    await ann.send_str(message)
    assert (await next_json(ann, "chat"))["text"] == "at the limit"


async def test_a_message_of_4097_bytes_is_closed_with_1009(tiny_client):
    ann, _ = await welcomed(tiny_client, "Ann")
    await ann.send_str(padded({"type": "chat", "text": "over the limit"}, 4097))
    assert await closed_with(ann) == 1009


async def test_deeply_nested_json_is_a_bad_message_without_a_traceback(tiny_client, caplog):
    ann, _ = await welcomed(tiny_client, "Ann")
    await ann.send_str("[" * 2000 + "]" * 2000)
    error = await next_json(ann, "error")
    assert error["code"] == "bad_message" and "nest" in error["message"]
    assert await closed_with(ann) == 4001
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_chat_is_stripped_of_controls_bidi_overrides_and_separators(tiny_client):
    ann, _ = await welcomed(tiny_client, "Ann")
    bea, _ = await welcomed(tiny_client, "Bea")
    sneaky = "a\u202eb\u2066c\u2069d\u0007e\u0085f\u2028g\u2029h\u202ai\tj\x00k"
    await ann.send_str(json.dumps({"type": "chat", "text": sneaky}))
    assert (await next_json(bea, "chat"))["text"] == "abcdefghijk"


async def test_a_chat_line_of_only_control_characters_is_a_bad_message(tiny_client):
    ann, _ = await welcomed(tiny_client, "Ann")
    await ann.send_str(json.dumps({"type": "chat", "text": "\u202e\u2066\x07"}))
    assert await closed_with(ann) == 4001


async def test_names_are_stripped_of_controls_and_bidi_overrides(tiny_client):
    ann = await hello(tiny_client, name="\u202eAnn\u2069")
    assert (await next_json(ann, "welcome"))["name"] == "Ann"
    await ann.send_str(json.dumps({"type": "rename", "name": "Ann\u2066\x1b B."}))
    assert (await next_json(ann, "rename"))["name"] == "Ann B."


async def test_a_full_last_instance_says_full_instead_of_pointing_at_itself(aiohttp_client, tmp_path):
    from server.config import ROOT, Config

    scenes, assets = write_world(tmp_path, {"tiny": tiny_manifest(capacity=1)})
    config = Config(data_dir=tmp_path / "data", scenes_dir=scenes, assets_dir=assets, web_dir=ROOT / "web",
                    optimize=False)
    client = await aiohttp_client(create_app(config))
    await welcomed(client, instance=64)
    late = await hello(client, instance=64)
    error = await next_json(late, "error")
    assert error["code"] == "room_full" and "overflow" not in error
    assert "full" in error["message"]
    assert await closed_with(late) == 4003


async def test_a_websocket_upgrade_without_origin_is_refused(tiny_client):
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await tiny_client.ws_connect("/ws")
    assert caught.value.status == 403
    response = await tiny_client.get("/ws", headers={"Connection": "Upgrade", "Upgrade": "websocket",
                                                     "Sec-WebSocket-Version": "13",
                                                     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert (await response.json())["error"]["code"] == "origin_required"


async def test_an_aborted_upgrade_is_logged_at_info_without_a_traceback(tiny_client, caplog):
    caplog.set_level(logging.INFO)
    host, port = tiny_client.server.host, tiny_client.server.port
    request = (f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    for _ in range(5):
        _, writer = await asyncio.open_connection(host, port)
        # Reset the connection as soon as the request is out (SO_LINGER 0: RST, not FIN).
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.write(request)
        await writer.drain()
        writer.close()
    await asyncio.sleep(0.5)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    ws, _ = await welcomed(tiny_client, "Still fine")


async def test_joins_per_address_are_capped_with_4029(tiny_client, monkeypatch):
    import server.realtime

    monkeypatch.setattr(server.realtime, "CAP_EXEMPT", ())
    monkeypatch.setattr(server.realtime, "MAX_JOINS_PER_ADDRESS", 2)
    first, _ = await welcomed(tiny_client, "One")
    await welcomed(tiny_client, "Two")
    third = await tiny_client.ws_connect("/ws", headers=same_origin(tiny_client))
    error = await next_json(third, "error")
    assert error["code"] == "too_many_connections"
    assert await closed_with(third) == 4029
    await first.close()
    async with asyncio.timeout(3):
        while True:  # the server notices the first one left, then has room again
            again = await hello(tiny_client, name="Three")
            message = await again.receive()
            if message.type == aiohttp.WSMsgType.TEXT and json.loads(message.data)["type"] == "welcome":
                break
            await asyncio.sleep(0.05)


async def test_loopback_is_not_capped(tiny_client, monkeypatch):
    """The load generator, the tests and a same-host proxy connect from loopback."""
    import server.realtime

    monkeypatch.setattr(server.realtime, "MAX_JOINS_PER_ADDRESS", 1)
    await welcomed(tiny_client, "One")
    await welcomed(tiny_client, "Two")


async def test_a_ping_flood_is_closed_with_4008_and_others_keep_their_frames(tiny_client):
    walker, walker_id = await welcomed(tiny_client, "Walker")
    flooder, _ = await welcomed(tiny_client, "Flooder")
    for _ in range(200):
        await flooder.ping()
    assert await closed_with(flooder) == 4008
    await walker.send_bytes(encode_pose(11, 2, 3, 4, 5))
    assert (await next_frame_with(walker, walker_id))["x"] == 11


async def test_pings_from_a_client_are_answered(tiny_client):
    ws = await tiny_client.ws_connect("/ws", headers=same_origin(tiny_client), autoping=False)
    await ws.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "tiny"}))
    await next_json(ws, "welcome")
    await ws.ping(b"are you there")
    async with asyncio.timeout(3):
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.PONG:
                assert message.data == b"are you there"
                break


@pytest.fixture
def quick_pings(monkeypatch):  # type: ignore[no-untyped-def]
    from server.outbound import Outbound

    monkeypatch.setattr(Outbound, "ping_every", 0.2)
    monkeypatch.setattr(Outbound, "pong_timeout", 0.4)


async def test_a_client_that_sends_but_never_reads_is_dropped(tiny_client, quick_pings):
    watcher, _ = await welcomed(tiny_client, "Watcher")
    mute, mute_id = await welcomed(tiny_client, "Mute")

    async def keep_walking() -> None:  # poses all the time, and never a read (so never a pong)
        while True:
            await mute.send_bytes(encode_pose(1, 2, 3, 4, 5))
            await asyncio.sleep(0.05)

    walking = asyncio.ensure_future(keep_walking())
    try:
        left = await next_json(watcher, "leave", timeout=5, where=lambda e: e["id"] == mute_id)
    finally:
        walking.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await walking
    assert left["reason"] == "timeout"


async def test_a_client_that_answers_pings_stays(tiny_client, quick_pings):
    ws, my_id = await welcomed(tiny_client, "Reader")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.5):  # several pings, answered because the client keeps reading
            while True:
                assert (await ws.receive()).type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY)
    await ws.send_bytes(encode_pose(9, 2, 3, 4, 5))
    async with asyncio.timeout(3):
        while (await next_frame_with(ws, my_id))["x"] != 9:
            pass
