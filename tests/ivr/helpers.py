"""A stand-in for the runtime around one IvrSession: it carries out the commands the way the runtime would (one
prompt playing, timers running, a CRM request out) and checks the session's promises after every step."""

from __future__ import annotations

from typing import Any

import msgspec

from callcenter_ari.ivr import (
    CallerGone,
    CancelTimer,
    Command,
    Digit,
    Emit,
    Finished,
    Flow,
    Input,
    IvrContext,
    IvrSession,
    Lookup,
    LookupResult,
    Play,
    PlaybackDone,
    RecordMessage,
    Result,
    Schedule,
    SetTimer,
    StopPlayback,
    SurgeAnnouncement,
    Timeout,
)

COMMAND_TYPES = (Play, StopPlayback, SetTimer, CancelTimer, Lookup, RecordMessage, Emit, Finished)


def flow(start: str, **nodes: dict[str, Any]) -> Flow:
    return msgspec.convert({"start": start, "nodes": nodes}, Flow, strict=True)


def queue(name: str = "general", **extra: Any) -> dict[str, Any]:
    return {"kind": "queue", "queue": name, **extra}


def hangup(**extra: Any) -> dict[str, Any]:
    return {"kind": "hangup", "prompt": [], **extra}


class Runtime:
    """Drives a session and keeps what a runtime would: the playing prompt, the running timers, the lookups."""

    def __init__(
        self,
        flow: Flow,
        *,
        now: float = 1_000.0,
        variables: dict[str, str] | None = None,
        surge: SurgeAnnouncement | None = None,
        schedules: dict[str, Schedule] | None = None,
        language: str = "",
    ) -> None:
        context = IvrContext(
            call_id="c1", caller="+4930123456", did="100", variables=variables or {}, surge=surge, language=language
        )
        self.session = IvrSession(flow, context, now, flow_name="test", schedules=schedules)
        self.now = now
        self.playing: dict[str, Play] = {}
        self.timers: dict[str, float] = {}
        self.lookups: dict[str, Lookup] = {}
        self.log: list[Command] = []
        self.last: list[Command] = []
        self.result: Result | None = None

    # ---- driving -------------------------------------------------------------------------------------------

    def start(self) -> list[Command]:
        return self._apply(self.session.start(self.now))

    def send(self, message: Input) -> list[Command]:
        # What the runtime sees happen: a prompt that finished no longer plays, a timer that fired no longer runs.
        if isinstance(message, PlaybackDone):
            self.playing.pop(message.playback_id, None)
        if isinstance(message, Timeout):
            self.timers.pop(message.name, None)
        return self._apply(self.session.handle(message, self.now))

    def press(self, keys: str) -> list[Command]:
        out: list[Command] = []
        for key in keys:
            out += self.send(Digit(key))
        return out

    def finish_prompt(self) -> list[Command]:
        (prompt_id,) = self.playing
        return self.send(PlaybackDone(prompt_id))

    def finish_prompts(self) -> None:
        """Let prompts play to their end until the session waits on something else."""
        for _ in range(20):
            if not self.playing:
                return
            self.finish_prompt()

    def fire_timer(self) -> list[Command]:
        ((name, at),) = self.timers.items()
        self.now = max(self.now, at)
        return self.send(Timeout(name))

    def answer_lookup(self, **fields: Any) -> list[Command]:
        ((request_id, _),) = self.lookups.items()
        self.lookups = {}
        return self.send(LookupResult(request_id=request_id, **fields))

    def hang_up(self) -> list[Command]:
        return self.send(CallerGone())

    # ---- what happened -------------------------------------------------------------------------------------

    @property
    def media(self) -> tuple[str, ...]:
        (play,) = self.playing.values()
        return play.media

    def played(self) -> list[tuple[str, ...]]:
        return [c.media for c in self.log if isinstance(c, Play)]

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [c.fields for c in self.log if isinstance(c, Emit) and c.kind == kind]

    def nodes(self) -> list[str]:
        return [f["node"] for f in self.events("ivr.node")]

    # ---- carrying out and checking -------------------------------------------------------------------------

    def _apply(self, commands: list[Command]) -> list[Command]:
        for command in commands:
            assert isinstance(command, COMMAND_TYPES), command
            assert self.result is None, f"{command} after Finished"
            match command:
                case Play():
                    assert not self.playing, f"{command} while {self.playing} plays"
                    assert command.media
                    self.playing[command.playback_id] = command
                case StopPlayback():
                    assert command.playback_id in self.playing, f"stop of a prompt not playing: {command}"
                    del self.playing[command.playback_id]
                case SetTimer():
                    assert not self.timers, f"{command} while {self.timers} runs"
                    assert command.at > self.now
                    self.timers[command.name] = command.at
                case CancelTimer():
                    assert command.name in self.timers, f"cancel of a timer not running: {command}"
                    del self.timers[command.name]
                case Lookup():
                    self.lookups = {command.request_id: command}
                case Finished():
                    self.result = command.result
        self.log += commands
        self.last = commands
        self._check()
        return commands

    def _check(self) -> None:
        if self.result is not None:
            assert self.session.done
            assert not self.playing and not self.timers, (self.playing, self.timers)
        else:
            # Never silence with nothing to end it: a prompt plays or a timer runs.
            assert self.playing or self.timers, f"silence in state {self.session.state}"
        if self.session.state == "lookup":
            assert self.timers
