"""Prometheus metrics, one registry per application instance (no module-level globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ari_events = Counter("callcenter_ari_events_total", "ARI events received, by type", ["type"], registry=r)
        self.ari_unknown_events = Counter(
            "callcenter_ari_unknown_events_total", "ARI messages that could not be decoded and were skipped", registry=r
        )
        self.ari_errors = Counter(
            "callcenter_ari_request_errors_total", "ARI requests that failed, by error", ["error"], registry=r
        )
        self.ari_connected = Gauge("callcenter_ari_connected", "1 while the ARI event stream is up", registry=r)
        self.ari_reconnects = Counter("callcenter_ari_reconnects_total", "ARI reconnections", registry=r)
        self.calls_started = Counter("callcenter_calls_started_total", "Inbound calls that entered the app", registry=r)
        self.calls_ended = Counter("callcenter_calls_ended_total", "Calls ended, by outcome", ["outcome"], registry=r)
        self.calls_live = Gauge("callcenter_calls_live", "Calls up now", registry=r)
        self.wait_seconds = Histogram(
            "callcenter_queue_wait_seconds",
            "Time from joining a queue to being answered",
            buckets=(5, 10, 20, 30, 60, 120, 300, 600),
            registry=r,
        )
        self.dtmf_dropped = Counter(
            "callcenter_events_dropped_total",
            "Events dropped because a call's inbox was full (DTMF floods)",
            registry=r,
        )
        self.trunk_full = Counter(
            "callcenter_trunk_full_total",
            "Calls a trunk had no line left for (refused when arriving, or not placed), by trunk",
            ["trunk"],
            registry=r,
        )
        self.outbound_legs = Counter(
            "callcenter_outbound_legs_total",
            "Outbound legs: placed, then answered, no_answer, busy, failed or ended",
            ["event"],
            registry=r,
        )
        self.callbacks = Counter(
            "callcenter_callbacks_total",
            "Callback events by queue: requested, attempted, connected, failed, expired, cancelled",
            ["queue", "event"],
            registry=r,
        )
        self.callbacks_live = Gauge(
            "callcenter_callbacks_live",
            "Callbacks not ended, by state, as this process last saw them",
            ["state"],
            registry=r,
        )
        self.calls_shed = Counter(
            "callcenter_calls_shed_total",
            "New calls given the overload treatment instead of being served, by reason",
            ["reason"],
            registry=r,
        )
