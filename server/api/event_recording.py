"""Recording a meeting's stage audio (issue 11 item 4; docs/events.md, "Recording"): the chair's switch and the
published Ogg Opus file (server/events/recording.py does the work).

The file is read from the store chunk by chunk (never whole in memory) and answers single byte ranges (206, 416;
`blobs.parse_range`), so players can seek in a long meeting.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from ..blobs import parse_range
from ..events import models
from ..events.recording import RECORDER, Recorder
from ..store.recordings_sql import CHUNK_BYTES
from .events import EVENT, STAFF_EDIT, event_id, json_answer, service
from .route import ANY_STAFF, Call, Query, Route

MEDIA_TYPE = "audio/ogg"


class PartQuery(Query):
    part: int = Field(default=1, ge=1, le=1000, description="Which recording of the meeting (1 = the first)")


def recorder(call: Call) -> Recorder:
    return call.app[RECORDER]


async def switch(call: Call) -> web.Response:
    event = event_id(call)
    await recorder(call).turn(event, call.body.on, call.actor())
    return json_answer(await service(call).public(event))


async def recording_ogg(call: Call) -> web.StreamResponse:
    request = call.request
    found = await recorder(call).published(event_id(call), call.query.part)
    size, etag = int(found["bytes"]), f'"recording-{found["id"]}-{found["bytes"]}"'
    headers = {"Content-Type": MEDIA_TYPE, "Accept-Ranges": "bytes", "ETag": etag,
               "Cache-Control": "public, max-age=300"}  # short: the retention may delete it
    range_header = request.headers.get("Range")
    if range_header and request.headers.get("If-Range", etag) != etag:
        range_header = None  # the client's copy is another file: send it all
    byte_range = parse_range(range_header, size) if range_header else None
    start, end = byte_range if byte_range is not None else (0, size - 1)
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    # The first chunk is read before the headers go: a recording deleted meanwhile is still a clean 404.
    first = await recorder(call).chunk(found["id"], start // CHUNK_BYTES) if size else b""
    response = web.StreamResponse(status=206 if byte_range is not None else 200, headers=headers)
    response.content_length = end - start + 1 if size else 0
    await response.prepare(request)
    if request.method != "HEAD" and size:
        position, data = start // CHUNK_BYTES, first
        while True:
            offset = position * CHUNK_BYTES
            await response.write(data[max(0, start - offset):end + 1 - offset])
            position += 1
            if position * CHUNK_BYTES > end:
                break
            data = await recorder(call).chunk(found["id"], position)
    await response.write_eof()
    return response


M = models
ROUTES: tuple[Route, ...] = (
    Route("POST", EVENT + "/recording", switch,
          "Record the stage audio, or stop (chair or host; on only while live). Every attendee sees that it is "
          "recorded; the Ogg Opus file is published once the meeting ended", "events", body=M.RecordingIn,
          response=M.Event, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("GET", "/events/{event_id}/recording.ogg", recording_ogg,
          "The meeting's stage audio recording as Ogg Opus, once it ended (404 recording_not_published before, "
          "or when none; ?part=N for the N-th recording; single byte ranges)", "events", query=PartQuery,
          content_type=MEDIA_TYPE, errors=(404, 416, 422)),
)
