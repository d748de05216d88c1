"""Recording a meeting's stage audio (issue 11 item 4)."""

from __future__ import annotations

from .route import Route

ROUTES: tuple[Route, ...] = ()
