"""The proposal a hotspot shows, whatever platform it comes from, and the contract every source keeps.

Invariants of a `Proposal` (the adapters build them, tests pin them):
- `title` and `summary` are plain text per language (tags stripped, entities decoded, whitespace collapsed), never HTML:
  the client may put them in the DOM as text and screen readers read them as they are;
- `summary` holds at most SUMMARY_MAX characters; `url` is http(s) only;
- `status` is one of STATUSES or None (the platform's own state had no equivalent; `status_label` then carries the
  platform's own name for it, per language); "gone" means the platform had this proposal and now says it does not
  exist or is not public (a deletion, not an outage: an outage keeps the last value with `stale`);
- `machine_translated` names the languages of `title`/`summary` whose text is a machine translation, never shown as
  if the author wrote it;
- `supports`/`comments` are None when the platform hides them, never a made-up 0;
- the first entry of `title`/`summary` is the best language the source could offer for the locale it was asked for,
  so a client without the resident's language shows the first entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal, Protocol

Status = Literal["open", "evaluating", "accepted", "rejected", "withdrawn", "closed", "gone"]
STATUSES: frozenset[str] = frozenset({"open", "evaluating", "accepted", "rejected", "withdrawn", "closed", "gone"})
SourceName = Literal["local", "decidim", "consul"]
SUMMARY_MAX = 600
TITLE_MAX = 300


class SourceError(Exception):
    """The platform could not be read (network, HTTP error, malformed answer). Says nothing about existence."""


class RateLimited(SourceError):
    """The platform (429) or our own per-host budget says: no request to this host for `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        self.retry_after = max(0.0, float(retry_after))
        super().__init__(message or f"rate limited, retry after {self.retry_after:.0f} s")


class NotSent(RateLimited):
    """Our own limits (a per-host or the global budget, a pending Retry-After) kept the request from being sent."""


class AddressRefused(SourceError):
    """The platform host may not be read: not on the allow-list, or it is (or resolves to) a non-public address.

    Nothing was sent. The message is written for staff (it names the host and the reason, nothing else).
    """


@dataclass(frozen=True)
class Proposal:
    ref: str
    source: SourceName
    title: dict[str, str]
    summary: dict[str, str]
    status: Status | None
    supports: int | None
    comments: int | None
    deadline: str | None
    url: str
    fetched_at: float
    stale: bool = field(default=False)
    status_label: dict[str, str] = field(default_factory=dict)
    machine_translated: frozenset[str] = field(default_factory=frozenset)

    def visible(self) -> tuple[Any, ...]:
        """What a resident sees: two proposals with equal `visible()` need no push to the rooms."""
        return (
            tuple(self.title.items()), tuple(self.summary.items()), self.status, tuple(self.status_label.items()),
            self.supports, self.comments, self.deadline, self.url, tuple(sorted(self.machine_translated)),
        )

    def first_is_machine_translated(self) -> bool:
        """Is the text a client without the resident's language shows (the first entry) a machine translation?"""
        first = next(iter(self.title), None) or next(iter(self.summary), None)
        return first is not None and first in self.machine_translated

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "source": self.source,
            "title": dict(self.title),
            "summary": dict(self.summary),
            "status": self.status,
            "supports": self.supports,
            "comments": self.comments,
            "deadline": self.deadline,
            "url": self.url,
            "fetchedAt": self.fetched_at,
            "stale": self.stale,
            "statusLabel": dict(self.status_label),
            "machineTranslated": self.first_is_machine_translated(),
            "machineTranslatedLocales": sorted(self.machine_translated),
        }


class ProposalSource(Protocol):
    async def fetch(self, ref: str) -> Proposal | None:
        """The proposal as the platform has it now; None when the platform says it does not exist (or is not public).

        Raises RateLimited (429, with the wait the platform asked for) or SourceError (anything else that failed).
        """
        ...


# --- plain text out of platform HTML ------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "tr", "td", "th", "table", "section", "article", "header", "footer", "hr",
})
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript"})
_SPACES = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def plain_text(value: object, limit: int | None = None) -> str:
    """HTML (or plain text) → one line of plain text: tags dropped, script/style contents dropped, entities decoded."""
    if not isinstance(value, str) or not value:
        return ""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    text = _SPACES.sub(" ", "".join(parser.parts)).strip()
    return clip(text, limit) if limit is not None else text


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def iso_date(value: object) -> str | None:
    """'2025-06-30', '2025-06-30T23:59:00+02:00' → '2025-06-30'; anything else → None."""
    if isinstance(value, str):
        match = _ISO_DATE.match(value.strip())
        if match:
            return match.group(1)
    return None


def count(value: object) -> int | None:
    """A non-negative integer count from JSON, or None (hidden, missing, or nonsense)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
