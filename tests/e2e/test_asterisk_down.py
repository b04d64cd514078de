"""Asterisk stopped: the client keeps trying, each attempt a warning that names the real cause, and it comes back.

The simulator's server is stopped under the production client (both transports), so the failures are the real ones
a stopped Asterisk gives: the WebSocket closes, then every connection is refused.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

from callcenter_ari.ari.client import AriClient, Connected
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.sim import SimConfig, Simulator
from tests.e2e.helpers import PASSWORD, USER, eventually

# Asterisk unreachable, refusing a login: these need the real sockets.
pytestmark = pytest.mark.wire


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_reconnecting_while_asterisk_is_down_is_a_warning_with_its_real_cause(transport: str) -> None:
    """No ERROR, no traceback, no 'client has been closed': a refused connection, said so, at warning level."""
    sim = Simulator(SimConfig(app="callcenter", username=USER, password=PASSWORD, clock="manual"))
    serving = sim.serve(host="127.0.0.1", port=0)
    server = await serving.__aenter__()
    client = AriClient(
        Endpoint(server.base_url, "callcenter", USER, PASSWORD),
        transport=transport,  # type: ignore[arg-type]
        reconnect_initial=0.01,
        reconnect_max=0.05,
    )
    seen: list[object] = []

    async def sink(message: object) -> None:
        seen.append(message)

    async with anyio.create_task_group() as tg:
        await tg.start(client.run, sink)
        with capture_logs() as logs:
            await serving.__aexit__(None, None, None)  # Asterisk stops
            attempts = lambda: [line for line in logs if line["event"] == "ari.disconnected"]  # noqa: E731
            await eventually(lambda: len(attempts()) >= 4, what="several reconnect attempts")
            # Asterisk is back on the same port: the client reconnects by itself.
            async with sim.serve(host="127.0.0.1", port=server.port):
                await eventually(
                    lambda: any(isinstance(m, Connected) and m.reconnect for m in seen), what="reconnected"
                )
            tg.cancel_scope.cancel()
    problems: list[dict[str, Any]] = [line for line in logs if line["log_level"] not in ("info", "warning")]
    assert problems == []
    assert not [line for line in logs if "exc_info" in line]
    refused = [line["reason"] for line in attempts()[1:]]  # the first one is the WebSocket closing
    assert refused and all(_names_a_refused_connection(reason) for reason in refused), refused


def _names_a_refused_connection(reason: str) -> bool:
    lowered = reason.lower()
    return ("connect" in lowered or "refused" in lowered) and "has been closed" not in lowered


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_a_refused_password_is_an_error_naming_the_user_and_never_the_password(
    sim: Simulator, transport: str
) -> None:
    """A refused login is an error that names the user and where Asterisk is, and never the password (asyncari sends
    it as ``api_key`` in the URL, which httpx's error message quotes)."""
    wrong = "not-the-password-4711"
    client = AriClient(
        Endpoint(sim.base_url, "callcenter", USER, wrong),  # type: ignore[attr-defined]
        transport=transport,  # type: ignore[arg-type]
        reconnect_initial=0.01,
        reconnect_max=0.05,
    )

    async def sink(message: object) -> None:
        pass

    with capture_logs() as logs:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.run, sink)
            await eventually(lambda: len(logs) >= 2, what="two refused attempts")
            tg.cancel_scope.cancel()
    assert all(line["log_level"] == "error" and line["event"] == "ari.login_refused" for line in logs), logs
    assert all(line["user"] == USER and line["url"] == sim.base_url for line in logs)  # type: ignore[attr-defined]
    assert wrong not in repr(logs)
