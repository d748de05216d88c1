"""The store: staff, sessions, hotspots, local proposals and their supports, the audit log.

One contract, implementations side by side (as the bus has in-process and Redis). Every implementation keeps:
- A write is acknowledged (its method returns) only after its transaction committed.
- Simultaneous writes never fail because of each other: they serialise, or lose deliberately (`Conflict` for
  a stale version; `INSERT OR IGNORE`-like idempotence for a repeated support).
- A versioned row changes only if the version given is current, in the same transaction as its audit entry.
- The audit log is append-only, refused by the database itself.
- Migrations are numbered and applied at `open()`; a database newer than the code, empty (0 bytes) or
  unreadable is refused with `StoreError` and a one-line reason.
- Nothing a city's processes must agree on lives in one process or one data directory: staff, sessions, CSRF
  tokens, hotspots, proposals, supports, the audit log and shared secrets (the resident-id key) are all here.
- A network store that cannot be reached raises `StoreUnavailable` (a `StoreError`) and recovers by itself when
  the database returns: no restart of the server needed.
- Callers see only the public async methods, `Conflict`, `Staff`, `StoreError` and its kinds (`AlreadyExists`
  for a taken staff username, `StoreUnavailable`): never SQL, a connection or a driver's exception.
  `tests/test_store.py` pins the contract for every implementation.

Implementations: `sqlite.SQLiteStore` (the default: one file under the data directory) and
`postgres.PostgresStore` (one database for many server processes on many machines; asyncpg is imported only when
it is chosen). `make_store(config)` picks one from `config.database_url`; `Store` is the Protocol both satisfy.
`copy.copy_store` moves a whole store from one to the other (`python -m server store copy`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .base import TABLES, AlreadyExists, Conflict, Staff, StoreError, StoreUnavailable
from .sqlite import DATABASE_FILE, MIGRATIONS, SQLiteStore

if TYPE_CHECKING:
    from ..config import Config


class Store(Protocol):
    """What callers may use of a store (see the invariants above)."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def add_staff(self, username: str, password_hash: str, role: str, actor: str = "cli") -> Staff: ...
    async def get_staff(self, username: str) -> Staff | None: ...
    async def list_staff(self) -> list[dict[str, Any]]: ...
    async def set_password(self, username: str, password_hash: str, actor: str = "cli") -> bool: ...
    async def remove_staff(self, username: str, actor: str = "cli") -> bool: ...
    async def create_session(self, token_hash: str, staff_id: int, csrf: str, expires_at: float) -> None: ...
    async def session(self, token_hash: str) -> tuple[Staff, str] | None: ...
    async def end_session(self, token_hash: str) -> None: ...
    async def hotspots(self, scene: str) -> list[dict[str, Any]]: ...
    async def hotspot(self, hotspot_id: int, include_deleted: bool = False) -> dict[str, Any] | None: ...
    async def create_hotspot(self, scene: str, fields: dict[str, Any], actor: str) -> dict[str, Any]: ...
    async def update_hotspot(self, hotspot_id: int, version: int, fields: dict[str, Any], actor: str,
                             action: str = "hotspot.update") -> dict[str, Any] | None: ...
    async def remote_proposal_refs(self) -> set[str]: ...
    async def proposals(self, query: str = "", limit: int = 20) -> list[dict[str, Any]]: ...
    async def proposal(self, proposal_id: int) -> dict[str, Any] | None: ...
    async def create_proposal(self, fields: dict[str, Any], actor: str) -> dict[str, Any]: ...
    async def update_proposal(self, proposal_id: int, version: int, fields: dict[str, Any],
                              actor: str) -> dict[str, Any] | None: ...
    async def support(self, proposal_id: int, token_hash: str) -> tuple[bool, int] | None: ...
    async def shared_secret(self, name: str, proposed: bytes) -> bytes: ...
    async def audit(self, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]: ...
    async def counts(self) -> dict[str, int]: ...
    async def export_rows(self, table: str) -> list[dict[str, Any]]: ...
    async def import_rows(self, table: str, rows: list[dict[str, Any]]) -> None: ...


def store_from_url(url: str, pool_size: int = 10) -> Store:
    """`sqlite:///path/to/file.sqlite3` (or a data directory, holding `civic.sqlite3`) or
    `postgresql://user:password@host:port/database` (also `postgres://`). Not opened yet."""
    if url.startswith("sqlite://"):
        path = Path(url.removeprefix("sqlite://"))
        if not path.is_absolute() or path == Path("/"):
            raise StoreError("a SQLite URL names an absolute path: sqlite:///srv/civic/data/civic.sqlite3")
        return SQLiteStore(path / DATABASE_FILE if path.is_dir() else path)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore  # asyncpg only when PostgreSQL is chosen

        return PostgresStore(url, pool_size)
    raise StoreError("the database URL must start with sqlite:/// or postgresql://")


def make_store(config: Config) -> Store:
    """The store `config` asks for: PostgreSQL or SQLite at `--database`, else SQLite in the data directory."""
    if config.database_url:
        return store_from_url(config.database_url, config.database_pool)
    return SQLiteStore(config.data_dir / DATABASE_FILE)


async def open_store(config: Config) -> Store:
    """`make_store(config)`, opened (migrations applied); `StoreError` with a one-line reason otherwise."""
    store = make_store(config)
    await store.open()
    return store


__all__ = ["DATABASE_FILE", "MIGRATIONS", "TABLES", "AlreadyExists", "Conflict", "SQLiteStore", "Staff", "Store",
           "StoreError", "StoreUnavailable", "make_store", "open_store", "store_from_url"]
