"""Live stage audio of a meeting (issue 11): the audio WebSocket."""

from __future__ import annotations

from .route import Route

ROUTES: tuple[Route, ...] = ()
