"""The shipped example (a utility hotline) decodes, validates, and runs its main paths."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

import callcenter_ari.ivr
from callcenter_ari.ivr import IvrConfig, OfferCallback, Queue, SurgeAnnouncement, Transfer, Voicemail, validate
from tests.ivr.helpers import Runtime

EXAMPLE = Path(callcenter_ari.ivr.__file__).with_name("example.toml")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2026, 1, 5, 10, 0, tzinfo=BERLIN).timestamp()
MONDAY_22 = datetime(2026, 1, 5, 22, 0, tzinfo=BERLIN).timestamp()
CHRISTMAS = datetime(2026, 12, 25, 10, 0, tzinfo=BERLIN).timestamp()


def load() -> IvrConfig:
    return msgspec.convert(tomllib.loads(EXAMPLE.read_text())["ivr"], IvrConfig, strict=True)


def hotline(now: float, surge: SurgeAnnouncement | None = None) -> Runtime:
    ivr = load()
    rt = Runtime(ivr.flows["hotline"], now=now, schedules=ivr.schedules, surge=surge)
    rt.start()
    rt.finish_prompt()  # welcome
    return rt


def test_example_decodes_and_validates() -> None:
    ivr = load()
    assert validate(ivr) == []
    assert set(ivr.flows) == {"hotline"}


def test_billing_in_office_hours() -> None:
    rt = hotline(MONDAY_10)
    rt.answer_lookup(ok=True, status=200, data={})
    rt.press("2")
    rt.press("1234567897#")
    assert rt.media == ("sound:utility/customer-number", "digits:1234567897")
    rt.finish_prompt()
    assert rt.result == Queue(
        queue="billing", skills=("billing",), priority=0, language="de", variables={"account": "1234567897"}
    )


def test_english_seat() -> None:
    rt = hotline(MONDAY_10)
    rt.answer_lookup(ok=False, error="timeout")
    rt.press("9")
    assert rt.session.language == "en"
    rt.press("0")
    assert isinstance(rt.result, Queue) and rt.result.language == "en"


def test_known_outage_announced_by_the_crm() -> None:
    rt = hotline(MONDAY_10)
    say = ["sound:utility/outage-in-your-area", "sound:utility/repair-expected-at", "number:18"]
    rt.answer_lookup(ok=True, status=200, data={"next": "known_outage", "say": say, "variables": {"area": "north"}})
    assert rt.media == tuple(say)
    rt.finish_prompt()
    rt.finish_prompt()
    rt.fire_timer()
    assert rt.result is None  # the goodbye plays
    rt.finish_prompt()
    assert rt.events("ivr.finished")[0]["result"] == "hangup"


def test_outage_report_with_postcode_confirmation() -> None:
    rt = hotline(MONDAY_10)
    rt.answer_lookup(ok=True, status=500)
    rt.press("1")
    rt.press("10115")
    rt.press("1")
    rt.finish_prompt()
    assert isinstance(rt.result, Queue) and rt.result.queue == "outage"
    assert rt.result.variables["postcode"] == "10115"


def test_after_hours_voicemail_and_gas_emergency() -> None:
    rt = hotline(MONDAY_22)
    rt.answer_lookup(ok=True, status=200, data={})
    rt.press("1")
    rt.finish_prompt()
    assert isinstance(rt.result, Voicemail)

    rt = hotline(CHRISTMAS)
    rt.answer_lookup(ok=True, status=200, data={})
    assert rt.media == ("sound:utility/closed-holiday",)
    rt.finish_prompt()
    rt.press("8")
    rt.finish_prompt()
    assert rt.result == Transfer(target_name="gas_emergency", variables={})


def test_surge_offers_callback() -> None:
    surge = SurgeAnnouncement(active=True, prompt=("sound:utility/storm",), offer_callback=True)
    rt = hotline(MONDAY_10, surge)
    rt.answer_lookup(ok=True, status=200, data={})
    assert rt.media[0] == "sound:utility/storm"
    rt.press("2")
    assert isinstance(rt.result, OfferCallback)
