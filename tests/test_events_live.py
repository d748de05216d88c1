"""The live stream of a meeting (GET /api/events/{id}/live, Server-Sent Events; docs/events.md): the snapshot on
connect, every live message after it, a removed resident's stream closed by the server, a floor ended by the hub's
timer without any write, keep-alive comments, a listener too slow to keep up dropped, one bus subscription per
event per process."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from server.events import live
from server.events.live import Listener
from server.keys import BUS, EVENT_HUB, EVENTS

from .test_events_api import Person, new_event, people, resident  # noqa: F401  (people: a fixture)


class Stream:
    """An SSE client reading one stream: `next(kind)` -> the next message of that kind (others are kept)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.seen: list[tuple[str, dict[str, Any], str | None]] = []
        self.comments: list[str] = []

    async def message(self, timeout: float = 5.0) -> tuple[str, dict[str, Any], str | None] | None:
        """The next message, or None at the end of the stream."""
        kind, data, event_id = "message", "", None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    return None
                line = raw.decode().rstrip("\n")
                if line == "":
                    if data:
                        message = (kind, json.loads(data), event_id)
                        self.seen.append(message)
                        return message
                    continue
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "":
                    self.comments.append(value)
                elif field == "event":
                    kind = value
                elif field == "data":
                    data += value
                elif field == "id":
                    event_id = value

    async def next(self, kind: str, timeout: float = 5.0, where: Any = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = await self.message(max(0.01, deadline - time.monotonic()))
            assert message is not None, f"the stream ended before a {kind}"
            if message[0] == kind and (where is None or where(message[1])):
                return message[1]

    async def ended(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while await self.message(max(0.01, deadline - time.monotonic())) is not None:
            pass
        return True


async def listen(person: Person, event_id: int) -> Stream:
    response = await person.session.get(f"{person.base}/api/events/{event_id}/live")
    assert response.status == 200, await response.text()
    return Stream(response)


async def test_a_listener_gets_the_snapshot_then_every_live_message(people, tiny_client):  # noqa: F811
    event_id, host = await new_event(people, "live")
    cap, chair, mo = await people("cap"), await people("chloe"), await people("mo", "moderator")
    for n in range(3):
        await cap.post(f"/api/events/{event_id}/captions", {"text": f"line {n}"})
    ann, ann_handle = await resident(people, event_id)
    await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "hello all"})
    stream = await listen(ann, event_id)
    assert stream.response.headers["Content-Type"].startswith("text/event-stream")
    assert stream.response.headers["Cache-Control"] == "no-store"
    state = await stream.next("state")
    assert stream.seen[0][0] == "state"  # first
    assert state["state"] == "live" and state["agenda"][1]["title"] == {"en": "Bike lanes"}
    assert state["floor"] is None and state["hands"] == [] and state["questions"] == [] and state["pending"] == 0
    captions = [await stream.next("caption") for _ in range(3)]
    assert [c["text"] for c in captions] == ["line 0", "line 1", "line 2"]
    assert [m[2] for m in stream.seen[1:4]] == [str(c["id"]) for c in captions]  # `id:` on captions
    chat = await stream.next("chat")
    assert chat["text"] == "hello all" and chat["handle"] == ann_handle

    _, line = await cap.post(f"/api/events/{event_id}/captions", {"text": "live now"})
    assert (await stream.next("caption")) == line
    await chair.post(f"/api/events/{event_id}/item", {"index": 1})
    assert (await stream.next("state"))["currentItem"] == 1
    await ann.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Ann", "topic": "Trees"})
    assert (await stream.next("state"))["hands"] == [{"handle": ann_handle, "name": "Ann", "topic": "Trees"}]
    _, question = await ann.post(f"/api/events/{event_id}/questions", {"name": "Ann", "text": "When?"})
    state = await stream.next("state")
    assert state["pending"] == 1 and state["questions"] == []  # pending questions are never public
    await mo.post(f"/api/events/{event_id}/questions/{question['id']}/review", {"state": "approved"})
    assert (await stream.next("state"))["questions"][0]["text"] == "When?"
    _, said = await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "oops"})
    await mo.call("DELETE", f"/api/events/{event_id}/chat/{said['id']}")
    assert (await stream.next("chat_deleted")) == {"id": said["id"]}
    await mo.post(f"/api/events/{event_id}/moderation", {"action": "mute", "handle": "b" * 12})
    assert (await stream.next("restrictions")) == {"muted": ["b" * 12], "banned": []}
    async with host.session.post(f"{host.base}/api/events/{event_id}/slides", headers=host.headers(),
                                 data=_form()) as response:
        slide = await response.json()
    await chair.post(f"/api/events/{event_id}/slide", {"slideId": slide["id"]})
    assert (await stream.next("state"))["slide"] == slide
    stream.response.close()


def _form() -> aiohttp.FormData:
    from .test_events_api import png, slide_form

    return slide_form(png())


async def test_the_snapshot_holds_the_last_100_captions_and_50_chat_lines(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    store = tiny_client.server.app[EVENTS].store
    for n in range(105):
        await store.add_caption(event_id, f"c{n}", 1000.0 + n, "cap")
    for n in range(55):
        await store.add_chat(event_id, "a" * 12, "Ann", f"m{n}", 1000.0 + n)
    ann, _ = await resident(people, event_id)
    stream = await listen(ann, event_id)
    await stream.next("state")
    captions = [await stream.next("caption") for _ in range(100)]
    chat = [await stream.next("chat") for _ in range(50)]
    assert captions[0]["text"] == "c5" and captions[-1]["text"] == "c104"
    assert chat[0]["text"] == "m5" and chat[-1]["text"] == "m54"
    stream.response.close()


async def test_a_removed_resident_stream_is_closed_and_a_banned_one_cannot_reconnect(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    ann, ann_handle = await resident(people, event_id)
    bea, _ = await resident(people, event_id)
    ann_stream, bea_stream = await listen(ann, event_id), await listen(bea, event_id)
    await ann_stream.next("state")
    await bea_stream.next("state")
    mo = await people("mo", "moderator")
    await mo.post(f"/api/events/{event_id}/moderation", {"action": "remove", "handle": ann_handle})
    assert (await ann_stream.next("removed")) == {"handle": ann_handle, "banned": False}
    assert await ann_stream.ended()
    assert (await bea_stream.next("removed"))["handle"] == ann_handle  # others hear it; their stream stays
    again = await listen(ann, event_id)  # removed, not banned: may come back
    await again.next("state")
    await mo.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": ann_handle})
    assert (await again.next("removed")) == {"handle": ann_handle, "banned": True}
    assert await again.ended()
    async with ann.session.get(f"{ann.base}/api/events/{event_id}/live") as response:
        assert response.status == 403 and (await response.json())["error"]["code"] == "banned"
    await mo.post(f"/api/events/{event_id}/item", {"index": 0})  # a moderator is not chair: refused
    await bea_stream.next("restrictions", where=lambda r: r["banned"] == [ann_handle])
    bea_stream.response.close()


async def test_the_hub_ends_a_floor_at_its_time_without_any_write(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    ann, handle = await resident(people, event_id)
    stream = await listen(ann, event_id)
    await stream.next("state")
    service = tiny_client.server.app[EVENTS]
    chair = await people("chloe")
    await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "name": "Ann", "seconds": 30})
    assert (await stream.next("state"))["floor"]["handle"] == handle
    service.clock = lambda: time.time() + 29.6  # 0.4 s before its end
    bea, _ = await resident(people, event_id)
    await bea.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Bea"})  # re-arms the hub's timer
    assert (await stream.next("state"))["floor"] is not None
    started = time.monotonic()
    ended = await stream.next("state", timeout=5.0)
    assert ended["floor"] is None and time.monotonic() - started < 3
    stream.response.close()


async def test_keep_alive_comments_flow_while_nothing_happens(people, monkeypatch):  # noqa: F811
    monkeypatch.setattr(live, "KEEP_ALIVE", 0.2)
    event_id, _ = await new_event(people, "open")
    ann, _ = await resident(people, event_id)
    stream = await listen(ann, event_id)
    await stream.next("state")
    with pytest.raises(TimeoutError):
        await stream.message(timeout=0.7)
    assert stream.comments.count("keep-alive") >= 2
    stream.response.close()


async def test_one_bus_subscription_per_event_and_none_once_everyone_left(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    app = tiny_client.server.app
    streams = []
    for _ in range(3):
        person, _ = await resident(people, event_id)
        streams.append(await listen(person, event_id))
        await streams[-1].next("state")
    topic = f"event:{event_id}"
    assert app[EVENT_HUB].listeners(event_id) == 3
    assert len(app[BUS].pubsub.hub.subscriptions[topic]) == 1  # type: ignore[attr-defined]
    for stream in streams:
        stream.response.close()
    async with asyncio.timeout(20):  # noticed at the next write to the closed connections (keep-alive)
        while app[EVENT_HUB].listeners(event_id):
            await app[EVENTS].publish(event_id, "caption", {"id": 0, "at": 0, "text": "ping"})
            await asyncio.sleep(0.1)
    assert topic not in app[BUS].pubsub.hub.subscriptions  # type: ignore[attr-defined]


async def test_a_listener_that_cannot_keep_up_is_dropped_not_buffered(monkeypatch):
    monkeypatch.setattr(live, "QUEUE", 5)
    listener = Listener("a" * 12)
    for n in range(5):
        listener.send(b"frame %d" % n)
    assert not listener.closed
    listener.send(b"one too many")
    assert listener.closed and listener.queue.qsize() == 1 and listener.queue.get_nowait() == b""
    listener.send(b"after")  # nothing more is queued for a closed listener
    assert listener.queue.empty()


async def test_a_slow_listener_is_disconnected_from_a_real_stream(people, tiny_client, monkeypatch):  # noqa: F811
    monkeypatch.setattr(live, "QUEUE", 3)
    event_id, _ = await new_event(people, "live")
    ann, handle = await resident(people, event_id)
    stream = await listen(ann, event_id)
    await stream.next("state")
    hub = tiny_client.server.app[EVENT_HUB]
    found = hub.topics[event_id]
    for n in range(10):  # delivered synchronously, faster than the handler can drain: the queue overflows
        hub._deliver(found, {"type": "caption", "id": n, "at": 0, "text": f"burst {n}"})
    assert await stream.ended()


async def test_head_of_the_stream_answers_at_once_without_a_stream(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    ann, _ = await resident(people, event_id)
    async with asyncio.timeout(3):
        async with ann.session.head(f"{ann.base}/api/events/{event_id}/live") as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")


async def test_deleting_a_meeting_ends_its_streams(people):  # noqa: F811
    event_id, host = await new_event(people, "live")
    ann, _ = await resident(people, event_id)
    stream = await listen(ann, event_id)
    version = (await stream.next("state")) and (await host.get(f"/api/events/{event_id}"))[1]["version"]
    assert (await host.call("DELETE", f"/api/events/{event_id}?version={version}"))[0] == 200
    assert (await stream.next("deleted")) == {"id": event_id}
    assert await stream.ended()
    assert (await ann.get(f"/api/events/{event_id}/live"))[0] == 404
