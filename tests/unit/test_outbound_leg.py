"""The outbound leg's request checks and life, with plain asserts: what the owner hears for each way a call ends."""

from __future__ import annotations

import pytest

from callcenter_ari.calls.outbound import (
    Answered,
    Busy,
    Ended,
    Failed,
    InvalidRequest,
    NoAnswer,
    OutboundLeg,
    OutboundRequest,
    not_reached,
)
from callcenter_ari.trunks import PhoneNumber, parse_number

NUMBER = parse_number("+12025550143", "US")


def request(**changes: object) -> OutboundRequest:
    fields: dict[str, object] = {"leg_id": "o-1", "number": NUMBER, "trunks": ("provider1",)}
    fields.update(changes)
    return OutboundRequest(**fields)  # type: ignore[arg-type]


class TestRequestChecks:
    def test_a_plain_request_passes(self) -> None:
        request(caller_id="+12025550100", caller_name="Acme", variables={"CB_ID": "x1"}, app_args=("cb", "x1")).check()

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"leg_id": "a,b"}, "leg_id"),
            ({"leg_id": ""}, "leg_id"),
            ({"number": PhoneNumber("12025550143&PJSIP/x")}, "number"),
            ({"trunks": ()}, "trunks"),
            ({"caller_id": "202-555-0100"}, "caller_id"),
            ({"caller_id": "+1"}, "caller_id"),
            ({"caller_name": 'Ac"me'}, "caller_name"),
            ({"ring_seconds": 0}, "ring_seconds"),
            ({"variables": {"A-B": "1"}}, "variables"),
            ({"variables": {"AB": "line\nbreak"}}, "variables"),
            ({"app_args": ("a,b",)}, "app_args"),
        ],
    )
    def test_a_bad_field_is_named(self, changes: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidRequest) as raised:
            request(**changes).check()
        assert raised.value.field == field

    def test_stasis_args_start_with_the_leg(self) -> None:
        assert request(app_args=("cb", "x1")).stasis_args == ("outbound", "o-1", "cb", "x1")

    def test_caller_id_with_a_name(self) -> None:
        assert request(caller_id="+12025550100", caller_name="Acme").caller == '"Acme" <+12025550100>'
        assert request(caller_id="+12025550100").caller == "+12025550100"


class TestNotReached:
    @pytest.mark.parametrize(
        ("dialstatus", "cause", "expected"),
        [
            ("NOANSWER", 16, NoAnswer("o-1")),
            ("", 19, NoAnswer("o-1")),
            ("", 18, NoAnswer("o-1")),
            ("BUSY", 17, Busy("o-1")),
            ("", 17, Busy("o-1")),
            ("CONGESTION", 34, Failed("o-1", "CONGESTION", 34)),
            ("CHANUNAVAIL", 20, Failed("o-1", "CHANUNAVAIL", 20)),
            ("", 21, Failed("o-1", "cause", 21)),
            ("", None, Failed("o-1", "cause", None)),
        ],
    )
    def test_dial_status_then_cause(self, dialstatus: str, cause: int | None, expected: object) -> None:
        assert not_reached("o-1", dialstatus, cause) == expected


class TestLeg:
    def test_answered_then_ended(self) -> None:
        leg = OutboundLeg(request(), "provider1")
        leg.dial_status("RINGING")
        assert leg.up() == Answered("o-1", "provider1")
        assert leg.up() is None, "answered once"
        assert leg.gone(16) == Ended("o-1", 16)
        assert leg.gone(16) is None, "ended once"

    def test_busy_reported_by_dial_wins_over_the_cause(self) -> None:
        leg = OutboundLeg(request(), "provider1")
        leg.dial_status("BUSY")
        assert leg.gone(16) == Busy("o-1")

    def test_ringing_statuses_do_not_count_as_a_reason(self) -> None:
        leg = OutboundLeg(request(), "provider1")
        leg.dial_status("RINGING")
        assert leg.gone(19) == NoAnswer("o-1")

    def test_refused_only_while_dialing(self) -> None:
        leg = OutboundLeg(request(), "provider1")
        assert leg.refused("refused") == Failed("o-1", "refused")
        assert leg.up() is None and leg.gone(16) is None, "nothing follows a refusal"
        answered = OutboundLeg(request(), "provider1")
        answered.up()
        assert answered.refused("refused") is None

    def test_cancelled_by_its_owner_while_ringing(self) -> None:
        leg = OutboundLeg(request(), "provider1")
        leg.cancel()
        assert leg.gone(32) == Failed("o-1", "CANCEL", 32)
