"""A callback keeps the caller's place in line: on the ACD board (pure) it is ordered by the caller's original
arrival among live callers, never losing its place and never ahead of a caller who arrived before it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter_ari.acd.board import AgentSpec, Board, Offer, QueueSpec
from callcenter_ari.callback.entry import Rules, request


def board() -> Board:
    return Board([AgentSpec("a1", "PJSIP/a1", ("support",))], queues=[QueueSpec(name="support")])


def virtual_hold(call_id: str, board: Board, now: float) -> str:
    """The caller ``call_id`` takes a callback: the entry takes its place on the board, the caller leaves."""
    arrived = next(c for c in board.waiting("support") if c == call_id)
    place = {"c1": 10.0, "c2": 20.0, "c3": 30.0, "c4": 40.0}[arrived]
    entry = request(
        callback_id="k-" + call_id,
        queue="support",
        number="+12025550143",
        origin="virtual_hold",
        rules=Rules(),
        now=now,
        place=place,
    ).entry
    board.remove(call_id)
    board.enqueue(entry.id, "support", entry.priority, entry.place, now)
    return entry.id


def test_the_caller_at_position_3_keeps_position_3_as_a_callback() -> None:
    b = board()
    for call_id, arrived in (("c1", 10.0), ("c2", 20.0), ("c3", 30.0)):
        b.enqueue(call_id, "support", 0, arrived, arrived)
    assert b.position("c3") == 3
    callback = virtual_hold("c3", b, now=35.0)
    b.enqueue("c4", "support", 0, 40.0, 40.0)
    assert b.waiting("support") == ["c1", "c2", callback, "c4"]
    assert b.position(callback) == 3
    b.log_in("a1", 50.0)  # the first agent takes c1, not the callback
    assert b.waiting("support") == ["c2", callback, "c4"] and b.position(callback) == 2


def test_its_turn_comes_after_every_earlier_caller_and_before_later_ones() -> None:
    b = board()
    b.enqueue("c1", "support", 0, 10.0, 10.0)
    b.enqueue("c2", "support", 0, 20.0, 20.0)
    callback = virtual_hold("c2", b, now=25.0)
    b.enqueue("c3", "support", 0, 30.0, 30.0)
    b.log_in("a1", 40.0)
    served = []
    for now in (41.0, 42.0, 43.0):
        served.append(b.agents["a1"].call_id)
        b.connected("a1", now)
        b.finished("a1", now)
        b.end_wrapup("a1", now)
    assert served == ["c1", callback, "c3"]


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.lists(st.integers(min_value=0, max_value=10_000), min_size=2, max_size=12, unique=True),
    chosen=st.data(),
)
def test_a_callback_is_never_ahead_of_an_earlier_caller(arrivals: list[int], chosen: st.DataObject) -> None:
    b = board()
    calls = {f"c{i}": float(t) for i, t in enumerate(arrivals)}
    for call_id, arrived in calls.items():
        b.enqueue(call_id, "support", 0, arrived, arrived)
    taker = chosen.draw(st.sampled_from(sorted(calls)))
    before = b.position(taker)
    entry = request(
        callback_id="k",
        queue="support",
        number="+12025550143",
        origin="virtual_hold",
        rules=Rules(),
        now=20_000.0,
        place=calls[taker],
    ).entry
    b.remove(taker)
    b.enqueue(entry.id, "support", 0, entry.place, 20_000.0)
    order = b.waiting("support")
    assert b.position("k") == before, "it keeps its place"
    ahead = order[: order.index("k")]
    assert all(calls[c] < calls[taker] for c in ahead), "everyone ahead arrived before the caller"
    assert all(calls[c] > calls[taker] for c in order[order.index("k") + 1 :])


def test_offer_goes_to_the_callback_when_its_turn_comes() -> None:
    b = board()
    b.enqueue("c1", "support", 0, 10.0, 10.0)
    callback = virtual_hold("c1", b, now=15.0)
    assert b.log_in("a1", 20.0) == [Offer(callback, "a1", "PJSIP/a1", "support")]
