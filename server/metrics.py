"""Prometheus metrics, one registry per application (no global state, so tests can build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.connections = Gauge("civic_connections", "Open realtime connections", registry=r)
        self.rooms = Gauge("civic_rooms", "Open rooms in this process", registry=r)
        self.members = Gauge("civic_members", "Residents in rooms of this process", registry=r)
        self.tick_seconds = Histogram(
            "civic_tick_seconds", "Time to run one tick of every room", registry=r,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25),
        )
        self.frames_out = Counter("civic_frames_out", "Pose frames sent to clients", registry=r)
        self.bytes_out = Counter("civic_bytes_out", "Bytes sent to clients over WebSockets", registry=r)
        self.dropped_frames = Counter("civic_dropped_frames", "Frames replaced before a slow client took them",
                                      registry=r)
        self.closed = Counter("civic_connections_closed", "Connections closed by the server, by reason",
                              ["reason"], registry=r)
        self.connections_refused = Counter(
            "civic_http_connections_refused", "Connections refused at the socket: too many from one address",
            registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
