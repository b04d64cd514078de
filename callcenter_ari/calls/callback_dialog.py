"""The caller's side of a callback request, embedded in the call machine (phase ``callback``) as the consultation is.

Theory of operation
-------------------
::

    confirm --key (the calling number)--------------------------------> [name] --> saving --> answer --> result
       '--other key--> number --digits + '#' (checked)--^
                         ^--- a number the plan refuses, or nothing keyed in time: asked again, ``tries`` times,
                              then given up

*confirm*: the caller hears the number they call from, and presses the key to keep it or the other key to give
another. A caller whose own number the plan refuses (withheld, premium rate) goes straight to *number*: they key
one in followed by '#' ('*' starts over). It is checked against the number plan (``callback/numbers.py``) before it
goes anywhere. Keys cut a prompt short; ``input_seconds`` after the prompt (or the last key) the digits keyed so
far are taken as the number.
*name* (if the queue asks for it): the caller says their name after the beep, for the agent to hear.
*saving*: ``RequestCallback``; its answer is ``CallbackAnswer``. *answer*: the caller hears that the callback is
saved, or that one is pending for the number already (or could not be saved), and the dialog ends with
``Requested`` or ``Declined``: the call then hangs up, or puts the caller back in line at their place.

Pure, like the call machine: inputs and the time in, commands out. Its state is not kept through a restart: a
caller found in this phase after one goes back in line at their place.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.callback.numbers import callback_number
from callcenter_ari.callback.settings import CallbackSettings
from callcenter_ari.calls.messages import (
    CallbackAnswer,
    CancelTimer,
    Command,
    Digit,
    Play,
    PlaybackDone,
    RecordingDone,
    RecordMessage,
    RequestCallback,
    SetTimer,
    StopPlayback,
    Timeout,
)
from callcenter_ari.trunks.phone import InvalidNumber

INPUT_TIMER = "callback_input"
NAME_SECONDS = 5
_MAX_DIGITS = 20

DialogStep = Literal["confirm", "number", "name", "saving", "answer", "done"]


class Requested(msgspec.Struct, frozen=True):
    callback_id: str


class Declined(msgspec.Struct, frozen=True):
    reason: str  # "invalid_number", "pending", "unavailable"


Result = Requested | Declined
DialogInput = Digit | PlaybackDone | Timeout | RecordingDone | CallbackAnswer


class CallbackDialog:
    def __init__(
        self,
        *,
        call_id: str,
        channel: str,
        caller: str,
        queue: str,
        place: float,
        priority: int,
        settings: CallbackSettings,
        record_name: bool,
        language: str = "",
    ) -> None:
        self.call_id = call_id
        self.channel = channel
        self.queue = queue
        self.place = place
        self.priority = priority
        self.settings = settings
        self.record_name = record_name
        self.language = language
        self.step: DialogStep = "confirm"
        self.digits = ""
        self.tries = 0
        self.number = ""
        self.name_recording = ""
        self.result: Result | None = None
        self._playing = ""
        self._pending: Result | None = None  # the result, once the answer's prompt has been heard
        self._seq = 0
        try:
            self._caller: str = callback_number(caller, settings.plan).e164 if caller else ""
        except InvalidNumber:
            self._caller = ""  # withheld, or a number the plan refuses: the caller must key one in

    def start(self, now: float) -> list[Command]:
        if not self._caller:
            self.step = "number"
        return self._ask(invalid=False)

    def handle(self, message: DialogInput, now: float) -> list[Command]:
        match message:
            case Digit(digit=digit) if self.step == "confirm":
                return self._confirm(digit)
            case Digit(digit=digit) if self.step == "number":
                return self._digit(digit, now)
            case PlaybackDone(playback_id=playback_id) if playback_id == self._playing:
                return self._played(now)
            case Timeout(name=name) if name == INPUT_TIMER and self.step == "confirm":
                return self._chosen(self._caller)  # no key: the calling number, as the prompt said
            case Timeout(name=name) if name == INPUT_TIMER and self.step == "number":
                return self._number_done()
            case RecordingDone(name=name) if self.step == "name" and name == self.name_recording:
                return self._save()
            case CallbackAnswer() if self.step == "saving":
                return self._answered(message)
        return []

    @property
    def number_chosen(self) -> bool:
        return bool(self.number)

    def request(self) -> RequestCallback:
        return RequestCallback(
            queue=self.queue,
            number=self.number,
            place=self.place,
            priority=self.priority,
            name_recording=self.name_recording,
        )

    # ---- steps -------------------------------------------------------------------------------------------

    def _confirm(self, digit: str) -> list[Command]:
        if digit not in (self.settings.key, self.settings.other_key):
            return []
        commands: list[Command] = [StopPlayback(self._playing)] if self._playing else []
        self._playing = ""
        commands.append(CancelTimer(INPUT_TIMER))
        if digit == self.settings.key:
            return [*commands, *self._chosen(self._caller)]
        self.step = "number"
        return [*commands, *self._ask(invalid=False)]

    def _digit(self, digit: str, now: float) -> list[Command]:
        commands: list[Command] = [StopPlayback(self._playing)] if self._playing else []
        self._playing = ""
        if digit == "#":
            return [*commands, *self._number_done()]
        if digit == "*":
            self.digits = ""
        elif digit.isdigit() and len(self.digits) < _MAX_DIGITS:
            self.digits += digit
        return [*commands, SetTimer(INPUT_TIMER, now + self.settings.input_seconds)]

    def _number_done(self) -> list[Command]:
        commands: list[Command] = [CancelTimer(INPUT_TIMER)]
        try:
            number = callback_number(self.digits, self.settings.plan)
        except InvalidNumber:
            self.tries += 1
            self.digits = ""
            if self.tries >= self.settings.tries:
                self.step = "done"
                self.result = Declined("invalid_number")
                return commands
            return [*commands, *self._ask(invalid=True)]
        return [*commands, *self._chosen(number.e164)]

    def _chosen(self, number: str) -> list[Command]:
        self.number = number
        if not self.record_name:
            return self._save()
        self.step = "name"
        self.name_recording = f"{self.call_id}-cbname"
        return [self._play((self.settings.prompts.say_name,), "name")]

    def _played(self, now: float) -> list[Command]:
        self._playing = ""
        if self.step in ("confirm", "number"):
            return [SetTimer(INPUT_TIMER, now + self.settings.input_seconds)]
        if self.step == "name":
            return [RecordMessage(self.channel, self.name_recording, NAME_SECONDS, True, "#")]
        if self.step == "answer":
            self.step = "done"
            self.result = self._pending
        return []

    def _save(self) -> list[Command]:
        self.step = "saving"
        return [self.request()]

    def _answered(self, answer: CallbackAnswer) -> list[Command]:
        prompts = self.settings.prompts
        self.step = "answer"
        if answer.accepted:
            self._pending = Requested(answer.callback_id)
            return [self._play((prompts.accepted,), "accepted")]
        self._pending = Declined(answer.reason or "unavailable")
        prompt = prompts.already_pending if answer.reason == "pending" else prompts.unavailable
        return [self._play((prompt,), "declined")]

    def _ask(self, *, invalid: bool) -> list[Command]:
        prompts = self.settings.prompts
        media: list[str] = [prompts.invalid_number] if invalid else []
        if self.step == "confirm":
            media += [prompts.confirm_number, f"digits:{self._caller.lstrip('+')}", prompts.confirm_or_other]
        else:
            media.append(prompts.key_number)
        return [self._play(tuple(media), "ask")]

    def _play(self, media: tuple[str, ...], what: str) -> Play:
        self._seq += 1
        self._playing = f"{self.call_id}-cb{what}{self._seq}"
        return Play(self.channel, media, self._playing, self.language)
