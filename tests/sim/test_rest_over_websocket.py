"""REST requests carried over the event WebSocket (RESTRequest in, RESTResponse out)."""

from __future__ import annotations

import json

import websockets

from callcenter_ari.sim import Simulator
from tests.sim.conftest import PASSWORD, USER


async def test_rest_request_over_websocket_answers_and_reports_errors(sim: Simulator) -> None:
    """Answer, play with a query in the uri, a JSON body, an unknown channel: same shapes as Asterisk."""
    async with sim.serve() as server:
        url = server.base_url.replace("http", "ws") + f"/ari/events?app=callcenter&api_key={USER}:{PASSWORD}"
        async with websockets.connect(url) as ws:
            channel_id = await sim.inject_call(did="5551077", caller="+15551234567", caller_name="Alice")
            assert json.loads(await ws.recv())["type"] == "StasisStart"
            await ws.send(
                json.dumps(
                    {
                        "type": "RESTRequest",
                        "request_id": "r1",
                        "transaction_id": "t1",
                        "method": "POST",
                        "uri": f"channels/{channel_id}/answer",
                    }
                )
            )
            state, answer = json.loads(await ws.recv()), json.loads(await ws.recv())
            assert state["type"] == "ChannelStateChange"
            assert {
                k: answer[k] for k in ("type", "request_id", "transaction_id", "status_code", "reason_phrase", "uri")
            } == {
                "type": "RESTResponse",
                "request_id": "r1",
                "transaction_id": "t1",
                "status_code": 204,
                "reason_phrase": "No Content",
                "uri": f"channels/{channel_id}/answer",
            }
            assert "message_body" not in answer
            await ws.send(
                json.dumps(
                    {
                        "type": "RESTRequest",
                        "request_id": "r2",
                        "method": "POST",
                        "uri": f"channels/{channel_id}/play?media=sound:beep",
                    }
                )
            )
            replies = [json.loads(await ws.recv()) for _ in range(2)]
            play = next(r for r in replies if r["type"] == "RESTResponse")
            assert play["status_code"] == 201 and play["transaction_id"] == ""
            assert play["uri"] == f"channels/{channel_id}/play"
            assert json.loads(play["message_body"])["media_uri"] == "sound:beep"
            await ws.send(
                json.dumps(
                    {
                        "type": "RESTRequest",
                        "request_id": "r3",
                        "method": "POST",
                        "uri": f"channels/{channel_id}/variable",
                        "content_type": "application/json",
                        "message_body": json.dumps({"variable": "CC_X", "value": "1"}),
                    }
                )
            )
            await sim.advance(1.0)  # the variable waits behind the playback on the channel's command queue
            replies = [json.loads(await ws.recv()) for _ in range(3)]
            assert [r["type"] for r in replies] == ["PlaybackFinished", "ChannelVarset", "RESTResponse"]
            await ws.send(
                json.dumps({"type": "RESTRequest", "request_id": "r4", "method": "GET", "uri": "channels/nope"})
            )
            missing = json.loads(await ws.recv())
            assert missing["status_code"] == 404
            assert json.loads(missing["message_body"]) == {"message": "Channel not found"}
