"""structlog configuration: JSON lines in production, console for a person; call ids bound via contextvars."""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure(
    level: str = "info", fmt: Literal["json", "console"] = "json", stream: TextIO | None = None, *, cache: bool = True
) -> None:
    """``cache``: each logger keeps the configuration it first logged with (fast; a process configures once).
    Tests that configure logging pass False, so that no logger stays bound to one test's stream."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    # Whatever the process does with the standard library's logging, credentials stay out of it: httpx logs each
    # request's URL at INFO (asyncari's carry the ARI password as ``api_key``), websockets the handshake's headers at
    # DEBUG (the Basic credentials of the event WebSocket).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("websockets.client").setLevel(logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=cache,
    )
