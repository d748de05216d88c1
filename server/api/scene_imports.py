"""Scene imports from the staff pages (issue 12 item 1)."""

from __future__ import annotations

from .route import Route

ROUTES: tuple[Route, ...] = ()
