"""The published transcript of a meeting: its caption lines as WebVTT (with `webvtt-py`) and as plain text.

Cue times are relative to the moment the meeting went live (`started_at`); a cue lasts until the next line, at
most CUE_MAX seconds and at least CUE_MIN. Chat is never part of a transcript.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import webvtt
from webvtt.models import Timestamp

CUE_MIN = 1.0
CUE_MAX = 8.0


def _stamp(seconds: float) -> str:
    return str(Timestamp.from_seconds(max(0.0, float(seconds))))


def _clock(seconds: float) -> str:
    whole = int(max(0.0, seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _spans(captions: list[dict[str, Any]], start: float) -> list[tuple[float, float, str]]:
    spans = []
    for i, caption in enumerate(captions):
        begin = max(0.0, caption["at"] - start)
        following = captions[i + 1]["at"] - start if i + 1 < len(captions) else begin + CUE_MAX
        end = min(max(following, begin + CUE_MIN), begin + CUE_MAX)
        spans.append((begin, end, caption["text"]))
    return spans


def webvtt_text(event: dict[str, Any], captions: list[dict[str, Any]]) -> str:
    start = event.get("started_at") or (captions[0]["at"] if captions else 0.0)
    vtt = webvtt.WebVTT()
    for number, (begin, end, text) in enumerate(_spans(captions, start), 1):
        cue = webvtt.Caption(_stamp(begin), _stamp(end), [text.replace("-->", "->")])
        cue.identifier = str(number)
        vtt.captions.append(cue)
    out = io.StringIO()
    vtt.write(out)
    return out.getvalue()


def plain_text(event: dict[str, Any], captions: list[dict[str, Any]], lang: str = "en") -> str:
    start = event.get("started_at") or (captions[0]["at"] if captions else 0.0)
    title = event["title"].get(lang) or event["title"].get("en") or next(iter(event["title"].values()), "")
    began = datetime.fromtimestamp(int(start), tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if start else ""
    lines = [title, began, ""]
    lines += [f"[{_clock(caption['at'] - start)}] {caption['text']}" for caption in captions]
    return "\n".join(lines).rstrip("\n") + "\n"
