"""`python -m server store copy --from URL --to URL`: move a whole city from one store to another (typically from
the SQLite file of one machine to the PostgreSQL of many), then prove the copy is whole.

Invariants:
- Every table of `base.TABLES` is copied, parents first, each row under its own key (ids included, so hotspot
  links, sessions and audit targets keep pointing at the same rows).
- Repeatable: a row already in the target under the same key is overwritten with the source's (mutable tables)
  or kept (append-only tables: the audit log, supports). Running the copy twice gives the same target.
- Only into an empty target or an earlier copy of this source: before anything is written, the target's audit log
  must be a beginning of the source's (every change of staff, hotspots and proposals is audited, so a target
  with any other history is another city's, or was written to since) and a target without history must be empty.
  Otherwise the copy is refused and the target left as it was.
- Verified after copying, table by table: the same number of rows and the same rows. For the audit log this means
  the same entries in the same id order, i.e. the same history. A target holding rows the source does not (another
  city's data, or entries written to the target since) fails the verification, naming the table: nothing is
  deleted from the target.
- Only the source is read; the copy should run while no server writes to the source (stop it first), or be run
  again once stopped (repeatable).
"""

from __future__ import annotations

from typing import Any

from .base import TABLES, StoreError

BATCH = 1000


def _canonical(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as comparable values: SQLite gives 0 and 0.0 alike for a REAL column, PostgreSQL gives floats."""
    return tuple((name, float(value) if isinstance(value, float) else value) for name, value in sorted(row.items()))


async def copy_store(source: Any, target: Any) -> dict[str, int]:
    """Copy `source` into `target` (both open stores), verify, and return the rows per table."""
    await _refuse_foreign_target(source, target)
    for table in TABLES:
        rows = await source.export_rows(table)
        try:
            for start in range(0, len(rows), BATCH):
                await target.import_rows(table, rows[start:start + BATCH])
        except StoreError:
            raise
        except Exception as exc:  # a driver's error (a unique username held by another id, …): one line
            raise StoreError(f"cannot copy the table {table}: {str(exc).splitlines()[0] if str(exc) else exc!r}") \
                from exc
    return await verify_copy(source, target)


async def _refuse_foreign_target(source: Any, target: Any) -> None:
    theirs = [_canonical(r) for r in await target.export_rows("audit")]
    if not theirs:
        if any((await target.counts()).values()):
            raise StoreError("the target holds data but no history: copy into an empty database")
        return
    mine = [_canonical(r) for r in await source.export_rows("audit")]
    if theirs != mine[:len(theirs)]:
        raise StoreError("the target already holds another history (its audit log is not a beginning of the "
                         "source's): copy into an empty database")


async def verify_copy(source: Any, target: Any) -> dict[str, int]:
    """Raise `StoreError` naming the first table where `target` differs from `source`; else the row counts."""
    counts, copied = await source.counts(), await target.counts()
    for table in TABLES:
        if counts[table] != copied[table]:
            raise StoreError(f"the copy differs in {table}: {counts[table]} rows in the source, {copied[table]} in "
                             "the target (copy into an empty database)")
        mine = [_canonical(r) for r in await source.export_rows(table)]
        theirs = [_canonical(r) for r in await target.export_rows(table)]
        if table == "audit":  # the history itself: the same entries in the same order
            if mine != theirs:
                first = next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)
                raise StoreError(f"the copy's audit log differs from the source's at entry {first + 1}")
        elif sorted(mine, key=repr) != sorted(theirs, key=repr):
            raise StoreError(f"the copy differs in {table}: same number of rows, different contents")
    return counts


__all__ = ["copy_store", "verify_copy"]
