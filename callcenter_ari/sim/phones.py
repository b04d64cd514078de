"""Real-world far ends: calls from SIP/PRI trunks and the phones the app originates to, as single channels.

A trunk call is one `PJSIP/<trunk>-<hex>` (or `DAHDI/i<span>/<number>-<hex>`) channel that the dialplan hands to
`Stasis(callcenter,inbound,<trunk>,<did>)`; its `CallerScript` presses digits, gives up, talks and hangs up on the
simulator clock. An originate to `PJSIP/<name>` or `DAHDI/g<N>/<number>` finds the registered `PhoneBehaviour`
(exact endpoint, then the trunk's `*` entry, then the default) and plays out answer, no answer, busy, congestion or
an answering machine with Asterisk's Dial events and causes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from callcenter_ari.sim.core import Asterisk, Driver
from callcenter_ari.sim.local import AMD_HUMAN, AMD_MACHINE, run_amd
from callcenter_ari.sim.model import Channel, Origin
from callcenter_ari.sim.wire import AriError, Json

PhoneKind = Literal["answer", "noanswer", "busy", "congestion", "unavailable", "machine"]


@dataclass(frozen=True)
class CallerScript:
    """What one injected caller does. Times are seconds on the simulator clock."""

    dtmf: tuple[tuple[float, str], ...] = ()  # (seconds after answer, digits), digits `digit_gap` apart
    patience: float | None = None  # abandons (cause 16) if not bridged with a party this long after answer
    ring_patience: float | None = None  # abandons before the app answers (cause 16, a SIP CANCEL)
    talk: float | None = None  # hangs up this long after first bridged with a party; None: waits for them
    max_duration: float | None = 3600.0  # hangs up this long after the call arrived, whatever happens
    digit_gap: float = 0.35
    human: bool = True  # what AMD() concludes if the app runs it on this call


@dataclass(frozen=True)
class PhoneBehaviour:
    """What a phone (agent set or a customer reached through a trunk) does when the app originates to it."""

    answer_after: float = 1.0
    talk: float | None = None  # hangs up this long after first bridged with a party; None: never
    kind: PhoneKind = "answer"


class _Scripted(Driver):
    """Shared by callers and phones: talk timer once bridged with another party in a mixing bridge."""

    talk: float | None = None

    def __init__(self, core: Asterisk) -> None:
        self.core = core
        self.talking = False

    def bridge_changed(self, ch: Channel) -> None:
        bridge = ch.bridge
        if self.talking or bridge is None or bridge.type != "mixing" or len(bridge.channels) < 2:
            return
        self.talking = True
        if self.talk is not None:
            self.core.later(ch, self.talk, lambda: self.core.hangup(ch, 16))

    def continue_in_dialplan(self, core: Asterisk, ch: Channel, context: str, exten: str, priority: int) -> None:
        if context == "cc-amd-stasis":
            run_amd(core, ch, self.amd_result(), "callcenter")
        else:
            core.continue_unknown(ch, context, exten, priority)

    def amd_result(self) -> tuple[str, str, float]:
        return AMD_HUMAN


# The inbound route: 1 NoOp, 2 Stasis(app,inbound,...), 3 on: after Stasis() returns (a hang-up).
INBOUND_STASIS_PRIORITY = 2


class TrunkCaller(_Scripted):
    def __init__(self, core: Asterisk, script: CallerScript, trunk: str, did: str, app: str) -> None:
        super().__init__(core)
        self.script = script
        self.talk = script.talk
        self.trunk = trunk
        self.did = did
        self.app = app

    def start(self, ch: Channel) -> None:
        core, script = self.core, self.script
        if script.max_duration is not None:
            core.later(ch, script.max_duration, lambda: core.hangup(ch, 16))
        if script.ring_patience is not None:
            core.later(ch, script.ring_patience, lambda: self._give_up(ch, ringing_only=True))

    def _give_up(self, ch: Channel, *, ringing_only: bool) -> None:
        """The caller's patience ran out: hang up, unless answered (``ringing_only``) or talking to an agent."""
        if (ch.state == "Up") if ringing_only else self.talking:
            return
        self.core.hangup(ch, 16)

    def answered(self, ch: Channel) -> None:
        core, script = self.core, self.script
        for at, digits in script.dtmf:
            for i, digit in enumerate(digits):
                core.later(ch, at + i * script.digit_gap, lambda d=digit: core.dtmf_received(ch, d, 100))
        if script.patience is not None:
            core.later(ch, script.patience, lambda: self._give_up(ch, ringing_only=False))

    def amd_result(self) -> tuple[str, str, float]:
        return AMD_HUMAN if self.script.human else AMD_MACHINE

    def continue_in_dialplan(self, core: Asterisk, ch: Channel, context: str, exten: str, priority: int) -> None:
        if context == "from-trunk" and priority <= INBOUND_STASIS_PRIORITY:
            # The inbound route sends every DID back into the app.
            enter_inbound(core, ch, self.app, self.trunk, exten or self.did)
        elif context == "from-trunk":
            # After Stasis() returns, the route hangs up (asterisk/etc/extensions.conf: cc-after-stasis).
            core.hangup(ch, 16)
        else:
            super().continue_in_dialplan(core, ch, context, exten, priority)


class PhoneBook:
    """Registered phones: `PJSIP/agent1001`, `PJSIP/+15551234@provider`, or a trunk-wide `PJSIP/*@provider`."""

    def __init__(self, default: PhoneBehaviour | None = None) -> None:
        self.entries: dict[str, PhoneBehaviour] = {}
        self.default = default

    def add(self, endpoint: str, behaviour: PhoneBehaviour) -> None:
        tech, _, resource = endpoint.partition("/")
        self.entries[f"{tech.upper()}/{resource}"] = behaviour

    def lookup(self, tech: str, resource: str) -> PhoneBehaviour | None:
        tech = tech.upper()
        found = self.entries.get(f"{tech}/{resource}")
        if found is None and "@" in resource:
            found = self.entries.get(f"{tech}/*@{resource.partition('@')[2]}")
        if found is None and tech == "DAHDI":
            found = self.entries.get(f"{tech}/{resource.partition('/')[0]}/*")
        return found if found is not None else self.default


class Phone(_Scripted):
    def __init__(self, core: Asterisk, behaviour: PhoneBehaviour) -> None:
        super().__init__(core)
        self.behaviour = behaviour
        self.talk = behaviour.talk

    def amd_result(self) -> tuple[str, str, float]:
        return AMD_MACHINE if self.behaviour.kind == "machine" else AMD_HUMAN


_pjsip_seq = itertools.count(1)


def _tech_name(tech: str, trunk: str, number: str) -> str:
    if tech.upper() == "DAHDI":
        span = trunk.lstrip("gi") or "1"
        return f"DAHDI/i{span}/{number}-{next(_pjsip_seq):x}"
    return f"PJSIP/{trunk}-{next(_pjsip_seq):08x}"


def enter_inbound(core: Asterisk, ch: Channel, app: str, trunk: str, did: str) -> None:
    args = ["inbound", trunk, did]
    core.set_dialplan(ch, "from-trunk", did, 1, "NoOp", "")
    core.dialplan_step(ch, "Stasis", ",".join([app, *args]), priority=INBOUND_STASIS_PRIORITY)
    if not core.enter_stasis(ch, app, args):
        core.hangup(ch, 16)
        return
    core.counters["inbound_stasis_start"] += 1  # a call handed back that came in again counts twice


def inject_call(
    core: Asterisk,
    app: str,
    *,
    did: str,
    caller: str,
    caller_name: str,
    trunk: str,
    script: CallerScript,
    tech: str = "PJSIP",
) -> Channel:
    """A call arrives from a trunk and the dialplan sends it to Stasis (or hangs it up if the app is away)."""
    ch = core.create_channel(tech.upper(), _tech_name(tech, trunk, caller))
    ch.state = "Ring"
    ch.caller_name, ch.caller_number = caller_name, caller
    driver = TrunkCaller(core, script, trunk, did, app)
    ch.driver = driver
    driver.start(ch)
    enter_inbound(core, ch, app, trunk, did)
    return ch


def originate_phone(
    core: Asterisk,
    tech: str,
    resource: str,
    behaviour: PhoneBehaviour | None,
    *,
    app: str | None,
    app_args: list[str],
    caller: tuple[str, str] | None,
    timeout: float,
    channel_id: str | None,
) -> Json:
    if behaviour is None or behaviour.kind == "unavailable":
        # No registered contact: the channel driver cannot create the channel.
        raise AriError(500, "Allocation failed", key="error")
    number, _, trunk = resource.partition("@")
    if tech.upper() == "DAHDI":
        group, _, number = resource.partition("/")
        name = _tech_name("DAHDI", group, number)
    else:
        name = _tech_name("PJSIP", trunk or number, number)
    ch = core.create_channel(tech.upper(), name, channel_id)
    ch.caller_name, ch.caller_number = caller or ("", "")
    ch.conn_name, ch.conn_number = ch.caller_name, ch.caller_number
    core.set_dialplan(ch, "default", "s", 1, "AppDial2", "(Outgoing Line)")
    phone = Phone(core, behaviour)
    ch.driver = phone
    if app is not None:
        ch.origin = Origin.ORIGINATED
        ch.subscribed.add(app)
    response = dict(ch.snapshot())

    def dial(status: str) -> None:
        fields: Json = {"dialstatus": status, "forward": "", "dialstring": resource, "peer": ch.snapshot()}
        core.emit(ch.watchers(), "Dial", fields)

    dial("")
    kind = behaviour.kind
    if kind in ("busy", "congestion"):
        dial("BUSY" if kind == "busy" else "CONGESTION")
        core.destroy(ch, 17 if kind == "busy" else 34)
        return response
    core.set_state(ch, "Ringing")
    dial("RINGING")

    def answer() -> None:
        core.set_state(ch, "Up")
        dial("ANSWER")
        if app is not None:
            if not core.enter_stasis(ch, app, app_args):
                core.hangup(ch, 16)

    if kind != "noanswer" and behaviour.answer_after < timeout:
        core.later(ch, behaviour.answer_after, answer)
    else:
        core.later(ch, timeout, lambda: core.destroy(ch, 19))
    return response
