"""Routes of public meetings (being built; see server/events/)."""

from __future__ import annotations

from .route import Route

ROUTES: tuple[Route, ...] = ()
