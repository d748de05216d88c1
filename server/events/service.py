"""Running public meetings: every write about an event goes through `EventService` (docs/events.md).

For each action, in this order: the event exists (404 `event_not_found`); the caller may do it — staff by their
role and their duty in this event (chair, moderator, captioner; hosts and admins), residents unless banned; the
state machine allows it; the store commits it (with its audit entry, actor = staff username); then the change is
published on the bus topic `event:<id>` (`local=True`: this process's own listeners hear it too), which the live
hubs of every process fan out to their SSE listeners.

Invariants: only forward transitions (scheduled→open→live→ended→archived, and scheduled→live); a moderator who
is not chair never grants the floor; a banned handle neither reads the live stream nor writes; a floor whose
`until` passed is ended by whichever read or write sees it first (and by the hub's timer); the public JSON never
holds staff usernames, and the public stream never holds a pending question.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..bus import Bus
from ..catalog import Catalog
from ..errors import ApiError
from ..ratelimit import KeyedLimiter
from ..services.places import Places
from ..store import Staff, Store
from .slides import MEDIA_TYPE, SlideFiles

FORWARD = {("scheduled", "open"), ("scheduled", "live"), ("open", "live"), ("live", "ended"),
           ("ended", "archived")}
ATTENDING = ("open", "live")
PUBLIC_QUESTIONS = ("approved", "answering", "answered")
CHAIR, MODERATE, CAPTION, SLIDES = {"chair"}, {"moderator", "chair"}, {"captioner", "chair"}, {"host", "chair"}
CAPTION_SNAPSHOT, CHAT_SNAPSHOT = 100, 50
SLOW_MODE_KEYS = 50_000
WRITES_PER_SECOND, WRITE_BURST = 0.5, 15  # a resident's hands, questions, supports and chat lines together
SYSTEM = "system"  # the actor of what the server does by itself (a floor that ran out)
FIELDS = {"startsAt": "starts_at", "endsAt": "ends_at"}  # JSON -> store column, where they differ


def topic(event_id: int) -> str:
    return f"event:{event_id}"


def not_found() -> ApiError:
    return ApiError(404, "event_not_found", "There is no event with this id.")


def duties_of(event: dict[str, Any], staff: Staff) -> set[str]:
    """What this staff member may do in this event: their duties, `host` for hosts, everything for admins."""
    duties = {duty for duty, names in (event.get("staff") or {}).items() if staff.username in names}
    if staff.role in ("host", "admin"):
        duties.add("host")
    if staff.role == "admin":
        duties |= {"chair", "moderator", "captioner"}
    return duties


def require_duty(event: dict[str, Any], staff: Staff, allowed: set[str], what: str) -> None:
    if not duties_of(event, staff) & allowed:
        raise ApiError(403, "forbidden", f"Only the event's {what} may do this.")


def require_host(staff: Staff) -> None:
    if staff.role not in ("host", "admin"):
        raise ApiError(403, "forbidden", "This needs the host role.")


def _text(texts: dict[str, str]) -> dict[str, str]:
    return dict(texts or {})


def slide_json(slide: dict[str, Any]) -> dict[str, Any]:
    return {"id": slide["id"], "url": f"/api/events/{slide['event_id']}/slides/{slide['id']}",
            "alt": _text(slide["alt"]), "width": slide["width"], "height": slide["height"]}


def floor_json(floor: dict[str, Any] | None) -> dict[str, Any] | None:
    if not floor:
        return None
    return {"handle": floor["handle"], "name": floor["name"], "until": floor["until"], "seconds": floor["seconds"]}


def agenda_json(agenda: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"title": _text(item.get("title", {})), "description": _text(item.get("description", {})),
             "documents": list(item.get("documents") or []), "ref": item.get("ref")} for item in agenda or []]


def published(event: dict[str, Any]) -> bool:
    return event["state"] in ("ended", "archived")


def summary_json(event: dict[str, Any]) -> dict[str, Any]:
    event_id = event["id"]
    transcript = ({"vtt": f"/events/{event_id}/transcript.vtt", "txt": f"/events/{event_id}/transcript.txt"}
                  if published(event) else None)
    return {"id": event_id, "scene": event["scene"], "zone": event.get("zone"), "title": _text(event["title"]),
            "description": _text(event.get("description") or {}), "startsAt": event["starts_at"],
            "endsAt": event.get("ends_at"), "timezone": event["timezone"], "state": event["state"],
            "url": f"/events/{event_id}", "ics": f"/events/{event_id}/event.ics", "transcript": transcript}


def recording_json(event_id: int, part: int, recording: dict[str, Any]) -> dict[str, Any]:
    """A published recording (server/events/recording.py): the first is /recording.ogg, later ones ?part=N."""
    url = f"/events/{event_id}/recording.ogg" + (f"?part={part}" if part > 1 else "")
    return {"url": url, "startedAt": recording["started_at"], "seconds": round(recording["seconds"], 3),
            "bytes": recording["bytes"]}


def event_json(event: dict[str, Any], slides: list[dict[str, Any]],
               recordings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The public event: no staff usernames. `recordings`: its stored ones, listed once the meeting ended."""
    shown = next((s for s in slides if s["id"] == event.get("slide_id")), None)
    stored = [r for r in recordings or [] if r["stored"]] if published(event) else []
    return {**summary_json(event), "capacity": event["capacity"], "agenda": agenda_json(event.get("agenda") or []),
            "currentItem": event.get("current_item"), "slide": slide_json(shown) if shown else None,
            "slides": [slide_json(s) for s in slides], "floor": floor_json(event.get("floor")),
            "slowMode": event.get("slow_mode") or 0, "startedAt": event.get("started_at"),
            "endedAt": event.get("ended_at"), "source": event.get("source"), "version": event["version"],
            "recording": bool(event.get("recording")),
            "recordings": [recording_json(event["id"], n, r) for n, r in enumerate(stored, 1)]}


def question_json(question: dict[str, Any], staff: bool = False) -> dict[str, Any]:
    shown = {"id": question["id"], "name": question["name"], "text": question["text"],
             "supports": question["supports"], "state": question["state"]}
    if staff:
        shown.update(handle=question["handle"], createdAt=question["created_at"])
    return shown


def chat_json(line: dict[str, Any]) -> dict[str, Any]:
    return {"id": line["id"], "handle": line["handle"], "name": line["name"], "text": line["text"], "at": line["at"]}


def caption_json(caption: dict[str, Any]) -> dict[str, Any]:
    return {"id": caption["id"], "at": caption["at"], "text": caption["text"]}


def hand_json(hand: dict[str, Any]) -> dict[str, Any]:
    return {"handle": hand["handle"], "name": hand["name"], "topic": hand.get("topic")}


@dataclass
class EventService:
    """The one way to change an event (see the module docstring). `clock` is injectable for tests."""

    store: Store
    bus: Bus
    catalog: Catalog
    slide_files: SlideFiles
    clock: Callable[[], float] = time.time
    limiter: KeyedLimiter = field(default_factory=lambda: KeyedLimiter(rate=WRITES_PER_SECOND, burst=WRITE_BURST))
    _last_chat: OrderedDict[tuple[int, str], float] = field(default_factory=OrderedDict)

    # --- reading ----------------------------------------------------------------------------------------------

    async def event(self, event_id: int) -> dict[str, Any]:
        """The event, with a floor that ran out ended first; 404 when there is none."""
        event = await self.store.event(event_id)
        if event is None:
            raise not_found()
        floor = event.get("floor")
        if floor and floor["until"] <= self.clock():
            ended = await self._set_live(event, {"floor": None}, SYSTEM, "event.floor_ended")
            event = ended or event
        return event

    async def expire_floor(self, event_id: int) -> None:
        """Called by the hub's timer when a floor's `until` came: ends it if nobody did (idempotent)."""
        try:
            await self.event(event_id)
        except ApiError:
            return

    async def events(self, when: str) -> list[dict[str, Any]]:
        states = {"upcoming": ("scheduled", "open"), "live": ("live",), "past": ("ended", "archived"),
                  "all": ("scheduled", "open", "live", "ended", "archived")}[when]
        rows = await self.store.events()
        return [row for row in rows if row["state"] in states]

    async def public(self, event_id: int) -> dict[str, Any]:
        return await self.public_row(await self.event(event_id))

    async def public_row(self, event: dict[str, Any]) -> dict[str, Any]:
        recordings = await self.store.recordings(event["id"]) if published(event) else []
        return event_json(event, await self.store.slides(event["id"]), recordings)

    async def state_message(self, event: dict[str, Any]) -> dict[str, Any]:
        """The `state` message of the live stream: the whole live state, small."""
        store = self.store
        event_id = event["id"]
        slide = await store.slide(event["slide_id"]) if event.get("slide_id") else None
        questions = await store.questions(event_id, PUBLIC_QUESTIONS)
        pending = await store.questions(event_id, ("pending",))
        agenda = [{k: v for k, v in item.items() if k != "ref"} for item in agenda_json(event.get("agenda") or [])]
        return {"id": event_id, "state": event["state"], "title": _text(event["title"]),
                "currentItem": event.get("current_item"), "agenda": agenda,
                "slide": slide_json(slide) if slide else None, "floor": floor_json(event.get("floor")),
                "hands": [hand_json(h) for h in await store.hands(event_id)],
                "questions": [question_json(q) for q in questions], "slowMode": event.get("slow_mode") or 0,
                "pending": len(pending), "recording": bool(event.get("recording")), "now": self.clock()}

    async def snapshot(self, event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """What a new listener gets first: the state, the last captions, the last chat lines (oldest first)."""
        store = self.store
        captions = await store.captions(event["id"], limit=CAPTION_SNAPSHOT)
        chat = await store.chat(event["id"], limit=CHAT_SNAPSHOT)
        return ([("state", await self.state_message(event))]
                + [("caption", caption_json(c)) for c in captions]
                + [("chat", chat_json(line)) for line in chat])

    async def staff_view(self, event_id: int, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        duties = duties_of(event, staff)
        if not duties:
            raise ApiError(403, "forbidden", "Only the event's staff may see this.")
        store = self.store
        restricted = await store.restrictions(event_id)
        questions = await store.questions(event_id)  # every state: a rejected one may be approved after all
        duty_names = {d: list((event.get("staff") or {}).get(d, [])) for d in ("chair", "moderator", "captioner")}
        return {**event_json(event, await store.slides(event_id)), "staff": duty_names,
                "duties": sorted(duties), "hands": [hand_json(h) for h in await store.hands(event_id)],
                "questions": [question_json(q, staff=True) for q in questions],
                "restrictions": {"muted": sorted(restricted.get("mute", ())),
                                 "banned": sorted(restricted.get("ban", ()))},
                "chat": [chat_json(line) for line in await store.chat(event_id, limit=CHAT_SNAPSHOT)]}

    async def me(self, event_id: int, handle: str) -> dict[str, Any]:
        await self.event(event_id)
        store = self.store
        restricted = await store.restrictions(event_id)
        hands = [h["handle"] for h in await store.hands(event_id)]
        return {"handle": handle, "banned": handle in restricted.get("ban", set()),
                "muted": handle in restricted.get("mute", set()),
                "hand": hands.index(handle) + 1 if handle in hands else None}

    async def captions(self, event_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The event and its caption lines, once the transcript is published (ended or archived)."""
        event = await self.event(event_id)
        if not published(event):
            raise ApiError(404, "transcript_not_published", "The transcript is published once the meeting ended.")
        return event, await self.store.captions(event_id)

    # --- publishing ---------------------------------------------------------------------------------------------

    async def publish(self, event_id: int, kind: str, data: dict[str, Any]) -> None:
        await self.bus.pubsub.publish(topic(event_id), {"type": kind, **data}, local=True)

    async def publish_state(self, event_id: int) -> None:
        event = await self.store.event(event_id)
        if event is not None:
            await self.publish(event_id, "state", await self.state_message(event))

    async def publish_restrictions(self, event_id: int) -> None:
        restricted = await self.store.restrictions(event_id)
        await self.publish(event_id, "restrictions", {"muted": sorted(restricted.get("mute", ())),
                                                      "banned": sorted(restricted.get("ban", ()))})

    async def _set_live(self, event: dict[str, Any], fields: dict[str, Any], actor: str,
                        action: str) -> dict[str, Any] | None:
        changed = await self.store.set_event_live(event["id"], fields, actor, action)
        if changed is not None:
            await self.publish(event["id"], "state", await self.state_message(changed))
        return changed

    # --- staff: the event itself (hosts) -------------------------------------------------------------------------

    async def _check_place(self, scene: str, zone: str | None) -> None:
        """The scene exists and the zone is one of its zones: the manifest's or one staff made in the editor."""
        if self.catalog.scenes.get(scene) is None:
            raise ApiError(422, "invalid_field", "scene: there is no scene with this id")
        if zone is not None:
            zones, _ = await Places(self.store, self.catalog).merged(scene)
            if zone not in {z["id"] for z in zones}:
                raise ApiError(422, "invalid_field", "zone: the scene has no zone with this id")

    async def _check_duties(self, duties: dict[str, list[str]] | None) -> None:
        if not duties:
            return
        known = {row["username"] for row in await self.store.list_staff()}
        unknown = sorted({name for names in duties.values() for name in names} - known)
        if unknown:
            raise ApiError(422, "invalid_field", f"staff: no staff member is called {unknown[0]}")

    @staticmethod
    def _columns(given: dict[str, Any]) -> dict[str, Any]:
        return {FIELDS.get(name, name): value for name, value in given.items()}

    @staticmethod
    def _check_times(fields: dict[str, Any]) -> None:
        if fields.get("ends_at") is not None and fields["ends_at"] < fields["starts_at"]:
            raise ApiError(422, "invalid_field", "endsAt: must not be before startsAt")

    async def create(self, given: dict[str, Any], staff: Staff) -> dict[str, Any]:
        require_host(staff)
        fields = self._columns(given)
        await self._check_place(fields["scene"], fields.get("zone"))
        self._check_times(fields)
        await self._check_duties(fields.get("staff"))
        created = await self.store.create_event(fields, staff.username)
        return event_json(created, [])

    async def update(self, event_id: int, version: int, given: dict[str, Any], staff: Staff) -> dict[str, Any]:
        require_host(staff)
        event = await self.event(event_id)
        fields = self._columns(given)
        await self._check_place(fields.get("scene", event["scene"]),
                          fields["zone"] if "zone" in fields else event.get("zone"))
        self._check_times({"starts_at": event["starts_at"], "ends_at": event.get("ends_at"), **fields})
        await self._check_duties(fields.get("staff"))
        updated = await self.store.update_event(event_id, version, fields, staff.username)
        if updated is None:
            raise not_found()
        await self.publish(event_id, "state", await self.state_message(updated))
        return event_json(updated, await self.store.slides(event_id))

    async def delete(self, event_id: int, version: int, staff: Staff) -> dict[str, Any]:
        require_host(staff)
        deleted = await self.store.delete_event(event_id, version, staff.username)
        if deleted is None:
            raise not_found()
        await self.publish(event_id, "deleted", {"id": event_id})  # the hubs end its streams
        return event_json(deleted, [])

    # --- staff: running the meeting (chair) -----------------------------------------------------------------------

    async def move(self, event_id: int, to: str, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CHAIR, "chair")
        if (event["state"], to) not in FORWARD:
            raise ApiError(409, "bad_transition", f"A meeting that is {event['state']} cannot become {to}.")
        fields: dict[str, Any] = {"state": to}  # the store sets started_at / ended_at on the way
        if to == "ended":
            fields["floor"] = None
        changed = await self._set_live(event, fields, staff.username, f"event.{_VERBS[to]}")
        if changed is None:
            raise not_found()
        if to == "ended":
            await self._clear_hands(event_id)
        elif to == "archived":
            await self._purge(event_id, staff)
        return event_json(changed, await self.store.slides(event_id))

    async def _purge(self, event_id: int, staff: Staff) -> None:
        """Archived: what the meeting kept about its attendees goes (chat, hands, bans, mutes, supports; questions
        keep no handle: docs/events.md, privacy). Every stream of it is then told to resync, so what listeners
        hold is read again without the chat."""
        await self.store.purge_event_attendees(event_id, staff.username)
        await self.publish(event_id, "resync", {})

    async def _clear_hands(self, event_id: int) -> None:
        """A meeting that ended has no queue: hands are not kept past it (docs/events.md, privacy)."""
        store = self.store
        hands = await store.hands(event_id)
        for hand in hands:
            await store.lower_hand(event_id, hand["handle"])
        if hands:
            await self.publish_state(event_id)

    async def item(self, event_id: int, index: int | None, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CHAIR, "chair")
        if index is not None and index >= len(event.get("agenda") or []):
            raise ApiError(422, "invalid_field", "index: the agenda has no such item")
        return await self._live(event, {"current_item": index}, staff, "event.item")

    async def show_slide(self, event_id: int, slide_id: int | None, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CHAIR, "chair")
        if slide_id is not None:
            slide = await self.store.slide(slide_id)
            if slide is None or slide["event_id"] != event_id:
                raise ApiError(404, "slide_not_found", "This event has no slide with this id.")
        return await self._live(event, {"slide_id": slide_id}, staff, "event.slide")

    async def _live(self, event: dict[str, Any], fields: dict[str, Any], staff: Staff,
                    action: str) -> dict[str, Any]:
        if event["state"] in ("ended", "archived"):
            raise ApiError(409, "event_not_open", "The meeting has ended.")
        changed = await self._set_live(event, fields, staff.username, action)
        if changed is None:
            raise not_found()
        return event_json(changed, await self.store.slides(event["id"]))

    async def grant_floor(self, event_id: int, handle: str, seconds: int, name: str | None,
                          staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CHAIR, "chair")
        if event["state"] != "live":
            raise ApiError(409, "event_not_live", "The floor is given only while the meeting is live.")
        store = self.store
        if await store.is_restricted(event_id, handle, "ban"):
            raise ApiError(409, "banned", "This attendee is banned from the event.")
        hand = next((h for h in await store.hands(event_id) if h["handle"] == handle), None)
        if hand is None and name is None:
            raise ApiError(409, "not_in_queue", "This attendee has no raised hand; give their name to call them.")
        now = self.clock()
        floor = {"handle": handle, "name": hand["name"] if hand else name, "granted_at": now,
                 "seconds": seconds, "until": now + seconds}
        if hand is not None:
            await store.lower_hand(event_id, handle)
        return await self._live(event, {"floor": floor}, staff, "event.floor_grant")

    async def take_floor(self, event_id: int, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CHAIR, "chair")
        return await self._live(event, {"floor": None}, staff, "event.floor_take")

    # --- slides (hosts and chairs) --------------------------------------------------------------------------------

    async def add_slide(self, event_id: int, data: bytes, claimed_type: str, alt: dict[str, str],
                        staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, SLIDES, "host or chair")
        encoded = await self.slide_files.save(data, claimed_type)
        store = self.store
        slide = await store.add_slide(event_id, {"blob": encoded.name,
                                                 "media_type": MEDIA_TYPE, "width": encoded.width,
                                                 "height": encoded.height, "alt": alt}, staff.username)
        return slide_json(slide)

    async def delete_slide(self, event_id: int, slide_id: int, staff: Staff) -> None:
        event = await self.event(event_id)
        require_duty(event, staff, SLIDES, "host or chair")
        store = self.store
        slide = await store.slide(slide_id)
        if slide is None or slide["event_id"] != event_id:
            raise ApiError(404, "slide_not_found", "This event has no slide with this id.")
        await store.delete_slide(slide_id, staff.username)  # an event showing it shows none
        if event.get("slide_id") == slide_id:
            await self.publish_state(event_id)

    async def slide_image(self, event_id: int, slide_id: int) -> bytes:
        slide = await self.store.slide(slide_id)
        data = None
        if slide is not None and slide["event_id"] == event_id:
            data = await self.slide_files.read(slide["blob"])
        if data is None:
            raise ApiError(404, "slide_not_found", "This event has no slide with this id.")
        return data

    # --- questions ------------------------------------------------------------------------------------------------

    async def review(self, event_id: int, question_id: int, state: str, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, MODERATE, "moderators")
        question = await self._question(event_id, question_id)
        if question["state"] not in ("pending", "approved", "rejected"):
            raise ApiError(409, "bad_transition", "This question is being or was answered.")
        return await self._question_state(event_id, question_id, state, staff)

    async def answering(self, event_id: int, question_id: int, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CHAIR, "chair")
        question = await self._question(event_id, question_id)
        if question["state"] not in ("approved", "answered"):
            raise ApiError(409, "bad_transition", "Only an approved question can be answered.")
        # The store turns the question answered until now `answered` in the same transaction.
        return await self._question_state(event_id, question_id, "answering", staff)

    async def delete_question(self, event_id: int, question_id: int, staff: Staff) -> None:
        event = await self.event(event_id)
        require_duty(event, staff, MODERATE, "moderators")
        await self._question(event_id, question_id)
        await self.store.delete_question(question_id, staff.username)
        await self.publish_state(event_id)

    async def _question(self, event_id: int, question_id: int) -> dict[str, Any]:
        question = await self.store.question(question_id)
        if question is None or question["event_id"] != event_id or question.get("deleted_at"):
            raise ApiError(404, "question_not_found", "This event has no question with this id.")
        return question

    async def _question_state(self, event_id: int, question_id: int, state: str, staff: Staff) -> dict[str, Any]:
        changed = await self.store.set_question_state(question_id, state, staff.username)
        if changed is None:
            raise ApiError(404, "question_not_found", "This event has no question with this id.")
        await self.publish_state(event_id)
        return question_json(changed, staff=True)

    # --- captions, chat and moderation ------------------------------------------------------------------------------

    async def caption(self, event_id: int, text: str, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, CAPTION, "captioners")
        if event["state"] not in ATTENDING:
            raise ApiError(409, "event_not_open", "Captions are written while the meeting is open or live.")
        line = await self.store.add_caption(event_id, text, self.clock(), staff.username)
        shown = caption_json(line)
        await self.publish(event_id, "caption", shown)
        return shown

    async def delete_chat(self, event_id: int, chat_id: int, staff: Staff) -> None:
        event = await self.event(event_id)
        require_duty(event, staff, MODERATE, "moderators")
        deleted = await self.store.delete_chat(chat_id, staff.username)
        if deleted is None or deleted["event_id"] != event_id:
            raise ApiError(404, "chat_not_found", "This event has no chat line with this id.")
        await self.publish(event_id, "chat_deleted", {"id": chat_id})

    async def moderate(self, event_id: int, action: str, handle: str, staff: Staff) -> None:
        event = await self.event(event_id)
        require_duty(event, staff, MODERATE, "moderators")
        if event["state"] == "archived":  # its attendees were forgotten: no new ban may name one again
            raise ApiError(409, "event_not_open", "The meeting is archived: there is nobody to moderate.")
        store = self.store
        if action in ("mute", "ban"):
            await store.restrict(event_id, handle, action, staff.username)
        elif action in ("unmute", "unban"):
            await store.lift(event_id, handle, action.removeprefix("un"), staff.username)
        if action in ("remove", "ban"):
            if action == "remove":  # changes no row; the audit log still says who removed whom
                await self.store.audit_event(event_id, "event.remove", staff.username, {"handle": handle})
            await self._leave_stage(event, handle, staff)
            await self.publish(event_id, "removed", {"handle": handle, "banned": action == "ban"})
        if action != "remove":
            await self.publish_restrictions(event_id)

    async def _leave_stage(self, event: dict[str, Any], handle: str, staff: Staff) -> None:
        """A removed or banned attendee leaves the queue and, if they had it, the floor."""
        store = self.store
        lowered = await store.lower_hand(event["id"], handle)
        floor = event.get("floor")
        if floor and floor["handle"] == handle:
            await self._set_live(event, {"floor": None}, staff.username, "event.floor_take")
        elif lowered:
            await self.publish_state(event["id"])

    async def slow_mode(self, event_id: int, seconds: int, staff: Staff) -> dict[str, Any]:
        event = await self.event(event_id)
        require_duty(event, staff, MODERATE, "moderators")
        return await self._live(event, {"slow_mode": seconds}, staff, "event.slow_mode")

    # --- residents ----------------------------------------------------------------------------------------------------

    async def attending(self, event_id: int, handle: str) -> dict[str, Any]:
        """The event, when this handle may act in it now: 403 banned, 409 event_not_open."""
        event = await self.event(event_id)
        if await self.store.is_restricted(event_id, handle, "ban"):
            raise ApiError(403, "banned", "You were banned from this meeting by its moderators.")
        if event["state"] not in ATTENDING:
            raise ApiError(409, "event_not_open", "The meeting is not open now.")
        return event

    async def refuse_banned(self, event_id: int, handle: str) -> dict[str, Any]:
        event = await self.event(event_id)
        if await self.store.is_restricted(event_id, handle, "ban"):
            raise ApiError(403, "banned", "You were banned from this meeting by its moderators.")
        return event

    async def hand(self, event_id: int, handle: str, raised: bool, name: str, topic_text: str | None) -> int | None:
        await self.attending(event_id, handle)
        store = self.store
        if raised:
            await store.raise_hand(event_id, handle, name, topic_text)  # a new topic changes the queue too
        if raised or await store.lower_hand(event_id, handle):
            await self.publish_state(event_id)
        hands = [h["handle"] for h in await store.hands(event_id)]
        return hands.index(handle) + 1 if handle in hands else None

    async def ask(self, event_id: int, handle: str, name: str, text: str) -> dict[str, Any]:
        await self.attending(event_id, handle)
        question = await self.store.add_question(event_id, handle, name, text)
        await self.publish_state(event_id)  # the consoles' pending count
        return question_json(question)

    async def support(self, event_id: int, question_id: int, handle: str, token_hash: str) -> dict[str, Any]:
        await self.attending(event_id, handle)
        question = await self._question(event_id, question_id)
        if question["state"] not in ("approved", "answering"):
            raise ApiError(409, "question_not_open", "Only an approved question can be supported.")
        result = await self.store.support_question(question_id, token_hash)
        if result is None:
            raise ApiError(404, "question_not_found", "This event has no question with this id.")
        counted, supports = result
        if counted:
            await self.publish_state(event_id)
        return {"supports": supports, "counted": counted}

    async def chat(self, event_id: int, handle: str, name: str, text: str) -> dict[str, Any]:
        event = await self.attending(event_id, handle)
        if await self.store.is_restricted(event_id, handle, "mute"):
            raise ApiError(403, "muted", "The moderators muted your chat in this meeting.")
        now = self.clock()
        slow = event.get("slow_mode") or 0
        key = (event_id, handle)
        last = self._last_chat.get(key)
        if slow and last is not None and now - last < slow:
            raise SlowMode(slow - (now - last))
        self._last_chat[key] = now
        self._last_chat.move_to_end(key)
        while len(self._last_chat) > SLOW_MODE_KEYS:
            self._last_chat.popitem(last=False)
        line = await self.store.add_chat(event_id, handle, name, text, now)
        shown = chat_json(line)
        await self.publish(event_id, "chat", shown)
        return shown


class SlowMode(ApiError):
    def __init__(self, wait: float) -> None:
        super().__init__(429, "slow_mode", "Slow mode is on: wait a moment before your next message.")
        self.retry_after = max(1, int(wait + 0.999))


_VERBS = {"open": "open", "live": "start", "ended": "end", "archived": "archive"}
