"""The CRM lookup: the request, its answer setting variables, choosing a node, announcing; every failure falls back."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter_ari.ivr import Lookup, Play, Queue
from tests.ivr.helpers import Runtime, flow, queue

FLOW = flow(
    "crm",
    crm={
        "kind": "lookup",
        "url": "https://crm.example.com/ivr",
        "timeout": 2.0,
        "next": "normal",
        "fallback": "fallback",
        "choices": ["outage"],
        "send": ["account"],
        "wait_prompt": ["one-moment"],
    },
    normal=queue("normal"),
    outage=queue("outage"),
    fallback=queue("fallback"),
)


def started(**variables: str) -> Runtime:
    rt = Runtime(FLOW, variables={"account": "123", "secret": "x", **variables})
    rt.start()
    return rt


def test_lookup_posts_the_caller_and_chosen_variables() -> None:
    rt = started()
    (lookup,) = rt.lookups.values()
    assert lookup == Lookup(
        lookup.request_id,
        "https://crm.example.com/ivr",
        {
            "call_id": "c1",
            "caller": "+4930123456",
            "did": "100",
            "flow": "test",
            "node": "crm",
            "language": "",
            "variables": {"account": "123"},
        },
        2.0,
    )
    assert rt.media == ("sound:one-moment",)
    assert list(rt.timers.values()) == [1_003.0]  # the backstop: timeout plus a grace second


def test_answer_sets_variables_and_takes_next() -> None:
    rt = started()
    rt.answer_lookup(ok=True, status=200, data={"variables": {"area": "north", "vip": True, "n": 3}})
    assert isinstance(rt.result, Queue) and rt.result.queue == "normal"
    assert rt.result.variables["area"] == "north"
    assert rt.result.variables["vip"] == "true"
    assert rt.result.variables["n"] == "3"


def test_answer_may_choose_one_of_the_nodes_choices_and_announce() -> None:
    """ "Power is out in your area, repair expected at 18:00": the CRM's prompt plays, then its chosen node."""
    rt = started()
    say = ["sound:outage-in-your-area", "sound:repair-expected-at", "number:18", "sound:oclock"]
    out = rt.answer_lookup(ok=True, status=200, data={"next": "outage", "say": say, "text": "Outage, fix 18:00"})
    play = next(c for c in out if isinstance(c, Play))
    assert play.media == tuple(say) and not play.interruptible
    rt.finish_prompt()
    assert isinstance(rt.result, Queue) and rt.result.queue == "outage"
    assert rt.result.variables["crm_text"] == "Outage, fix 18:00"


BAD_ANSWERS: dict[str, dict[str, Any]] = {
    "500": {"ok": True, "status": 500, "data": {"error": "boom"}},
    "transport error": {"ok": False, "error": "connection refused"},
    "runtime timeout": {"ok": False, "error": "timeout"},
    "malformed json": {"ok": False, "status": 200, "error": "invalid JSON"},
    "not an object": {"ok": True, "status": 200, "data": ["next", "outage"]},
    "wrong types": {"ok": True, "status": 200, "data": {"variables": {"area": ["north"]}}},
    "next not a choice": {"ok": True, "status": 200, "data": {"next": "fallback_or_anything"}},
    "bad variable name": {"ok": True, "status": 200, "data": {"variables": {"a b": "x"}}},
    "variable name with a newline": {"ok": True, "status": 200, "data": {"variables": {"area\n": "x"}}},
    "sound with a newline": {"ok": True, "status": 200, "data": {"say": ["sound:outage\n"]}},
    "huge value": {"ok": True, "status": 200, "data": {"variables": {"a": "x" * 10_000}}},
    "sound path escape": {"ok": True, "status": 200, "data": {"say": ["sound:../../../etc/passwd"]}},
    "say from a variable": {"ok": True, "status": 200, "data": {"say": ["digits:{{account}}"]}},
    "unknown media kind": {"ok": True, "status": 200, "data": {"say": ["recording:secret"]}},
}


@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_a_failing_or_malformed_crm_takes_the_fallback(answer: dict[str, Any]) -> None:
    rt = started()
    rt.answer_lookup(**answer)
    assert isinstance(rt.result, Queue) and rt.result.queue == "fallback"
    assert rt.result.variables == {"account": "123", "secret": "x"}
    assert rt.events("ivr.lookup")[0]["ok"] is False


def test_no_answer_at_all_falls_back_when_the_backstop_fires() -> None:
    rt = started()
    rt.fire_timer()
    assert isinstance(rt.result, Queue) and rt.result.queue == "fallback"
    assert rt.events("ivr.lookup")[0]["error"] == "timeout"


def test_a_late_or_foreign_answer_is_ignored() -> None:
    from callcenter_ari.ivr import LookupResult

    rt = started()
    (request_id,) = rt.lookups
    assert rt.session.handle(LookupResult(request_id="other", ok=True, status=200, data={}), rt.now) == []
    rt.fire_timer()
    late = LookupResult(request_id=request_id, ok=True, status=200, data={"next": "outage"})
    assert rt.session.handle(late, rt.now) == []


def test_keys_during_the_lookup_are_ignored_and_the_wait_prompt_can_end_first() -> None:
    rt = started()
    rt.press("123")
    rt.finish_prompt()
    assert rt.timers  # still waiting on the CRM
    rt.answer_lookup(ok=True, status=200, data={})
    assert isinstance(rt.result, Queue) and rt.result.queue == "normal"


def test_an_answer_during_the_wait_prompt_stops_it() -> None:
    rt = started()
    rt.answer_lookup(ok=True, status=204, data={})
    assert isinstance(rt.result, Queue)
    assert not rt.playing
