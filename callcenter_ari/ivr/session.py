"""One caller's walk through an IVR flow, as a sans-IO state machine.

Theory of operation
-------------------
The session is always at one node of the flow and in one state that says what it waits for:

    menu.prompt / collect.prompt / confirm.prompt   its prompt is playing (a key may barge in if interruptible)
    menu.input / collect.input / confirm.input      the prompt ended; a timer runs until the next key
    play                                            a prompt plays; when it ends the session goes to ``_then``
    lookup                                          a CRM request is out; a backstop timer runs
    closing                                         a terminal node's prompt plays; when it ends: Finished
    done                                            Finished was returned; every input is ignored

``handle(input, now)`` looks (state, input type) up in ``_TRANSITIONS`` and returns the commands to carry out.
Inputs that do not apply (a PlaybackDone for an older prompt, a timer that was cancelled, a late CRM answer, a
key during a prompt that cannot be interrupted) are ignored: they are network races and change nothing. Nodes
that do not wait (set, schedule, and the routing part of every other node) are passed through inside one call.

Invariants, which the tests check on the commands alone: at most one prompt plays and at most one timer runs;
entering a node stops the previous prompt and cancels the previous timer; outside ``done`` the session always
waits on a prompt or a timer (the caller never hears silence with nothing to end it); ``done`` is reached only
with a ``Finished`` command, after which no prompt plays and no timer runs. Timer names are unique per start, so a
timer that fires just after it was replaced cannot be taken for its successor.

Time is an input: the session never reads a clock. What a caller types is data: collected digits are checked
against the node's length, pattern and check digit and only ever stored as variable values; transfers go to
destinations named in the configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callcenter_ari.ivr.checks import CrmAnswer, as_text, entry_ok, parse_answer
from callcenter_ari.ivr.config import TERMINAL as _TERMINAL
from callcenter_ari.ivr.config import (
    CallbackNode,
    CollectNode,
    Flow,
    HangupNode,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    Prompt,
    QueueNode,
    SayNode,
    Schedule,
    ScheduleNode,
    SetNode,
    SurgeNode,
    SurveyEndNode,
    TransferNode,
    VoicemailNode,
)
from callcenter_ari.ivr.media import render
from callcenter_ari.ivr.messages import (
    Abandoned,
    Command,
    Finished,
    FlowError,
    Hangup,
    Input,
    IvrContext,
    OfferCallback,
    Queue,
    Result,
    SurveyResult,
    Transfer,
    Voicemail,
)
from callcenter_ari.ivr.schedule import route
from callcenter_ari.messages import (
    CallerGone,
    CancelTimer,
    Digit,
    Emit,
    Lookup,
    LookupResult,
    Play,
    PlaybackDone,
    RecordMessage,
    SetTimer,
    StopPlayback,
    Timeout,
)

DTMF = frozenset("0123456789*#ABCD")
# Pass-through nodes followed within one input before the flow is declared looping (validate() rejects such
# loops; this is the guard for a flow that was not validated).
MAX_HOPS = 32
# Key events per session: a DTMF flood must not flood the event stream.
MAX_KEY_EVENTS = 100
# The CRM request has its own timeout in the runtime; this timer is the backstop if no answer ever comes.
LOOKUP_GRACE = 1.0


class IvrSession:
    def __init__(
        self,
        flow: Flow,
        context: IvrContext,
        now: float,
        *,
        flow_name: str = "",
        schedules: Mapping[str, Schedule] | None = None,
    ) -> None:
        self.flow = flow
        self.context = context
        self.flow_name = flow_name
        self.created_at = now
        self.schedules = schedules or {}
        self.language = context.language or flow.language
        self.variables: dict[str, str] = dict(context.variables)
        self.state = "new"
        self.node_name = ""
        self.node: Node | None = None
        self.result: Result | None = None
        self._prompt: str | None = None
        self._interruptible = False
        self._timer: str | None = None
        self._lookup_id = ""
        self._retries = 0
        self._buffer = ""
        self._typeahead = ""
        self._then = ""
        self._closing: tuple[Result, tuple[Command, ...]] | None = None
        self._seq = 0
        self._hops = 0
        self._keys = 0
        self._survey_end = next((n for n in flow.nodes.values() if isinstance(n, SurveyEndNode)), None)

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def prompt_id(self) -> str | None:
        """The prompt playing now, if any."""
        return self._prompt

    @property
    def timer(self) -> str | None:
        """The timer running now, if any."""
        return self._timer

    def start(self, now: float) -> list[Command]:
        if self.state != "new":
            return []
        self._hops = 0
        self.state = "starting"
        commands: list[Command] = [self._emit("ivr.started", now, language=self.language)]
        surge = self.context.surge
        automatic = self._survey_end is None and not any(isinstance(n, SurgeNode) for n in self.flow.nodes.values())
        if automatic and surge is not None and surge.active:
            # No place chosen for the surge announcement in this flow: make it right at the start (a survey,
            # which runs after the conversation, never announces it).
            return commands + self._enter(".surge", SurgeNode(next=self.flow.start), now)
        return commands + self._goto(self.flow.start, now)

    def handle(self, message: Input, now: float) -> list[Command]:
        if self.state == "done":
            return []
        self._hops = 0
        commands: list[Command] = []
        match message:
            case PlaybackDone(playback_id=playback_id):
                if playback_id != self._prompt:
                    return []
                self._prompt = None
            case Timeout(name=name):
                if name != self._timer:
                    return []
                self._timer = None
            case LookupResult(request_id=request_id):
                if not request_id or request_id != self._lookup_id:
                    return []
                self._lookup_id = ""
            case Digit(digit=digit):
                if len(digit) != 1 or digit not in DTMF:
                    return []
                commands += self._key_event(digit, now)
        step = _TRANSITIONS.get((self.state, type(message)))
        if step is None:
            return commands
        return commands + step(self, message, now)

    # ---- moving between nodes ------------------------------------------------------------------------------

    def _goto(self, name: str, now: float, via: str = "") -> list[Command]:
        node = self.flow.nodes.get(name)
        if node is None:
            return self._fail(f"unknown node {name!r}", now)
        return self._enter(name, node, now, via)

    def _enter(self, name: str, node: Node, now: float, via: str = "") -> list[Command]:
        self._hops += 1
        if self._hops > MAX_HOPS:
            return self._fail("the flow loops without waiting for the caller", now)
        if not isinstance(node, MenuNode | CollectNode | SetNode | ScheduleNode):
            self._typeahead = ""
        commands = self._quiet()
        self.node_name, self.node = name, node
        self._retries = 0
        commands.append(self._emit("ivr.node", now, kind=_kind(node), **({"via": via} if via else {})))
        return commands + _ENTER[type(node)](self, node, now)

    def _quiet(self) -> list[Command]:
        """Stop the prompt and cancel the timer, whatever they were."""
        commands: list[Command] = []
        if self._prompt is not None:
            commands.append(StopPlayback(self._prompt))
            self._prompt = None
        if self._timer is not None:
            commands.append(CancelTimer(self._timer))
            self._timer = None
        return commands

    def _say(self, state: str, prompt: Prompt, interruptible: bool, now: float) -> list[Command]:
        """Play a prompt in ``state``; a prompt with nothing to play counts as already finished."""
        commands = self._quiet()
        self.state = state
        media = render(prompt, self.variables)
        if not media:
            return commands + _TRANSITIONS[(state, PlaybackDone)](self, None, now)
        self._prompt = self._next_id("prompt")
        self._interruptible = interruptible
        return [*commands, Play(self.context.channel, media, self._prompt, self.language, interruptible)]

    def _wait(self, state: str, seconds: float, now: float) -> list[Command]:
        commands = self._quiet()
        self.state = state
        self._timer = self._next_id("ivr.timer")
        return [*commands, SetTimer(self._timer, now + seconds)]

    def _barge(self) -> list[Command] | None:
        """The StopPlayback for a key pressed during the prompt, or None if the prompt cannot be interrupted."""
        if self._prompt is not None and not self._interruptible:
            return None
        return self._quiet()

    # ---- menu ----------------------------------------------------------------------------------------------

    def _enter_menu(self, node: MenuNode, now: float) -> list[Command]:
        if self._typeahead:
            digit, self._typeahead = self._typeahead, ""
            return self._menu_choose(digit, now)
        return self._say("menu.prompt", node.prompt, node.interruptible, now)

    def _menu_listen(self, _: object, now: float) -> list[Command]:
        assert isinstance(self.node, MenuNode)
        return self._wait("menu.input", self.node.timeout, now)

    def _menu_barge(self, message: Digit, now: float) -> list[Command]:
        stop = self._barge()
        return [] if stop is None else stop + self._menu_choose(message.digit, now)

    def _menu_key(self, message: Digit, now: float) -> list[Command]:
        return self._quiet() + self._menu_choose(message.digit, now)

    def _menu_choose(self, digit: str, now: float) -> list[Command]:
        assert isinstance(self.node, MenuNode)
        target = self.node.options.get(digit)
        if target is not None:
            return self._goto(target, now, via=f"key {digit}")
        return self._retry("invalid", self.node.invalid_prompt, now)

    def _menu_timeout(self, _: Timeout, now: float) -> list[Command]:
        assert isinstance(self.node, MenuNode)
        return self._retry("timeout", self.node.timeout_prompt, now)

    def _retry(self, why: str, before: Prompt, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, MenuNode | CollectNode)
        self._retries += 1
        self._buffer = ""
        commands = [self._emit(f"ivr.{why}", now, attempt=self._retries)]
        if self._retries > node.max_retries:
            return commands + self._goto(node.fallback, now, via=f"{why}, retries exhausted")
        state = "menu.prompt" if isinstance(node, MenuNode) else "collect.prompt"
        return commands + self._say(state, before + node.prompt, node.interruptible, now)

    # ---- collect -------------------------------------------------------------------------------------------

    def _enter_collect(self, node: CollectNode, now: float) -> list[Command]:
        self._buffer = ""
        if self._typeahead:
            digit, self._typeahead = self._typeahead, ""
            self.state = "collect.input"
            return self._collect_digit(digit, now)
        return self._say("collect.prompt", node.prompt, node.interruptible, now)

    def _collect_listen(self, _: object, now: float) -> list[Command]:
        assert isinstance(self.node, CollectNode)
        return self._wait("collect.input", self.node.first_digit_timeout, now)

    def _collect_barge(self, message: Digit, now: float) -> list[Command]:
        stop = self._barge()
        return [] if stop is None else stop + self._collect_digit(message.digit, now)

    def _collect_key(self, message: Digit, now: float) -> list[Command]:
        return self._collect_digit(message.digit, now)

    def _collect_digit(self, digit: str, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, CollectNode)
        if node.terminator and digit == node.terminator:
            if len(self._buffer) >= node.min_length:
                return self._collected(now)
            return self._retry("invalid", node.invalid_prompt, now)
        if not digit.isdigit():
            return self._retry("invalid", node.invalid_prompt, now)
        self._buffer += digit
        if len(self._buffer) >= node.max_length:
            return self._collected(now)
        return self._wait("collect.input", node.inter_digit_timeout, now)

    def _collect_timeout(self, _: Timeout, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, CollectNode)
        if not self._buffer:
            return self._retry("timeout", node.timeout_prompt, now)
        if len(self._buffer) >= node.min_length:
            return self._collected(now)
        return self._retry("invalid", node.invalid_prompt, now)

    def _collected(self, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, CollectNode)
        if not entry_ok(node, self._buffer):
            return self._retry("invalid", node.invalid_prompt, now)
        if node.confirm:
            readback = (*node.confirm_prompt, f"digits:{self._buffer}", *node.confirm_options_prompt)
            return self._say("confirm.prompt", readback, True, now)
        return self._store(now)

    def _store(self, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, CollectNode)
        self.variables[node.variable] = self._buffer
        # The length only: an entry may be a card or account number, which has no place in the event stream.
        event = self._emit("ivr.collected", now, variable=node.variable, length=len(self._buffer))
        self._buffer = ""
        return [event, *self._goto(node.next, now)]

    def _confirm_listen(self, _: object, now: float) -> list[Command]:
        assert isinstance(self.node, CollectNode)
        return self._wait("confirm.input", self.node.first_digit_timeout, now)

    def _confirm_barge(self, message: Digit, now: float) -> list[Command]:
        return self._quiet() + self._confirm_choose(message.digit, now)

    def _confirm_key(self, message: Digit, now: float) -> list[Command]:
        return self._quiet() + self._confirm_choose(message.digit, now)

    def _confirm_choose(self, digit: str, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, CollectNode)
        if digit == "1":
            return self._store(now)
        # Anything else starts the entry again and counts as a retry, so a caller cannot loop here forever.
        if digit == "2":
            return self._retry("reenter", (), now)
        return self._retry("invalid", node.invalid_prompt, now)

    def _confirm_timeout(self, _: Timeout, now: float) -> list[Command]:
        assert isinstance(self.node, CollectNode)
        return self._retry("timeout", self.node.timeout_prompt, now)

    # ---- prompts that lead on ------------------------------------------------------------------------------

    def _enter_play(self, node: PlayNode, now: float) -> list[Command]:
        self._then = node.next
        return self._say("play", node.prompt, node.interruptible, now)

    def _enter_say(self, node: SayNode, now: float) -> list[Command]:
        self._then = node.next
        return self._say("play", (*node.before, f"{node.say_as}:{node.value}", *node.after), node.interruptible, now)

    def _played(self, _: object, now: float) -> list[Command]:
        return self._goto(self._then, now)

    def _play_barge(self, message: Digit, now: float) -> list[Command]:
        stop = self._barge()
        if stop is None:
            return []
        # The key was meant for what comes next (type-ahead): a menu or collect right after takes it.
        self._typeahead = message.digit
        return stop + self._goto(self._then, now, via=f"key {message.digit}")

    # ---- pass-through nodes --------------------------------------------------------------------------------

    def _enter_set(self, node: SetNode, now: float) -> list[Command]:
        if node.language:
            self.language = node.language
        self.variables.update(node.variables)
        return self._goto(node.next, now)

    def _enter_schedule(self, node: ScheduleNode, now: float) -> list[Command]:
        schedule = self.schedules.get(node.schedule)
        if schedule is None:
            return self._fail(f"unknown schedule {node.schedule!r}", now)
        which = route(schedule, now)
        target = {"open": node.open, "closed": node.closed, "holiday": node.holiday or node.closed}[which]
        return [self._emit("ivr.schedule", now, route=which), *self._goto(target, now, via=which)]

    def _enter_surge(self, node: SurgeNode, now: float) -> list[Command]:
        surge = self.context.surge
        if surge is None or not surge.active or not surge.prompt:
            return self._goto(node.next, now)
        if surge.areas and self.variables.get(surge.area_variable) not in surge.areas:
            return [self._emit("ivr.surge", now, played=False), *self._goto(node.next, now)]
        options = {}
        if surge.offer_self_service and node.self_service:
            options[node.self_service_key] = node.self_service
        if surge.offer_callback and node.callback:
            options[node.callback_key] = node.callback
        event = self._emit("ivr.surge", now, played=True, offered=sorted(options.values()))
        if not options:
            self._then = node.next
            return [event, *self._say("play", surge.prompt, False, now)]
        # The offer is a one-shot menu: staying on the line (or any other key) goes on to the queue.
        self.node = MenuNode(
            prompt=(*surge.prompt, *node.offer_prompt),
            options=options,
            fallback=node.next,
            timeout=node.timeout,
            max_retries=0,
            invalid_prompt=(),
        )
        return [event, *self._enter_menu(self.node, now)]

    # ---- CRM lookup ----------------------------------------------------------------------------------------

    def _enter_lookup(self, node: LookupNode, now: float) -> list[Command]:
        self._lookup_id = self._next_id("lookup")
        sent = self.variables if node.send is None else {k: self.variables[k] for k in node.send if k in self.variables}
        payload: dict[str, Any] = {
            "call_id": self.context.call_id,
            "caller": self.context.caller,
            "did": self.context.did,
            "flow": self.flow_name,
            "node": self.node_name,
            "language": self.language,
            "variables": dict(sent),
        }
        commands: list[Command] = [
            Lookup(self._lookup_id, node.url, payload, node.timeout),
            *self._wait("lookup", node.timeout + LOOKUP_GRACE, now),
        ]
        media = render(node.wait_prompt, self.variables)
        if media:
            self._prompt = self._next_id("prompt")
            self._interruptible = False
            commands.append(Play(self.context.channel, media, self._prompt, self.language))
        return commands

    def _lookup_answered(self, message: LookupResult, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, LookupNode)
        if not message.ok or not 200 <= message.status < 300:
            reason = message.error or f"status {message.status}"
            return self._lookup_failed(reason, now)
        answer = parse_answer(message.data, node.choices)
        if not isinstance(answer, CrmAnswer):
            return self._lookup_failed(answer, now)
        self.variables.update({name: as_text(value) for name, value in answer.variables.items()})
        if answer.text:
            self.variables["crm_text"] = answer.text
        target = answer.next or node.next
        commands = [self._emit("ivr.lookup", now, ok=True, next=target, variables=sorted(answer.variables))]
        if answer.say:
            self._then = target
            return commands + self._say("play", answer.say, False, now)
        return commands + self._goto(target, now, via="lookup")

    def _lookup_timeout(self, _: Timeout, now: float) -> list[Command]:
        self._lookup_id = ""
        return self._lookup_failed("timeout", now)

    def _lookup_failed(self, reason: str, now: float) -> list[Command]:
        node = self.node
        assert isinstance(node, LookupNode)
        event = self._emit("ivr.lookup", now, ok=False, error=reason[:200])
        return [event, *self._goto(node.fallback, now, via="lookup failed")]

    # ---- terminal nodes ------------------------------------------------------------------------------------

    def _enter_terminal(self, node: Node, now: float) -> list[Command]:
        variables = dict(self.variables)
        after: tuple[Command, ...] = ()
        result: Result
        match node:
            case QueueNode():
                language = node.language or self.language
                result = Queue(
                    queue=node.queue,
                    skills=node.skills,
                    priority=node.priority,
                    language=language,
                    variables=variables,
                )
            case CallbackNode():
                result = OfferCallback(queue=node.queue, language=self.language, variables=variables)
            case TransferNode():
                result = Transfer(target_name=node.target, variables=variables)
            case VoicemailNode():
                recording_id = f"{self.context.call_id}-vm"
                result = Voicemail(mailbox=node.mailbox, recording_id=recording_id, variables=variables)
                after = (RecordMessage(self.context.channel, recording_id, node.max_seconds, node.beep),)
            case HangupNode():
                result = Hangup(reason=node.reason, variables=variables)
            case SurveyEndNode():
                result = self._survey_result(node, complete=True)
            case _:
                return self._fail(f"not a terminal node: {_kind(node)}", now)
        self._closing = (result, after)
        assert isinstance(node, _TERMINAL)
        return self._say("closing", node.prompt, False, now)

    def _closed(self, _: object, now: float) -> list[Command]:
        assert self._closing is not None
        result, after = self._closing
        return self._finish(result, now, after)

    def _survey_result(self, node: SurveyEndNode, complete: bool) -> SurveyResult:
        answers = {name: self.variables[name] for name in node.answers if name in self.variables}
        complete = complete and len(answers) == len(node.answers)
        return SurveyResult(survey=node.survey, answers=answers, complete=complete)

    # ---- the end -------------------------------------------------------------------------------------------

    def _hung_up(self, _: CallerGone, now: float) -> list[Command]:
        result: Result
        if self._survey_end is not None:
            result = self._survey_result(self._survey_end, complete=False)
        else:
            result = Abandoned(node=self.node_name, reason="caller hung up", variables=dict(self.variables))
        return self._finish(result, now)

    def _fail(self, detail: str, now: float) -> list[Command]:
        return self._finish(FlowError(node=self.node_name, detail=detail, variables=dict(self.variables)), now)

    def _finish(self, result: Result, now: float, after: tuple[Command, ...] = ()) -> list[Command]:
        commands = self._quiet()
        self.state = "done"
        self.result = result
        self._lookup_id = ""
        event = self._emit("ivr.finished", now, result=_RESULT_KINDS[type(result)])
        return [*commands, *after, event, Finished(result)]

    # ---- helpers -------------------------------------------------------------------------------------------

    def _key_event(self, digit: str, now: float) -> list[Command]:
        self._keys += 1
        if self._keys > MAX_KEY_EVENTS:
            return []
        # Digits typed into a collect node may be a card or account number: record that a key came, not which.
        shown = "x" if self.state.startswith("collect") and digit.isdigit() else digit
        return [self._emit("ivr.key", now, digit=shown, state=self.state)]

    def _emit(self, event: str, now: float, **fields: Any) -> Emit:
        base = {"at": now, "call_id": self.context.call_id, "flow": self.flow_name, "node": self.node_name}
        return Emit(event, {**base, **fields})

    def _next_id(self, what: str) -> str:
        self._seq += 1
        return f"{self.context.call_id}-{what}-{self._seq}"


def _kind(node: Node) -> str:
    return type(node).__struct_config__.tag  # type: ignore[return-value]


_RESULT_KINDS: dict[type, str] = {
    Queue: "queue",
    OfferCallback: "callback",
    Transfer: "transfer",
    Voicemail: "voicemail",
    Hangup: "hangup",
    SurveyResult: "survey",
    Abandoned: "abandoned",
    FlowError: "flow_error",
}

_Step = Callable[..., list[Command]]

_ENTER: dict[type, _Step] = {
    MenuNode: IvrSession._enter_menu,
    CollectNode: IvrSession._enter_collect,
    PlayNode: IvrSession._enter_play,
    SayNode: IvrSession._enter_say,
    SetNode: IvrSession._enter_set,
    ScheduleNode: IvrSession._enter_schedule,
    SurgeNode: IvrSession._enter_surge,
    LookupNode: IvrSession._enter_lookup,
    **{kind: IvrSession._enter_terminal for kind in _TERMINAL},
}

# (state, input type) -> step. Missing pairs are ignored; PlaybackDone steps are also called with None when a
# prompt turns out to have nothing to play.
_LIVE_STATES = """new starting menu.prompt menu.input collect.prompt collect.input confirm.prompt confirm.input
play lookup closing"""

_TRANSITIONS: dict[tuple[str, type], _Step] = {
    ("menu.prompt", PlaybackDone): IvrSession._menu_listen,
    ("menu.prompt", Digit): IvrSession._menu_barge,
    ("menu.input", Digit): IvrSession._menu_key,
    ("menu.input", Timeout): IvrSession._menu_timeout,
    ("collect.prompt", PlaybackDone): IvrSession._collect_listen,
    ("collect.prompt", Digit): IvrSession._collect_barge,
    ("collect.input", Digit): IvrSession._collect_key,
    ("collect.input", Timeout): IvrSession._collect_timeout,
    ("confirm.prompt", PlaybackDone): IvrSession._confirm_listen,
    ("confirm.prompt", Digit): IvrSession._confirm_barge,
    ("confirm.input", Digit): IvrSession._confirm_key,
    ("confirm.input", Timeout): IvrSession._confirm_timeout,
    ("play", PlaybackDone): IvrSession._played,
    ("play", Digit): IvrSession._play_barge,
    ("lookup", LookupResult): IvrSession._lookup_answered,
    ("lookup", Timeout): IvrSession._lookup_timeout,
    ("closing", PlaybackDone): IvrSession._closed,
    **{(state, CallerGone): IvrSession._hung_up for state in _LIVE_STATES.split()},
}
