"""Smoke run of bench/event_fanout.py with a small audience, so the benchmark keeps working as the events code
changes: two real server processes, a real redis-server and PostgreSQL, 20 live-stream listeners. It checks what
was delivered and counted, never how fast."""

from __future__ import annotations

from bench.event_fanout import markdown, parse, run


def test_every_listener_gets_every_caption_and_hand_change_across_two_processes() -> None:
    result = run(parse(["--listeners", "20", "--captions", "3", "--caption-rate", "5", "--hands", "2",
                        "--bytes-seconds", "2", "--caption-interval", "1"]))
    assert result["servers"] == 2 and result["listeners"] == 20
    assert result["listeners_dropped"] == 0
    assert result["captions"]["missed"] == 0 and result["captions"]["latency_ms"] is not None
    assert all(figures is not None for figures in result["captions"]["by_server_ms"])  # both processes delivered
    assert len(result["captions"]["by_server_ms"]) == 2
    assert result["hands"] == {**result["hands"], "changes": 4, "refused": 0, "missed": 0}
    # the bytes phase sent 2 lines; each listener read at least their text
    rate = result["bytes"]
    assert rate["lines"] == 2 and rate["bytes_per_listener_per_min"]["min"] >= 2 * 80 * 60 / rate["window_s"]
    assert result["messages"]["caption"] == 20 * (2 + 3)
    assert len(result["cpu"]["captions"]["servers_percent"]) == 2
    table = markdown(result)
    assert "caption line → every attendee" in table and "hand queue change" in table
