"""The per-application event filter (PUT /applications/{name}/eventFilter, Asterisk 13.26+ and 16.3+), over real
HTTP and the event WebSocket, with the rules of the ARI documentation (tests/../ari-api-docs applications.json)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from callcenter_ari.sim import SimConfig, Simulator
from tests.sim.conftest import PASSWORD, USER, Client


async def _filter(client: Client, body: Any, app: str = "callcenter") -> tuple[int, Any]:
    url = client.base + f"/ari/applications/{app}/eventFilter"
    data = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"}
    params = {"api_key": f"{USER}:{PASSWORD}"}
    async with client.session.put(url, params=params, data=data, headers=headers) as resp:
        text = await resp.text()
        return resp.status, (json.loads(text) if text else None)


async def test_only_the_allowed_types_are_sent(sim: Simulator, client: Client) -> None:
    status, app = await _filter(client, {"allowed": [{"type": "StasisStart"}, {"type": "ChannelHangupRequest"}]})
    assert status == 200
    assert app["events_allowed"] == [{"type": "StasisStart"}, {"type": "ChannelHangupRequest"}]
    assert app["events_disallowed"] == []
    channel = await sim.inject_call(did="5551000", caller="+1555")
    await client.call("POST", f"/ari/channels/{channel}/answer")
    await client.call("DELETE", f"/ari/channels/{channel}")
    await client.drain()
    types = set(client.types())
    assert types == {"StasisStart", "ChannelHangupRequest"}  # no state change, StasisEnd or ChannelDestroyed
    assert (await client.call("GET", "/ari/applications/callcenter"))[1]["events_allowed"] == app["events_allowed"]


async def test_disallowed_wins_and_a_list_not_given_is_left_alone(sim: Simulator, client: Client) -> None:
    await _filter(client, {"allowed": [{"type": "StasisStart"}, {"type": "StasisEnd"}]})
    status, app = await _filter(client, {"disallowed": [{"type": "StasisStart"}]})
    assert status == 200
    assert app["events_allowed"] == [{"type": "StasisStart"}, {"type": "StasisEnd"}]  # not given: kept
    assert app["events_disallowed"] == [{"type": "StasisStart"}]
    channel = await sim.inject_call(did="5551000", caller="+1555")
    await client.call("DELETE", f"/ari/channels/{channel}")
    await client.drain()
    assert client.types() == ["StasisEnd"]


async def test_an_empty_body_or_empty_lists_filter_nothing(sim: Simulator, client: Client) -> None:
    await _filter(client, {"allowed": [{"type": "StasisEnd"}], "disallowed": [{"type": "StasisStart"}]})
    status, app = await _filter(client, None)
    assert status == 200 and app["events_allowed"] == [] and app["events_disallowed"] == []
    await _filter(client, {"allowed": [{"type": "StasisEnd"}]})
    await _filter(client, {"allowed": []})
    channel = await sim.inject_call(did="5551000", caller="+1555")
    await client.call("POST", f"/ari/channels/{channel}/answer")
    await client.drain()
    assert {"StasisStart", "ChannelStateChange"} <= set(client.types())


async def test_a_bad_filter_is_a_400_and_an_unknown_application_a_404(sim: Simulator, client: Client) -> None:
    assert (await _filter(client, {"allowed": "StasisStart"}))[0] == 400
    assert (await _filter(client, {"allowed": ["StasisStart"]}))[0] == 400
    assert (await _filter(client, {"allowed": [{"type": "StasisStart"}]}, app="nobody"))[0] == 404
    assert (await client.call("GET", "/ari/applications/callcenter"))[1]["events_allowed"] == []


async def test_a_filter_is_per_application(sim: Simulator, client: Client) -> None:
    other = Client(client.session, client.base)
    await other.connect(app="globex")
    await _filter(client, {"allowed": [{"type": "StasisEnd"}]})
    await sim.inject_call(did="5553000", caller="+1555", app="globex")
    assert "StasisStart" in [e["type"] for e in await other.drain()]


async def test_a_body_without_either_list_changes_nothing(sim: Simulator, client: Client) -> None:
    """Asterisk takes the whole body as the filter: an object naming neither list (``{"filter": {...}}``, as a
    Swagger client wraps a body parameter) updates neither."""
    await _filter(client, {"allowed": [{"type": "StasisEnd"}]})
    status, app = await _filter(client, {"filter": {"allowed": [{"type": "StasisStart"}]}})
    assert status == 200 and app["events_allowed"] == [{"type": "StasisEnd"}]


async def _rest_over_ws(client: Client, request_id: str, method: str, uri: str, body: Any = None) -> None:
    assert client.ws is not None
    message: dict[str, Any] = {"type": "RESTRequest", "request_id": request_id, "method": method, "uri": uri}
    if body is not None:
        message |= {"content_type": "application/json", "message_body": json.dumps(body)}
    await client.ws.send_str(json.dumps(message))


async def test_replies_over_the_websocket_pass_through_the_filter(sim: Simulator, client: Client) -> None:
    """As on a real Asterisk 22: a RESTResponse is one of the application's messages, so an allowed list without
    it swallows every reply from then on, the reply to the PUT that set the list included; with it listed, replies
    come back."""
    await _rest_over_ws(
        client, "a", "PUT", "applications/callcenter/eventFilter", {"allowed": [{"type": "StasisStart"}]}
    )
    await _rest_over_ws(client, "b", "GET", "asterisk/ping")
    await client.drain(0.2)
    assert [e for e in client.events if e["type"] == "RESTResponse"] == []

    allowed = {"allowed": [{"type": "StasisStart"}, {"type": "RESTResponse"}]}
    await _rest_over_ws(client, "c", "PUT", "applications/callcenter/eventFilter", allowed)
    await _rest_over_ws(client, "d", "GET", "asterisk/ping")
    await client.drain(0.2)
    replies = [e for e in client.events if e["type"] == "RESTResponse"]
    assert [(r["request_id"], r["status_code"]) for r in replies] == [("c", 200), ("d", 200)]


async def test_replies_can_be_sent_unfiltered_for_measuring_an_older_client() -> None:
    """`callcenter-ari sim --replies-unfiltered` (``filter_replies=False``): the benchmark's way to measure a commit
    whose filter lacks RESTResponse; events are filtered as ever."""
    sim = Simulator(SimConfig(username=USER, password=PASSWORD, clock="manual", seed=3, filter_replies=False))
    async with sim.serve() as server, aiohttp.ClientSession() as session:
        client = Client(session, server.base_url)
        await client.connect()
        only = {"allowed": [{"type": "StasisStart"}]}
        await _rest_over_ws(client, "a", "PUT", "applications/callcenter/eventFilter", only)
        await _rest_over_ws(client, "b", "GET", "asterisk/ping")
        channel = await sim.inject_call(did="5551000", caller="+1555")
        await client.call("DELETE", f"/ari/channels/{channel}")
        await client.drain(0.2)
        assert client.ws is not None
        await client.ws.close()
    assert [e["request_id"] for e in client.events if e["type"] == "RESTResponse"] == ["a", "b"]
    assert [e["type"] for e in client.events if e["type"] != "RESTResponse"] == ["StasisStart"]
