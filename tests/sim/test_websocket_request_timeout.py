"""The WebSocket transport's request timeout, kept by one sweeper per connection: a request Asterisk never
answers fails with the request named, the others on the same socket are answered before, and the connection
stays up. Against the simulator over a real socket, its answer to ``ping`` delayed by a fault rule."""

from __future__ import annotations

import functools
import time

import anyio
import pytest

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriUnavailable
from callcenter_ari.ari.transport import Endpoint
from callcenter_ari.ari.websocket import WebSocketTransport
from callcenter_ari.config import OverloadSection
from callcenter_ari.metrics import Metrics
from callcenter_ari.runtime.overload import Admission
from callcenter_ari.sim import Simulator
from callcenter_ari.sim.faults import FaultRule
from callcenter_ari.sim.inprocess import InProcessTransport
from tests.sim.conftest import PASSWORD, USER

pytestmark = pytest.mark.wire


async def test_an_unanswered_request_fails_and_the_others_go_on(sim: Simulator) -> None:
    sim.api.faults.set([FaultRule("ping", "slow", 1.0, delay=3.0)])
    async with sim.serve() as server:
        transport = WebSocketTransport(Endpoint(server.base_url, "callcenter", USER, PASSWORD), request_timeout=0.5)
        up = anyio.Event()
        received: list[object] = []

        async def sink(message: object) -> None:
            received.append(message)

        async with anyio.create_task_group() as tg:
            tg.start_soon(transport.run, sink, up.set)
            await up.wait()
            failures: list[str] = []

            async def ping() -> None:
                try:
                    await transport.request("GET", "asterisk/ping")
                except AriUnavailable as exc:
                    failures.append(exc.message)

            tg.start_soon(ping)
            tg.start_soon(ping)
            info = await transport.request("GET", "asterisk/info")  # sent before the pings
            assert info.status == 200
            with anyio.fail_after(5):
                while len(failures) < 2:
                    await anyio.sleep(0.05)
            assert failures == ["no RESTResponse to GET asterisk/ping within 0.5 s"] * 2
            # The socket is still up (the simulator answers one socket's requests in order, so the delayed pings
            # hold the next request back; events still flow).
            await sim.inject_call(did="5551000", caller="+15550001111")
            with anyio.fail_after(5):
                while not received:
                    await anyio.sleep(0.05)
            tg.cancel_scope.cancel()


@pytest.mark.parametrize("transport", [pytest.param("websocket", marks=pytest.mark.wire), "inprocess"])
async def test_a_request_sent_without_waiting_that_gets_no_answer_in_time_is_reported(
    sim: Simulator, transport: str
) -> None:
    """Sent without waiting, over the WebSocket and in process alike: no answer within the time-out is reported
    to ``on_error`` as ``AriUnavailable``; the late answer is then ignored."""
    sim.api.faults.set([FaultRule("answer", "slow", 1.0, delay=2.0)])
    async with sim.serve() as server:
        endpoint = Endpoint(server.base_url, "callcenter", USER, PASSWORD)
        in_process = functools.partial(InProcessTransport, sim, request_timeout=0.5)
        ari = AriClient(
            endpoint, transport=in_process if transport == "inprocess" else "websocket", request_timeout=0.5
        )
        errors: list[Exception] = []

        async def sink(message: object) -> None:
            pass

        async with anyio.create_task_group() as tg:
            await tg.start(ari.run, sink)
            channel = await sim.inject_call(did="5551000", caller="+15550001111")
            await ari.answer(channel, on_error=errors.append)
            with anyio.fail_after(5):
                while not errors:
                    await anyio.sleep(0.05)
            assert isinstance(errors[0], AriUnavailable) and "answer" in errors[0].message
            await anyio.sleep(2.0)  # the answer comes late: not reported again
            assert len(errors) == 1 and ari.pending == 0
            assert await ari.asterisk_info() is not None  # the connection is still up
            tg.cancel_scope.cancel()


@pytest.mark.parametrize("transport", [pytest.param("websocket", marks=pytest.mark.wire), "inprocess"])
async def test_the_lag_is_how_long_the_oldest_unanswered_request_has_waited_and_admission_sheds_on_it(
    sim: Simulator, transport: str
) -> None:
    """Asterisk slow to answer one request: the client's lag grows with that request's wait, and new calls are
    shed for an ARI backlog past ``max_ari_lag_seconds``; once it is answered the lag is nothing and calls are
    taken again."""
    sim.api.faults.set([FaultRule("answer", "slow", 1.0, delay=1.5)])
    async with sim.serve() as server:
        endpoint = Endpoint(server.base_url, "callcenter", USER, PASSWORD)
        ari = AriClient(endpoint, transport=sim.transport if transport == "inprocess" else "websocket")  # type: ignore[arg-type]
        gate = Admission(OverloadSection(max_ari_lag_seconds=0.5), ari, Metrics(), now=time.monotonic)

        async def sink(message: object) -> None:
            pass

        async with anyio.create_task_group() as tg:
            await tg.start(ari.run, sink)
            assert ari.lag == 0.0 and gate.refusal("ch-a", calls_live=0) is None
            channel = await sim.inject_call(did="5551000", caller="+15550001111")
            errors: list[Exception] = []
            await ari.answer(channel, on_error=errors.append)
            await anyio.sleep(0.7)
            assert ari.lag >= 0.5 and ari.pending >= 1
            assert gate.refusal("ch-b", calls_live=0) == "ari_backlog"
            with anyio.fail_after(5):
                while ari.pending:
                    await anyio.sleep(0.05)
            assert ari.lag == 0.0 and errors == []
            assert gate.refusal("ch-c", calls_live=0) is None
            tg.cancel_scope.cancel()
