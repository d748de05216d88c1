"""The request and response models of public meetings (pydantic; documented in /api/openapi.json).

Inputs are bounded and refuse unknown fields (`Body`); outputs (`Out`) document what handlers answer. JSON uses
camelCase, the store snake_case: `server/events/service.py` maps one to the other.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, RootModel, StringConstraints

from ..api.models import VERSION, Optional, Out
from ..api.route import Body, Query
from ..manifest import SceneId
from ..protocol import valid_name
from ..schema_types import Prose, Title
from .handles import HANDLE_PATTERN

State = Literal["scheduled", "open", "live", "ended", "archived"]
QuestionState = Literal["pending", "approved", "rejected", "answering", "answered"]
Role = Literal["editor", "moderator", "host", "admin"]
MAX_AGENDA = 100
MAX_DUTY = 20


def _name(value: str) -> str:
    name = valid_name(value)
    if name is None:
        raise ValueError("a name is 1 to 32 letters, digits, spaces or . , ' ( ) -")
    return name


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone name (e.g. Europe/Amsterdam)") from None
    return value


def _printable(value: str) -> str:
    """No control characters but line breaks (and tabs) in text others read."""
    if any(ord(c) < 32 and c not in "\n\t" or 127 <= ord(c) < 160 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be one line")
    return _printable(value)


def _http_link(value: str) -> str:
    if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
        raise ValueError("documents are http:// or https:// addresses")
    return value


Name = Annotated[str, StringConstraints(max_length=64), AfterValidator(_name)]
Handle = Annotated[str, StringConstraints(pattern=HANDLE_PATTERN)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_timezone)]
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
                  AfterValidator(_one_line)]
QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                         AfterValidator(_one_line)]
ChatText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                     AfterValidator(_printable)]
CaptionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
                        AfterValidator(_one_line)]
Link = Annotated[str, StringConstraints(min_length=8, max_length=500), AfterValidator(_http_link)]
Ref = Annotated[str, StringConstraints(max_length=200)]


class Document(Body):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    url: Link


class AgendaItemIn(Body):
    title: Title
    description: Prose = {}
    documents: list[Document] = Field(default=[], max_length=20)
    ref: Ref | None = None


class Duties(Body):
    """Who does what in one event (staff usernames)."""

    chair: list[Username] = Field(default=[], max_length=MAX_DUTY)
    moderator: list[Username] = Field(default=[], max_length=MAX_DUTY)
    captioner: list[Username] = Field(default=[], max_length=MAX_DUTY)


Epoch = Annotated[float, Field(ge=0, le=4102444800, allow_inf_nan=False)]  # seconds, up to 2100
Capacity = Annotated[int, Field(ge=0, le=100_000, description="0: the scene's own limit")]
Agenda = Annotated[list[AgendaItemIn], Field(max_length=MAX_AGENDA)]


class EventIn(Body):
    scene: SceneId
    zone: SceneId | None = None
    title: Title
    description: Prose = {}
    startsAt: Epoch
    endsAt: Epoch | None = None
    timezone: TimeZone = "UTC"
    capacity: Capacity = 0
    agenda: Agenda = []
    staff: Duties = Duties()


class EventPatch(Body):
    """Only the fields given change; `null` only where it means "none" (zone, endsAt)."""

    version: int = VERSION
    scene: SceneId = Optional
    zone: SceneId | None = None
    title: Title = Optional
    description: Prose = Optional
    startsAt: Epoch = Optional
    endsAt: Epoch | None = None
    timezone: TimeZone = Optional
    capacity: Capacity = Optional
    agenda: Agenda = Optional
    staff: Duties = Optional


class WhenQuery(Query):
    when: Literal["upcoming", "live", "past", "all"] = Field(
        default="upcoming", description="upcoming: scheduled or open; live; past: ended or archived; all")


class VersionQuery(Query):
    version: int = Field(ge=0, le=2**53, description="The version being deleted.")


class SlideAlt(RootModel[Title]):
    """The `alt` field of a slide upload: a non-empty text alternative in at least one language."""


class StateIn(Body):
    to: Literal["open", "live", "ended", "archived"]


class ItemIn(Body):
    index: int | None = Field(ge=0, lt=MAX_AGENDA)


class ShowSlideIn(Body):
    slideId: int | None = Field(ge=1, le=2**53)


class FloorIn(Body):
    handle: Handle
    seconds: int = Field(default=180, ge=30, le=1800)
    name: Name | None = Field(default=None, description="Needed only for a handle without a raised hand")


class RecordingIn(Body):
    on: bool


class ReviewIn(Body):
    state: Literal["approved", "rejected"]


class EmptyIn(Body):
    """`{}`"""


class CaptionIn(Body):
    text: CaptionText


class ModerationIn(Body):
    action: Literal["mute", "unmute", "remove", "ban", "unban"]
    handle: Handle


class SlowModeIn(Body):
    seconds: int = Field(ge=0, le=300)


class HandIn(Body):
    raised: bool
    name: Name = "Guest"
    topic: Topic | None = None


class QuestionIn(Body):
    name: Name = "Guest"
    text: QuestionText


class ChatIn(Body):
    name: Name = "Guest"
    text: ChatText


class RoleIn(Body):
    role: Role


# --- answers ------------------------------------------------------------------------------------------------------


class DocumentOut(Out):
    title: str
    url: str


class AgendaItem(Out):
    title: dict[str, str]
    description: dict[str, str]
    documents: list[DocumentOut]
    ref: str | None = None


class Slide(Out):
    id: int
    url: str
    alt: dict[str, str]
    width: int
    height: int


class Floor(Out):
    handle: str
    name: str
    until: float
    seconds: int


class Transcript(Out):
    vtt: str
    txt: str


class Recording(Out):
    url: str
    startedAt: float
    seconds: float
    bytes: int


class EventSummary(Out):
    id: int
    scene: str
    zone: str | None
    title: dict[str, str]
    description: dict[str, str]
    startsAt: float
    endsAt: float | None
    timezone: str
    state: State
    url: str
    ics: str
    transcript: Transcript | None


class Event(EventSummary):
    capacity: int
    agenda: list[AgendaItem]
    currentItem: int | None
    slide: Slide | None
    slides: list[Slide]
    floor: Floor | None
    slowMode: int
    startedAt: float | None
    endedAt: float | None
    source: str | None
    version: int
    recording: bool = Field(description="The stage audio is being recorded now (attendees see an indicator)")
    recordings: list[Recording] = Field(description="Published once the meeting ended, until the retention")


class EventList(Out):
    events: list[EventSummary]


class Hand(Out):
    handle: str
    name: str
    topic: str | None


class Question(Out):
    id: int
    name: str
    text: str
    supports: int
    state: QuestionState


class StaffQuestion(Question):
    handle: str
    createdAt: float


class ChatLine(Out):
    id: int
    handle: str
    name: str
    text: str
    at: float


class Caption(Out):
    id: int
    at: float
    text: str


class DutiesOut(Out):
    chair: list[str]
    moderator: list[str]
    captioner: list[str]


class Restrictions(Out):
    muted: list[str]
    banned: list[str]


class StaffView(Event):
    """What the event's staff see: the public event plus duties, every question, restrictions and chat."""

    staff: DutiesOut
    duties: list[Literal["chair", "moderator", "captioner", "host"]]
    hands: list[Hand]
    questions: list[StaffQuestion]
    restrictions: Restrictions
    chat: list[ChatLine]


class Me(Out):
    handle: str
    banned: bool
    muted: bool
    hand: int | None = Field(description="1-based position in the hand queue, or null")


class QuestionSupport(Out):
    supports: int
    counted: bool


class HandResult(Out):
    raised: bool
    position: int | None


class StaffMember(Out):
    username: str
    role: Role
    createdAt: float


class StaffList(Out):
    staff: list[StaffMember]
