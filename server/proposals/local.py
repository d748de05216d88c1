"""Proposals authored in Civic Space itself, read from the store (the `local:<id>` references).

Local changes are pushed to the rooms by the API when they happen, so this source is read directly, never
through the remote cache's refresh loop.
"""

from __future__ import annotations

import time

from server.proposals.model import Proposal
from server.proposals.urls import parse_ref
from server.store import Store


class LocalSource:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def fetch(self, ref: str) -> Proposal | None:
        row = await self.store.proposal(int(parse_ref(ref).proposal_id))
        if row is None:
            return None
        return Proposal(
            ref=f"local:{row['id']}", source="local", title=row["title"], summary=row["summary"],
            status=row["status"], supports=row["supports"], comments=None, deadline=row["deadline"],
            url="", fetched_at=time.time(),
        )
