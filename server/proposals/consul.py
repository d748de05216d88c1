"""CONSUL Democracy adapter: one proposal, one GraphQL GET to `{host}/graphql?query=…`.

CONSUL's `proposal(id:)` is non-null and looks the record up with `find`, so a missing (or non-public) id is not a
null but an HTTP failure: 404, or an empty 204 from installs whose controller swallows the exception. Both → None.
Fields are the snake_case ones every CONSUL version has (newer ones add camelCase aliases and deprecate these).
The id is inlined as an integer literal (validated digits) so the query works whether the argument is ID or Int.

Mapping: status withdrawn when `retired_at` is set, else open (CONSUL proposals have no answer state); supports =
`cached_votes_up`; comments = `comments_count`; deadline None (CONSUL archives proposals after a per-install number
of months, which the API does not expose); title/summary are single-language, keyed by the configured `locale`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from server.proposals import _http
from server.proposals.model import SUMMARY_MAX, TITLE_MAX, Proposal, SourceError, count, plain_text
from server.proposals.urls import ProposalRef, parse_ref

FIELDS = "id title summary cached_votes_up comments_count public_created_at retired_at geozone { name }"


def build_query(proposal_id: str) -> str:
    return f"{{ proposal(id: {int(proposal_id)}) {{ {FIELDS} }} }}"


class ConsulSource:
    def __init__(
        self,
        http: _http.PlatformHttp,
        *,
        locale: str = "und",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.locale = locale  # CONSUL texts carry no language; "und" (BCP 47: undetermined) unless configured
        self.wall_clock = wall_clock

    async def fetch(self, ref: str) -> Proposal | None:
        target = parse_ref(ref)
        if target.source != "consul":
            raise ValueError(f"ConsulSource cannot read {ref!r}")
        payload = await self._get(target)
        if payload is None:
            return None
        data = payload.get("data")
        item = data.get("proposal") if isinstance(data, dict) else None
        if not isinstance(item, dict):
            errors = payload.get("errors")
            raise SourceError(f"{target.origin}/graphql gave no proposal: {str(errors)[:300]}")
        title = plain_text(item.get("title"), TITLE_MAX)
        summary = plain_text(item.get("summary"), SUMMARY_MAX)
        return Proposal(
            ref=target.ref,
            source="consul",
            title={self.locale: title} if title else {},
            summary={self.locale: summary} if summary else {},
            status="withdrawn" if item.get("retired_at") else "open",
            supports=count(item.get("cached_votes_up")),
            comments=count(item.get("comments_count")),
            deadline=None,
            url=target.url,
            fetched_at=self.wall_clock(),
        )

    async def _get(self, target: ProposalRef) -> dict[str, Any] | None:
        params = {"query": build_query(target.proposal_id)}
        async with self.http.request("GET", f"{target.origin}/graphql", host_key=target.origin, params=params) as resp:
            if resp.status in (404, 204):
                return None
            if resp.status != 200:
                raise SourceError(f"{target.origin}/graphql answered HTTP {resp.status}")
            raw = await _http.read_body(resp)
        if not raw.strip():
            return None
        return _http.decode_json(raw, target.origin)
