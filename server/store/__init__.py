"""The store: staff, sessions, hotspots, local proposals and their supports, the audit log.

One contract, implementations side by side (as the bus has in-process and Redis). Every implementation keeps:
- A write is acknowledged (its method returns) only after its transaction committed.
- Simultaneous writes never fail because of each other: they serialise, or lose deliberately (`Conflict` for
  a stale version; `INSERT OR IGNORE`-like idempotence for a repeated support).
- A versioned row changes only if the version given is current, in the same transaction as its audit entry.
- The audit log is append-only, refused by the database itself.
- Migrations are numbered and applied at `open()`; a database newer than the code, empty (0 bytes) or
  unreadable is refused with `StoreError` and a one-line reason.
- Callers see only the public async methods, `Conflict`, `Staff` and `StoreError`: never SQL, a connection or a
  driver's exception. `tests/test_store.py` pins the contract for every implementation.

Implementations: `sqlite.SQLiteStore` (the default: one file under the data directory). PostgreSQL (issue 13)
comes beside it with the same methods; `Store` then becomes the Protocol both satisfy.
"""

from .base import Conflict, Staff, StoreError
from .sqlite import DATABASE_FILE, MIGRATIONS, SQLiteStore

Store = SQLiteStore  # the type callers name; the default implementation

__all__ = ["DATABASE_FILE", "MIGRATIONS", "Conflict", "SQLiteStore", "Staff", "Store", "StoreError"]
