"""The wallboard's facts and alerts, reduced from a snapshot and the tenant's event stream (no I/O)."""

from callcenter_ari.wallboard.board import (
    HOLD_ALERT_SECONDS,
    SERVICE_LEVEL_TARGET,
    AgentFacts,
    Alert,
    Board,
    QueueFacts,
    alerts,
    apply,
    from_snapshot,
)

__all__ = [
    "HOLD_ALERT_SECONDS",
    "SERVICE_LEVEL_TARGET",
    "AgentFacts",
    "Alert",
    "Board",
    "QueueFacts",
    "alerts",
    "apply",
    "from_snapshot",
]
