"""Decoding ARI events at the boundary: typed structs for what we know, UnknownEvent (never an exception) else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcenter_ari.ari.events import (
    ChannelDtmfReceived,
    ChannelHangupRequest,
    PlaybackFinished,
    RestResponse,
    StasisStart,
    UnknownEvent,
    decode_event,
    decode_wire,
)

TRANSCRIPTS = Path(__file__).parents[1] / "sim" / "transcripts"  # recorded from Asterisk 22

STASIS_START = {
    "type": "StasisStart",
    "timestamp": "2026-11-22T05:55:40.449+0000",
    "args": ["inbound", "provider1", "5551000"],
    "channel": {
        "id": "1795326940.1",
        "name": "PJSIP/provider1-00000001",
        "state": "Ring",
        "caller": {"name": "Alice", "number": "+15551234567"},
        "dialplan": {"context": "from-trunk", "exten": "5551000", "priority": 2, "app_name": "Stasis"},
        "language": "en",
        "some_future_field": 1,
    },
    "asterisk_id": "02:fc:00:00:00:01",
    "application": "callcenter",
}


def test_stasis_start_decodes_to_a_typed_event() -> None:
    event = decode_event(json.dumps(STASIS_START))
    assert isinstance(event, StasisStart)
    assert event.args == ("inbound", "provider1", "5551000")
    assert event.channel.caller.number == "+15551234567"
    assert event.channel.dialplan.exten == "5551000"


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ('{"type": "ChannelFlyingAway", "channel": {"id": "x"}}', "ChannelFlyingAway"),
        ('{"type": "ChannelDtmfReceived", "digit": 5}', "ChannelDtmfReceived"),
        ('{"no_type": true}', "?"),
        ("not json at all", "?"),
        ("[1, 2, 3]", "?"),
    ],
)
def test_unknown_or_malformed_messages_become_unknown_event(frame: str, kind: str) -> None:
    """An unknown event type or a malformed body never raises: the loop logs it and goes on."""
    event = decode_event(frame)
    assert isinstance(event, UnknownEvent)
    assert event.type == kind


def test_rest_response_and_events_share_the_websocket() -> None:
    reply = decode_wire(
        '{"type": "RESTResponse", "request_id": "r1", "transaction_id": "", "status_code": 204,'
        ' "reason_phrase": "No Content", "uri": "channels/1/answer"}'
    )
    assert reply == RestResponse(request_id="r1", status_code=204, reason_phrase="No Content", uri="channels/1/answer")
    assert isinstance(decode_wire(json.dumps(STASIS_START)), StasisStart)


def test_every_event_recorded_from_asterisk_decodes() -> None:
    """Every event in the recorded Asterisk 22 transcripts decodes, and the ones the app acts on are typed."""
    typed = {StasisStart, ChannelHangupRequest, PlaybackFinished, ChannelDtmfReceived}
    seen: set[type] = set()
    for path in sorted(TRANSCRIPTS.glob("*.json")):
        for step in json.loads(path.read_text())["steps"]:
            if step["kind"] != "event":
                continue
            event = decode_wire(json.dumps(step["event"]))
            if isinstance(event, UnknownEvent):
                # Only event types the application does not use may be unknown, and never because of a bad body.
                assert "Expected" not in event.reason, (path.name, step["event"]["type"], event.reason)
            seen.add(type(event))
    assert typed <= seen
