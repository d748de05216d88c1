"""docs/protocol.md says what server/protocol.py does: every message type, close code, error code, leave reason
and limit the doc names exists in the code with the same value, and every one in the code is in the doc.

The rule a doc editor follows (this test reads the doc this way):
- Reference tables sit under these `## ` headings: "Message types" (type | direction, where the direction is
  "client → server", "server → client", "room event" or "content event"), "Leave reasons" (reason | when),
  "Error codes" (code | then, where "close NNNN" names the close that follows), "Closing" (code | reason | when)
  and "Limits" (constant | value | meaning). Their first column is a `code span` (a number for close codes).
- Anywhere in the doc: a JSON `"type": "..."` must be a known message type, a JSON `"code": "..."` a known error
  code (or the placeholder "..."), a four-digit number from 4000 a known close code, and an UPPER_CASE
  `code span` a constant of server/protocol.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server import protocol

DOC = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
AUDIO = "\n## Stage audio"
REALTIME = DOC.split(AUDIO)[0]  # the /ws protocol (server/protocol.py); the audio socket's section follows

DIRECTIONS = {
    "client → server": protocol.CLIENT_MESSAGES,
    "server → client": protocol.SERVER_MESSAGES,
    "room event": protocol.PRESENCE_EVENTS,
    "content event": protocol.CONTENT_EVENTS,
}


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOC, flags=re.M | re.S)
    assert match, f"docs/protocol.md has no '## {title}' section"
    return match.group(1)


def table(title: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table in a section, header and separator left out."""
    rows = [line for line in section(title).splitlines() if line.startswith("|")]
    assert len(rows) >= 2 and set(rows[1].replace("|", "").strip()) <= set("-: "), f"no table under '{title}'"
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows[2:]]


def code_span(cell: str) -> str:
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"{cell!r} should be a `code span`"
    return match.group(1)


def test_message_types_in_the_doc_are_the_protocol_message_types():
    documented = {(code_span(row[0]), row[1]) for row in table("Message types")}
    assert {d for _, d in documented} <= set(DIRECTIONS), "unknown direction in the Message types table"
    in_code = {(kind, direction) for direction, kinds in DIRECTIONS.items() for kind in kinds}
    assert documented == in_code


def test_leave_reasons_in_the_doc_are_the_protocol_leave_reasons():
    assert [code_span(row[0]) for row in table("Leave reasons")] == list(protocol.LEAVE_REASONS)


def test_error_codes_in_the_doc_are_the_protocol_error_codes_and_name_their_close():
    rows = table("Error codes")
    assert {code_span(row[0]) for row in rows} == set(protocol.ERROR_CODES)
    reasons = {close.reason: code for code, close in protocol.CLOSE_CODES.items()}
    for row in rows:
        close = re.search(r"close (\d{4})", row[1])
        if close:
            assert reasons.get(code_span(row[0])) == int(close.group(1)), row


def test_close_codes_in_the_doc_are_the_protocol_close_codes_with_their_reasons():
    documented = {int(row[0]): code_span(row[1]) for row in table("Closing")}
    assert documented == {code: close.reason for code, close in protocol.CLOSE_CODES.items()}


def test_limits_in_the_doc_are_the_protocol_limits_with_their_values():
    documented = {code_span(row[0]): float(row[1]) for row in table("Limits")}
    assert documented == {name: float(getattr(protocol, name)) for name in protocol.LIMITS}


def test_every_type_code_close_and_constant_the_doc_mentions_exists_in_the_protocol():
    known_types = {kind for kinds in DIRECTIONS.values() for kind in kinds}
    for kind in re.findall(r'"type": "([^"]+)"', REALTIME):
        assert kind in known_types, f'"type": "{kind}" is not a message type of server/protocol.py'
    for code in re.findall(r'"code": "([^".]+)"', REALTIME):  # "..." is a placeholder
        assert code in protocol.ERROR_CODES, f'"code": "{code}" is not an error code of server/protocol.py'
    for number in re.findall(r"(?<![\d.])(4\d{3})(?![\d.])", REALTIME):
        if number != "4096":  # MAX_MESSAGE_BYTES, not a close code
            assert int(number) in protocol.CLOSE_CODES, f"{number} is not a close code of server/protocol.py"
    for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", REALTIME):
        assert hasattr(protocol, name), f"`{name}` is not a constant of server/protocol.py"


def test_the_stage_audio_section_names_the_audio_sockets_close_codes_and_limits():
    from server.events import audio

    text = DOC[DOC.index(AUDIO):]
    closes = {int(row.split("|")[1]) for row in text.split("### Closing codes", 1)[1].split("###")[0].splitlines()
              if re.match(r"\| \d{4} \|", row)}
    assert closes == {1000, 1001, 1009, audio.CLOSE_BAD_MESSAGE, audio.CLOSE_NOT_FOUND, audio.CLOSE_BANNED,
                      audio.CLOSE_ENDED}
    assert {int(n) for n in re.findall(r"(?<![\d.])((?:10|4\d)\d{2})(?![\d.])", text)} <= closes | {1024}


@pytest.mark.parametrize("name", ["MAX_MESSAGE_BYTES", "HELLO_TIMEOUT_S", "PONG_TIMEOUT_S", "PING_INTERVAL_S"])
def test_prose_figures_match_the_limits(name):
    """Where the prose quotes a limit next to its name, the figure is the limit's value."""
    value = getattr(protocol, name)
    figure = f"{value:g}"
    for match in re.finditer(rf"(\d+(?:\.\d+)?) (?:s|bytes) \(`{name}`", DOC):
        assert match.group(1) == figure, f"the doc quotes {match.group(1)} for `{name}`, the code says {figure}"
