"""Prometheus metrics, one registry per application (no global state, so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class AudioFigures(NamedTuple):
    """The stage audio hub's own counts (server/events/audio.py), read when metrics are scraped: nothing is
    added to the per-packet path but plain integer increments."""

    listeners: int  # audio connections open on this process
    packets_relayed: int  # packets fanned out here (from this process's speakers and from the bus)
    listener_drops: int  # packets dropped from listeners' full queues
    bus_drops: int  # packets a stuck bus could not take (lost for the other processes only)


class AudioCollector:
    def __init__(self, figures: Callable[[], AudioFigures]) -> None:
        self.figures = figures

    def describe(self) -> Iterator[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        now = self.figures()
        yield GaugeMetricFamily("civic_audio_listeners", "Stage audio connections open on this process",
                                value=now.listeners)
        yield CounterMetricFamily("civic_audio_packets_relayed", "Stage audio packets fanned out on this process",
                                  value=now.packets_relayed)
        yield CounterMetricFamily("civic_audio_listener_drops",
                                  "Stage audio packets dropped from a slow listener's full queue",
                                  value=now.listener_drops)
        yield CounterMetricFamily("civic_audio_bus_drops", "Stage audio packets a stuck bus could not take",
                                  value=now.bus_drops)


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

    def watch_audio(self, figures: Callable[[], AudioFigures]) -> None:
        self.registry.register(AudioCollector(figures))

    def render(self) -> bytes:
        return generate_latest(self.registry)
