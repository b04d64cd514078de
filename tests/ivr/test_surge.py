"""The surge announcement: passed in at the session's start, played to every new caller or only to an area."""

from __future__ import annotations

from callcenter_ari.ivr import OfferCallback, Queue, SurgeAnnouncement
from tests.ivr.helpers import Runtime, flow, queue

SURGE = SurgeAnnouncement(active=True, prompt=("sound:storm-high-volume",))

# Greeting, CRM lookup (which sets "area"), then the surge node, then the queue; self-service and callback offered.
FLOW = flow(
    "greeting",
    greeting={"kind": "play", "prompt": ["welcome"], "next": "crm"},
    crm={"kind": "lookup", "url": "https://crm/x", "next": "surge", "fallback": "surge"},
    surge={
        "kind": "surge",
        "next": "q",
        "self_service": "meter",
        "callback": "cb",
        "offer_prompt": ["press-1-self-service", "press-2-callback"],
    },
    meter={"kind": "play", "prompt": ["meter-info"], "next": "q"},
    cb={"kind": "callback", "queue": "general"},
    q=queue(),
)


def run(surge: SurgeAnnouncement | None, area: str | None = None) -> Runtime:
    rt = Runtime(FLOW, surge=surge)
    rt.start()
    rt.finish_prompt()
    rt.answer_lookup(ok=True, status=200, data={"variables": {"area": area}} if area else {})
    return rt


def test_surge_off_goes_straight_on() -> None:
    rt = run(SurgeAnnouncement(active=False, prompt=("sound:storm-high-volume",)))
    assert isinstance(rt.result, Queue)
    assert rt.events("ivr.surge") == []
    rt = run(None)
    assert isinstance(rt.result, Queue)


def test_surge_on_plays_right_where_the_flow_puts_it() -> None:
    rt = run(SURGE)
    assert rt.media == ("sound:storm-high-volume",)
    rt.finish_prompt()
    assert isinstance(rt.result, Queue)


def test_switching_it_off_affects_the_next_caller_only() -> None:
    """The state is read once at the start: the caller already listening keeps it, the next one does not."""
    first = run(SURGE)
    second = run(SurgeAnnouncement(active=False))
    assert first.media == ("sound:storm-high-volume",)
    assert isinstance(second.result, Queue)


def test_area_filter_plays_only_to_callers_in_those_areas() -> None:
    surge = SurgeAnnouncement(active=True, prompt=("sound:storm-north",), areas=("north",))
    inside = run(surge, area="north")
    assert inside.media == ("sound:storm-north",)
    outside = run(surge, area="south")
    assert isinstance(outside.result, Queue)
    assert outside.events("ivr.surge") == [{**outside.events("ivr.surge")[0], "played": False}]
    unknown = run(surge)
    assert isinstance(unknown.result, Queue)


def test_offer_self_service_or_callback_before_queueing() -> None:
    surge = SurgeAnnouncement(active=True, prompt=("sound:storm",), offer_self_service=True, offer_callback=True)
    rt = run(surge)
    assert rt.media == ("sound:storm", "sound:press-1-self-service", "sound:press-2-callback")
    rt.press("2")
    assert isinstance(rt.result, OfferCallback)

    rt = run(surge)
    rt.press("1")
    assert rt.media == ("sound:meter-info",)

    rt = run(surge)
    rt.finish_prompt()
    rt.fire_timer()  # staying on the line means: queue
    assert isinstance(rt.result, Queue)

    rt = run(surge)
    rt.press("7")  # any other key: queue, without a lecture
    assert isinstance(rt.result, Queue)


def test_only_the_offers_switched_on_are_made() -> None:
    surge = SurgeAnnouncement(active=True, prompt=("sound:storm",), offer_callback=True)
    rt = run(surge)
    rt.press("1")  # self-service not offered now
    assert isinstance(rt.result, Queue)


def test_a_flow_without_a_surge_node_announces_at_the_start() -> None:
    f = flow("menu", menu={"kind": "menu", "prompt": ["m"], "options": {"1": "q"}, "fallback": "q"}, q=queue())
    rt = Runtime(f, surge=SURGE)
    rt.start()
    assert rt.media == ("sound:storm-high-volume",)
    rt.finish_prompt()
    assert rt.media == ("sound:m",)
