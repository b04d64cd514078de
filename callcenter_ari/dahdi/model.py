"""The cards.toml schema as frozen msgspec Structs; decoding errors name the key path (`span[0].coding`)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

import msgspec

Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$(?!\n)")]
SpanNumber = Annotated[int, msgspec.Meta(ge=1, le=128)]
Port = Annotated[int, msgspec.Meta(ge=1, le=96)]

# chan_dahdi's `switchtype` values; "ni2" is accepted as the common name of chan_dahdi's "national".
SwitchType = Literal["euroisdn", "national", "ni2", "ni1", "dms100", "4ess", "5ess", "qsig"]
# Software echo cancellers built into DAHDI, or "hardware" for an on-card module (VPM) that DAHDI uses by itself.
EchoCanceller = Literal["oslec", "mg2", "kb1", "sec", "sec2", "hpec", "hardware", "none"]


class _Table(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    # Subclasses repeat frozen=True: msgspec inherits it, but type checkers only see what a class states.
    pass


class System(_Table, frozen=True):
    # DAHDI tone zone (dial tone, ring cadence) for analog ports: "us", "de", "uk", "fr", ...
    tone_zone: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-old)?$(?!\n)")] = "us"


class Echo(_Table, frozen=True):
    canceller: EchoCanceller = "oslec"
    # chan_dahdi's echocancel taps: a power of two from 32 to 256 (8 taps per millisecond of echo tail).
    taps: int = 128


class DigitalSpan(_Table, frozen=True, kw_only=True):
    """One E1 or T1 port of a PRI card (or an E1 carrying MFC/R2)."""

    span: SpanNumber
    type: Literal["E1", "T1"]
    signalling: Literal["pri_cpe", "pri_net", "mfcr2"]
    switchtype: SwitchType | None = None
    framing: Literal["ccs", "cas", "esf", "d4"]
    coding: Literal["hdb3", "ami", "b8zs"]
    crc4: bool = False
    # Clock source priority: 0 never take clock from this span, 1 first choice, 2 fallback, ...
    timing: Annotated[int, msgspec.Meta(ge=0, le=32)] = 1
    # Line build-out: T1 cable length class 0-7; E1 has none (0).
    lbo: Annotated[int, msgspec.Meta(ge=0, le=7)] = 0
    # Optional, for the reader: checked against the standard position (16 on E1, 24 on T1).
    dchan: int | None = None
    # Digium/Sangoma TE cards run the D-channel HDLC in hardware (`hardhdlc`); older cards use `dchan`.
    hdlc: Literal["hardhdlc", "dchan"] = "hardhdlc"
    mfcr2_variant: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$(?!\n)")] | None = None


class AnalogSpan(_Table, frozen=True):
    """An analog card: one DAHDI span whose ports carry FXS modules (phones) or FXO modules (lines)."""

    span: SpanNumber
    ports: Port
    # FXS modules feed analog phones; DAHDI drives them with FXO signalling (fxoks), and vice versa.
    fxs: tuple[Port, ...] = ()
    fxo: tuple[Port, ...] = ()
    # The phone number of the line on an FXO port ("3" = "2025550100"), passed as the DID to Stasis.
    line_numbers: dict[str, Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2,20}$(?!\n)")]] = {}


class Member(_Table, frozen=True):
    span: SpanNumber
    # Analog spans only: which ports; all the span's configured ports when omitted.
    ports: tuple[Port, ...] | None = None


class Group(_Table, frozen=True):
    """A trunk group: `DAHDI/g<number>` dials out on it, and calls from it enter `context`."""

    number: Annotated[int, msgspec.Meta(ge=0, le=63)]
    # The `<source>` in Stasis(callcenter,inbound,<source>,<did>) and the `[trunks.<name>]` key in the app.
    name: Name
    context: Name
    members: tuple[Member, ...]


class Cards(_Table, frozen=True):
    system: System = System()
    echo: Echo = Echo()
    span: tuple[DigitalSpan, ...] = ()
    analog: tuple[AnalogSpan, ...] = ()
    group: tuple[Group, ...] = ()


class HardwareError(ValueError):
    """The description cannot be used; each line names the key path and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def loads(text: str) -> Cards:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HardwareError([f"invalid TOML: {exc}"]) from None
    try:
        return msgspec.convert(raw, Cards, strict=True)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        path = where.rstrip("`").lstrip(".") or "(top level)"
        raise HardwareError([f"{path}: {message.replace('`', '')}"]) from None


def load(path: Path) -> Cards:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HardwareError([f"{path}: cannot read: {exc.strerror}"]) from None
    return loads(text)
