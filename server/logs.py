"""Structured logs: one JSON object per line on stderr.

Privacy invariant: no IP address, no User-Agent, no query string is ever logged. The access logger writes
method, path, status, size and duration only.
Volume invariant: the same warning or error (same logger, level and message template) is written at most
`REPEATS_PER_MINUTE` times a minute; the rest are counted and summarised in one line once the minute is over
(a flood of half-open connections once wrote ~30k tracebacks in 15 s, issue 9 item 4).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


REPEATS_PER_MINUTE = 10
_MAX_KINDS = 1000  # distinct messages tracked per window; beyond, new kinds share one budget


class RepeatLimiter(logging.Filter):
    """Lets each kind of warning or error through `per_window` times per `window` seconds, then drops the rest;
    when a window has ended, the next record first brings one summary line per kind that was dropped.
    Records below WARNING always pass. Thread-safe (aiohttp and executors log from threads)."""

    def __init__(self, emit: Callable[[logging.LogRecord], object], per_window: int = REPEATS_PER_MINUTE,
                 window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.emit, self.per_window, self.window, self.clock = emit, per_window, window, clock
        self.window_end = clock() + window
        self.counts: dict[tuple[str, int, str], int] = {}
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "_summary", False):
            return True
        with self.lock:
            summaries = self._roll_over()
            key = (record.name, record.levelno, str(record.msg))
            if key not in self.counts and len(self.counts) >= _MAX_KINDS:
                key = ("*", record.levelno, "(other messages)")
            seen = self.counts.get(key, 0) + 1
            self.counts[key] = seen
        for summary in summaries:
            self.emit(summary)
        return seen <= self.per_window

    def _roll_over(self) -> list[logging.LogRecord]:
        now = self.clock()
        if now < self.window_end:
            return []
        summaries = []
        for (name, level, message), seen in self.counts.items():
            if seen > self.per_window:
                summary = logging.LogRecord(name, level, __file__, 0, "repeated log line suppressed", None, None)
                summary.__dict__.update(_summary=True, repeated=message, suppressed=seen - self.per_window,
                                        seconds=self.window)
                summaries.append(summary)
        self.counts.clear()
        self.window_end = now + self.window
        return summaries


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatLimiter(handler.handle))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class AccessLogger(AbstractAccessLogger):
    """Access log without personal data (see module docstring)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "bytes": response.body_length,
                "ms": round(time * 1000, 1),
            },
        )
