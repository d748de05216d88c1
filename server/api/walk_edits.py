"""Staff corrections of the walkable floor and spawn points (issue 12 item 4)."""

from __future__ import annotations

from .route import Route

ROUTES: tuple[Route, ...] = ()
