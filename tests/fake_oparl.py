"""A fake OParl 1.1 council information system on aiohttp, with the awkward data real ones serve.

Shapes follow the OParl 1.1 specification (github.com/OParl/spec, schema/*.json and chapter "Objektlisten und
Paginierung"): `GET /oparl/v1/system` (System, `body` = URL of the external body list) → `/oparl/v1/bodies` (a list
page of Body objects, `meeting` = URL of the external meeting list) → `/oparl/v1/body/1/meetings?page=N` (list pages
`{"data", "pagination", "links": {"first", "self", "next", "last"}}`, PAGE_SIZE meetings each, `next` absent on the
last page; `modified_since` filters by `modified` as the spec requires of every external list). `/oparl/v1/meeting/N`
answers one Meeting. Agenda items and files are embedded objects, as the 1.1 schemas have them.

The awkward data (taken from what public systems serve — SessionNet/ALLRIS-style ids, `downloadUrl: ""`,
`mimeType: "pdf"`, HTML in `resolutionText`):
- meeting 1: agenda items out of order in the array (`order` decides), one non-public item (`public: false`, with a
  name that must never be stored), one item without `name`, files with an empty `downloadUrl`, a `javascript:` URL
  and a bare URL string instead of a File object, HTML in `resolutionText`;
- meeting 2: no `end`; `start` in UTC with `Z`;   meeting 3: `cancelled: true`;
- meeting 4: `start`/`end` without an offset (local time);   meeting 5: items without `order` or `public`;
- meeting 6: no `start` (cannot be imported);   meeting 7: normal, `delete(7)` turns it into a deleted stub;
- meeting 8: no `name`.
Switches: `loop` (the last page's `links.next` points back at page 1), `broken` ("not_json", "wrong_types",
"huge", "status") applied to meeting page `broken_page` (2), `throttle` (that many 429s); `requests` counts every
request, `paths` lists them.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

from aiohttp import web

V = "https://schema.oparl.org/1.1/"
PAGE_SIZE = 3
NON_PUBLIC_NAME = "Personalangelegenheit Dr. Geheim (nichtöffentlich)"


def _file(n: int, name: str | None, access: str, download: str = "") -> dict[str, Any]:
    file: dict[str, Any] = {
        "id": f"{{BASE}}/oparl/v1/file/{n}", "type": V + "File", "fileName": f"{n}.pdf", "mimeType": "pdf",
        "accessUrl": access, "downloadUrl": download, "size": 553767,
        "created": "2026-10-01T10:32:32+02:00", "modified": "2026-10-01T10:32:32+02:00", "deleted": False,
    }
    if name is not None:
        file["name"] = name
    return file


def _meeting(n: int, **fields: Any) -> dict[str, Any]:
    meeting = {
        "id": f"{{BASE}}/oparl/v1/meeting/{n}", "type": V + "Meeting", "meetingState": "eingeladen",
        "cancelled": False, "organization": ["{BASE}/oparl/v1/organization/1"],
        "web": f"{{BASE}}/si0057.php?__ksinr={n}", "created": "2026-10-01T08:00:00+02:00",
        "modified": "2026-10-01T08:00:00+02:00", "deleted": False, "agendaItem": [],
    }
    meeting.update(fields)
    return meeting


def _item(meeting: int, n: int, **fields: Any) -> dict[str, Any]:
    item = {"id": f"{{BASE}}/oparl/v1/agendaitem/{n}", "type": V + "AgendaItem",
            "meeting": f"{{BASE}}/oparl/v1/meeting/{meeting}", "modified": "2026-10-01T08:00:00+02:00"}
    item.update(fields)
    return item


def initial_meetings() -> dict[int, dict[str, Any]]:
    return {
        1: _meeting(
            1, name="42. Sitzung des Rates der Stadt", start="2026-12-03T17:00:00+01:00",
            end="2026-12-03T20:30:00+01:00",
            location={"id": "{BASE}/oparl/v1/location/1", "type": V + "Location", "description": "Ratssaal",
                      "room": "Raum 1.15", "streetAddress": "Markt 1", "postalCode": "53111", "locality": "Bonn"},
            agendaItem=[
                _item(1, 13, number="3", order=300, public=True),
                _item(1, 11, number="1", order=100, name="Eröffnung und Feststellung der Tagesordnung", public=True),
                _item(1, 14, number="N 1", order=400, name=NON_PUBLIC_NAME, public=False,
                      auxiliaryFile=[_file(99, "Vertraulich", "{BASE}/files/99.pdf")]),
                _item(1, 12, number="2", order=200, name="Radverkehrskonzept <b>Innenstadt</b> &amp; Ring",
                      public=True, result="Geändert beschlossen",
                      resolutionText="<p>Der Rat beschließt das Konzept <em>mit</em> Änderungen.</p>",
                      auxiliaryFile=[
                          _file(1, "Beschlussvorlage", "{BASE}/files/1.pdf"),
                          _file(2, None, "", "{BASE}/files/2.pdf"),
                          _file(3, "Bösartig", "javascript:alert(1)"),
                          "{BASE}/oparl/v1/file/4",
                      ]),
            ]),
        2: _meeting(2, name="Ausschuss für Umwelt und Klima", start="2026-12-05T16:00:00Z",
                    agendaItem=[_item(2, 21, number="1", order=1, name="Baumschutzsatzung", public=True)]),
        3: _meeting(3, name="Sondersitzung Haushalt", start="2026-12-07T18:00:00+01:00",
                    end="2026-12-07T21:00:00+01:00", cancelled=True),
        4: _meeting(4, name="Bezirksvertretung Beuel", start="2026-12-10T18:30:00", end="2026-12-10T21:00:00",
                    agendaItem=[_item(4, 41, name="Einwohnerfragestunde")]),
        5: _meeting(5, name="Jugendhilfeausschuss", start="2026-12-11T15:00:00+01:00",
                    agendaItem=[_item(5, 52, name="Zweiter Punkt"), _item(5, 51, name="Erster Punkt")]),
        6: _meeting(6, name="Sitzung ohne Termin"),
        7: _meeting(7, name="Planungsausschuss", start="2026-12-14T17:00:00+01:00", end="2026-12-14T19:00:00+01:00"),
        8: _meeting(8, start="2026-12-15T17:00:00+01:00", end="2026-12-15T18:00:00+01:00"),
    }


class FakeOParl:
    def __init__(self) -> None:
        self.meetings = initial_meetings()
        self.loop = False
        self.broken: str | None = None
        self.broken_page = 2
        self.extra_bodies: list[Any] = []  # more entries of the body list (URLs, Bodies without meetings…)
        self.throttle = 0  # answer this many next requests 429 with Retry-After: 1
        self.requests = 0
        self.paths: list[str] = []

    def change(self, n: int, modified: str, **fields: Any) -> None:
        """The council edits meeting `n` (its `modified` moves forward as OParl requires)."""
        self.meetings[n].update(fields, modified=modified)

    def delete(self, n: int, modified: str) -> None:
        """The council deletes meeting `n`: only id, type, created, modified and `deleted: true` remain (spec)."""
        old = self.meetings[n]
        self.meetings[n] = {"id": old["id"], "type": old["type"], "created": old["created"], "modified": modified,
                            "deleted": True}

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._count])
        app.router.add_get("/oparl/v1/system", self.system)
        app.router.add_get("/oparl/v1/bodies", self.bodies)
        app.router.add_get("/oparl/v1/body/1", self.body)
        app.router.add_get("/oparl/v1/body/1/meetings", self.meeting_list)
        app.router.add_get("/oparl/v1/meeting/{n}", self.meeting)
        return app

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests += 1
        self.paths.append(request.path_qs)
        if self.throttle > 0:
            self.throttle -= 1
            return web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": "1"})
        return await handler(request)

    @staticmethod
    def _json(request: web.Request, payload: Any) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.Response(text=json.dumps(payload, ensure_ascii=False).replace("{BASE}", base),
                            content_type="application/json")

    def _body(self) -> dict[str, Any]:
        return {"id": "{BASE}/oparl/v1/body/1", "type": V + "Body", "system": "{BASE}/oparl/v1/system",
                "name": "Stadt Beispielstadt", "shortName": "Beispielstadt",
                "meeting": "{BASE}/oparl/v1/body/1/meetings", "organization": "{BASE}/oparl/v1/body/1/organizations",
                "created": "2020-01-01T00:00:00+01:00", "modified": "2026-01-01T00:00:00+01:00"}

    async def system(self, request: web.Request) -> web.Response:
        return self._json(request, {
            "id": "{BASE}/oparl/v1/system", "type": V + "System", "oparlVersion": "https://schema.oparl.org/1.1/",
            "name": "Ratsinformationssystem Beispielstadt", "body": "{BASE}/oparl/v1/bodies",
            "created": "2020-01-01T00:00:00+01:00", "modified": "2026-01-01T00:00:00+01:00"})

    async def bodies(self, request: web.Request) -> web.Response:
        bodies = [self._body(), *self.extra_bodies]
        return self._json(request, {
            "data": bodies,
            "pagination": {"totalElements": len(bodies), "elementsPerPage": 20, "currentPage": 1, "totalPages": 1},
            "links": {"first": "{BASE}/oparl/v1/bodies", "self": "{BASE}/oparl/v1/bodies"},
        })

    async def body(self, request: web.Request) -> web.Response:
        return self._json(request, self._body())

    async def meeting(self, request: web.Request) -> web.Response:
        meeting = self.meetings.get(int(request.match_info["n"]))
        if meeting is None:
            raise web.HTTPNotFound()
        return self._json(request, meeting)

    async def meeting_list(self, request: web.Request) -> web.StreamResponse:
        page = int(request.query.get("page", "1"))
        if page == self.broken_page and self.broken is not None:
            return self._broken()
        meetings = [copy.deepcopy(m) for _n, m in sorted(self.meetings.items())]
        since = request.query.get("modified_since")
        if since is not None:
            cut = datetime.fromisoformat(since)
            meetings = [m for m in meetings if datetime.fromisoformat(m["modified"]) >= cut]
        pages = max(1, -(-len(meetings) // PAGE_SIZE))
        filt = f"&modified_since={since.replace('+', '%2B')}" if since is not None else ""

        def link(number: int) -> str:
            return f"{{BASE}}/oparl/v1/body/1/meetings?page={number}{filt}"

        links = {"first": link(1), "self": link(page), "last": link(pages)}
        if page < pages:
            links["next"] = link(page + 1)
        elif self.loop:
            links["next"] = link(1)
        return self._json(request, {
            "data": meetings[(page - 1) * PAGE_SIZE: page * PAGE_SIZE],
            "pagination": {"totalElements": len(meetings), "elementsPerPage": PAGE_SIZE, "currentPage": page,
                           "totalPages": pages},
            "links": links,
        })

    def _broken(self) -> web.StreamResponse:
        if self.broken == "not_json":
            return web.Response(text="<html><body>Wartungsarbeiten</body></html>", content_type="text/html")
        if self.broken == "wrong_types":
            return web.json_response({"data": {"0": "not a list"}, "pagination": [], "links": "nope"})
        if self.broken == "huge":
            return web.Response(body=b'{"data": [' + b'"x",' * (3 << 20) + b'"x"]}',
                                content_type="application/json")
        return web.json_response({"error": "internal"}, status=500)
