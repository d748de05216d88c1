"""Proposals: local ones (authored here, supported anonymously) and the live state of any proposal a hotspot
shows, whatever platform it comes from.

Invariants: residents receive one proposal shape for every source (`Proposal.to_json`); a support counts once
per signed resident identity (server/api/residents.py), of which only a salted hash is stored; a remote proposal
is fetched only for a reference some live hotspot shows, or for staff (`resolve(..., any_ref=True)`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from ..proposals import AddressRefused, ProposalCache, RateLimited, SourceError
from ..proposals.local import LocalSource
from ..store import Store


def proposal_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ref": f"local:{row['id']}", "id": row["id"], "source": "local", "title": row["title"],
        "summary": row["summary"], "body": row["body"], "status": row["status"], "deadline": row["deadline"],
        "supports": row["supports"], "version": row["version"], "updatedAt": row["updated_at"],
    }


def not_found() -> ApiError:
    return ApiError(404, "proposal_not_found", "There is no proposal with this id.")


@dataclass
class Proposals:
    store: Store
    cache: ProposalCache

    async def search(self, query: str) -> list[dict[str, Any]]:
        return [proposal_json(r) for r in await self.store.proposals(query)]

    async def get(self, proposal_id: int) -> dict[str, Any]:
        row = await self.store.proposal(proposal_id)
        if row is None:
            raise not_found()
        return proposal_json(row)

    async def create(self, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        return proposal_json(await self.store.create_proposal(fields, actor))

    async def update(self, proposal_id: int, version: int, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """Raises store.Conflict with the current row on a stale version."""
        if not fields:
            raise ApiError(422, "invalid_field", "body: nothing to change")
        row = await self.store.update_proposal(proposal_id, version, fields, actor)
        if row is None:
            raise not_found()
        return proposal_json(row)

    async def support(self, proposal_id: int, resident: str) -> tuple[bool, int]:
        """(newly counted?, total supports)."""
        digest = hashlib.sha256(f"support:{proposal_id}:{resident}".encode()).hexdigest()
        result = await self.store.support(proposal_id, digest)
        if result is None:
            raise not_found()
        return result

    async def shown(self, ref: str) -> bool:
        """True when some live hotspot shows this remote proposal."""
        return ref in await self.store.remote_proposal_refs()

    async def resolve(self, ref: str) -> dict[str, Any]:
        """The live state of a canonical reference, in the shape residents receive."""
        if ref.startswith("local:"):
            proposal = await LocalSource(self.store).fetch(ref)
        else:
            try:
                proposal = await self.cache.get(ref)
            except RateLimited:
                raise ApiError(503, "proposal_unavailable", "The platform asks us to wait; try again soon.") from None
            except AddressRefused as exc:
                raise ApiError(422, "proposal_refused", str(exc)) from None
            except SourceError:
                raise ApiError(503, "proposal_unavailable", "The platform cannot be reached now.") from None
        if proposal is None:
            raise ApiError(404, "proposal_not_found", "The participation platform has no such proposal.")
        return proposal.to_json()
