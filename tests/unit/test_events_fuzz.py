"""The ARI event decoder fuzzed: whatever arrives on the WebSocket (bytes that are not JSON, JSON that is not an
event, known events with unknown fields, wrong types or absurd nesting), it answers a typed event or UnknownEvent
and never raises, so no frame can stop the event loop."""

from __future__ import annotations

import json
from typing import Any, get_args

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from callcenter_ari.ari.events import (
    ChannelDtmfReceived,
    Event,
    RestResponse,
    UnknownEvent,
    decode_event,
    decode_wire,
    event_from_builtins,
)
from callcenter_ari.ari.models import Channel

TAGS = sorted(str(cls.__struct_config__.tag) for cls in get_args(Event))
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)
channel_like = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=10), st.integers()), "name": st.text(max_size=10)},
    optional={"state": json_values, "caller": json_values, "dialplan": json_values, "future": json_values},
)
# A frame shaped like an event of a known type, with some of its fields right, some wrong, some unknown.
event_like = st.builds(
    lambda tag, fields: {"type": tag, **fields},
    st.sampled_from(TAGS),
    st.dictionaries(
        st.sampled_from(
            ["channel", "peer", "bridge", "playback", "recording", "args", "digit", "cause", "dialstatus", "x", "type"]
        ),
        st.one_of(json_values, channel_like),
        max_size=5,
    ),
)


def deep(levels: int, kind: str = "StasisStart") -> bytes:
    return b'{"type":"' + kind.encode() + b'","channel":' + b"[" * levels + b"]" * levels + b"}"


def decoded(result: object) -> bool:
    return isinstance(result, (UnknownEvent, RestResponse, *get_args(Event)))


@FUZZ
@given(frame=st.binary(max_size=200))
@example(frame=b"[" * 100_000)
@example(frame=deep(100_000))
@example(frame=deep(100_000, "RESTResponse"))
def test_any_bytes_decode_without_raising(frame: bytes) -> None:
    assert decoded(decode_event(frame)) and decoded(decode_wire(frame))


@FUZZ
@given(message=event_like)
def test_event_shaped_frames_of_every_type_decode_without_raising(message: dict[str, Any]) -> None:
    frame = json.dumps(message)
    for result in (decode_event(frame), decode_wire(frame), event_from_builtins(message)):
        assert decoded(result)
        if isinstance(result, UnknownEvent):
            assert len(result.reason) < 1000  # what goes to the log line is bounded


@FUZZ
@given(value=json_values)
def test_any_json_value_converts_without_raising(value: Any) -> None:
    assert decoded(event_from_builtins(value if isinstance(value, dict) else {"type": "StasisStart", "channel": value}))


def test_a_frame_nested_beyond_any_event_is_unknown_not_an_exception() -> None:
    """A thousand levels inside a known event's field: msgspec's recursion limit would raise, the decoder does not."""
    for frame in (deep(100_000), deep(100_000, "ChannelDtmfReceived"), b'{"type":"X","a":' + b"[" * 100_000):
        assert isinstance(decode_event(frame), UnknownEvent) and isinstance(decode_wire(frame), UnknownEvent)
    too_deep = b'{"type":"StasisStart","future":' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # an unknown field
    assert decode_event(too_deep) == UnknownEvent(type="?", reason="nested too deeply to be an event")
    nested: Any = []
    for _ in range(5_000):
        nested = [nested]
    assert isinstance(event_from_builtins({"type": "StasisStart", "channel": nested}), UnknownEvent)


# The fields ARI's events and channels have: an "unknown" field must not be one of them under another value.
KNOWN = {"type", *ChannelDtmfReceived.__struct_fields__, *Channel.__struct_fields__}


@FUZZ
@given(
    extra=st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in KNOWN), json_values, max_size=5)
)
def test_unknown_fields_are_ignored(extra: dict[str, Any]) -> None:
    """A newer Asterisk adds fields: the event decodes as it did without them."""
    base = {"type": "ChannelDtmfReceived", "digit": "5", "duration_ms": 100, "channel": {"id": "c1", "name": "n"}}
    plain = decode_event(json.dumps(base))
    assert decode_event(json.dumps({**extra, **base})) == plain
    channel_extra = {**base, "channel": {**extra, "id": "c1", "name": "n"}}
    assert decode_event(json.dumps(channel_extra)) == plain
