"""The caller's side of a callback, in the call machine: the offer while waiting, confirming the calling number or
keying in another (checked against the number plan), the name, the answer; back in line at their place whenever the
request does not go through."""

from __future__ import annotations

import msgspec

from callcenter_ari.callback.numbers import NumberPlan
from callcenter_ari.callback.settings import CallbackSettings, QueueCallback
from callcenter_ari.calls.machine import CallSettings, InboundCall, QueueSettings
from callcenter_ari.calls.messages import (
    CallbackAnswer,
    CallbackOffer,
    CallerGone,
    Command,
    Dequeue,
    Digit,
    Emit,
    Enqueue,
    Hangup,
    Play,
    PlaybackDone,
    RecordingDone,
    RecordMessage,
    RequestCallback,
    SetTimer,
    Start,
    Timeout,
)
from callcenter_ari.calls.records import CallRecord

CALLER = "+12025550143"
PROMPTS = CallbackSettings().prompts
SETTINGS = CallSettings(
    greeting="sound:hello",
    queue="support",
    queues={"support": QueueSettings(moh_class="default")},
    callback=CallbackSettings(plan=NumberPlan(region="US")),
)


def machine(caller: str = CALLER, queue: QueueSettings | None = None) -> InboundCall:
    settings = SETTINGS if queue is None else msgspec.structs.replace(SETTINGS, queues={"support": queue})
    record = CallRecord(call_id="c1", channel_id="ch1", caller=caller, did="5552000", started_at=0.0)
    call = InboundCall(record, settings)
    call.handle(Start(), 1.0)
    call.handle(PlaybackDone("c1-greeting"), 2.0)  # in line since 2.0
    assert call.record.phase == "queued"
    return call


def of(commands: list[Command], kind: type) -> list:  # type: ignore[type-arg]
    return [c for c in commands if isinstance(c, kind)]


def offered_and_accepted(call: InboundCall, now: float = 50.0) -> list[Command]:
    offer = call.handle(CallbackOffer(), now)
    assert [p.media for p in of(offer, Play)] == [(PROMPTS.offer,)]
    return call.handle(Digit("1"), now + 3)


class TestOffer:
    def test_a_key_before_the_offer_does_nothing(self) -> None:
        call = machine()
        assert call.handle(Digit("1"), 10.0) == []
        assert call.record.phase == "queued"

    def test_accepting_leaves_the_line_and_asks_for_the_number(self) -> None:
        call = machine()
        commands = offered_and_accepted(call)
        assert Dequeue("support") in commands and call.record.phase == "callback"
        [ask] = of(commands, Play)
        assert ask.media == (PROMPTS.confirm_number, "digits:12025550143", PROMPTS.confirm_or_other)

    def test_offered_once(self) -> None:
        call = machine()
        call.handle(CallbackOffer(), 10.0)
        assert call.handle(CallbackOffer(), 20.0) == []

    def test_the_queue_policy_offers_after_n_seconds(self) -> None:
        call = machine(queue=QueueSettings(callback=QueueCallback(offer_after_seconds=60)))
        # The timer was set when the caller joined the line.
        call2 = InboundCall(CallRecord(call_id="c2", channel_id="ch2", caller=CALLER, started_at=0.0), call.settings)
        call2.handle(Start(), 1.0)
        joined = call2.handle(PlaybackDone("c2-greeting"), 2.0)
        assert SetTimer("callback_offer", 62.0) in joined
        offer = call2.handle(Timeout("callback_offer"), 62.0)
        assert [p.media for p in of(offer, Play)] == [(PROMPTS.offer,)]

    def test_the_queue_policy_offers_when_the_estimated_wait_is_long(self) -> None:
        from callcenter_ari.calls.messages import Announce

        call = machine(queue=QueueSettings(callback=QueueCallback(offer_when_wait_over_seconds=300)))
        short = call.handle(Announce(3, 200.0), 10.0)
        assert PROMPTS.offer not in of(short, Play)[0].media
        call.handle(PlaybackDone(of(short, Play)[0].playback_id), 12.0)
        long = call.handle(Announce(3, 400.0), 40.0)
        assert of(long, Play)[0].media[-1] == PROMPTS.offer and call.record.callback_offered


class TestNumber:
    def test_the_calling_number_confirmed_with_the_key(self) -> None:
        call = machine()
        offered_and_accepted(call)
        commands = call.handle(Digit("1"), 60.0)
        assert of(commands, RequestCallback) == [RequestCallback(queue="support", number=CALLER, place=2.0)]

    def test_no_key_means_the_calling_number(self) -> None:
        call = machine()
        [ask] = of(offered_and_accepted(call), Play)
        assert SetTimer("callback_input", 68.0) in call.handle(PlaybackDone(ask.playback_id), 60.0)
        assert of(call.handle(Timeout("callback_input"), 68.0), RequestCallback)[0].number == CALLER

    def test_another_number_keyed_in(self) -> None:
        call = machine()
        offered_and_accepted(call)
        [ask] = of(call.handle(Digit("2"), 58.0), Play)
        assert ask.media == (PROMPTS.key_number,)
        commands: list[Command] = []
        for n, digit in enumerate("2025550188#"):
            commands = call.handle(Digit(digit), 60.0 + n)
        assert of(commands, RequestCallback)[0].number == "+12025550188"

    def test_digits_taken_when_the_caller_stops_keying(self) -> None:
        call = machine()
        offered_and_accepted(call)
        call.handle(Digit("2"), 58.0)
        for n, digit in enumerate("2025550188"):
            call.handle(Digit(digit), 60.0 + n)
        commands = call.handle(Timeout("callback_input"), 80.0)
        assert of(commands, RequestCallback)[0].number == "+12025550188"

    def test_a_number_the_plan_refuses_is_asked_again_then_the_caller_goes_back_in_line(self) -> None:
        call = machine()
        offered_and_accepted(call)
        call.handle(Digit("2"), 58.0)
        for attempt in range(3):
            commands: list[Command] = []
            for digit in "19005550123#":  # premium rate
                commands = call.handle(Digit(digit), 70.0 + attempt)
            assert not of(commands, RequestCallback)
        assert call.record.phase == "queued"
        assert Enqueue("support", 0, 2.0) in commands, "back at the caller's place"
        assert of(commands, Emit)[0].kind == "call.callback_declined"

    def test_a_withheld_number_must_be_keyed_in(self) -> None:
        call = machine(caller="")
        ask = of(offered_and_accepted(call), Play)[0]
        assert ask.media == (PROMPTS.key_number,)
        assert not of(call.handle(Digit("1"), 60.0), RequestCallback), "a digit of the number, nothing to confirm"


class TestAnswer:
    def test_accepted_the_caller_hears_it_and_the_call_ends(self) -> None:
        call = machine()
        offered_and_accepted(call)
        call.handle(Digit("1"), 60.0)
        [said] = of(call.handle(CallbackAnswer(True, "k1"), 60.1), Play)
        assert said.media == (PROMPTS.accepted,)
        done = call.handle(PlaybackDone(said.playback_id), 64.0)
        assert Hangup("ch1") in done
        assert call.record.outcome == "callback_requested" and call.record.callback_id == "k1"

    def test_refused_as_pending_the_caller_is_told_and_keeps_waiting_at_their_place(self) -> None:
        call = machine()
        offered_and_accepted(call)
        call.handle(Digit("1"), 60.0)
        [said] = of(call.handle(CallbackAnswer(False, reason="pending"), 60.1), Play)
        assert said.media == (PROMPTS.already_pending,)
        back = call.handle(PlaybackDone(said.playback_id), 63.0)
        assert call.record.phase == "queued" and Enqueue("support", 0, 2.0) in back

    def test_the_name_is_recorded_when_the_queue_asks(self) -> None:
        call = machine(queue=QueueSettings(callback=QueueCallback(record_name=True)))
        offered_and_accepted(call)
        [prompt] = of(call.handle(Digit("1"), 60.0), Play)
        assert prompt.media == (PROMPTS.say_name,)
        [record] = of(call.handle(PlaybackDone(prompt.playback_id), 62.0), RecordMessage)
        assert record.name == "c1-cbname" and record.beep
        [request] = of(call.handle(RecordingDone("c1-cbname"), 67.0), RequestCallback)
        assert request.name_recording == "c1-cbname"

    def test_hanging_up_once_the_number_is_chosen_still_saves_the_callback(self) -> None:
        call = machine(queue=QueueSettings(callback=QueueCallback(record_name=True)))
        offered_and_accepted(call)
        call.handle(Digit("1"), 60.0)
        gone = call.handle(CallerGone(16), 61.0)
        assert of(gone, RequestCallback)[0].number == CALLER
        assert call.record.outcome == "callback_requested"

    def test_hanging_up_before_choosing_a_number_is_an_abandon(self) -> None:
        call = machine()
        offered_and_accepted(call)
        call.handle(CallerGone(16), 61.0)
        assert call.record.outcome == "abandoned"
