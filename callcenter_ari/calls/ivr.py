"""Between the call and its IVR session: our inputs in the IVR's terms, the IVR's commands in the call's terms.

The IVR session knows nothing of channels or the call record; this module adds them. Prompt, timer and recording
ids come from the session already prefixed with the call id, so their events route back to this call unchanged.
"""

from __future__ import annotations

from callcenter_ari import ivr
from callcenter_ari.calls.messages import (
    CallerGone,
    CancelTimer,
    Command,
    CrmLookup,
    Digit,
    Emit,
    Input,
    LookupDone,
    Play,
    PlaybackDone,
    RecordMessage,
    SetTimer,
    StopPlayback,
    Timeout,
)
from callcenter_ari.calls.records import CallRecord


def to_ivr(message: Input) -> ivr.Input | None:
    """The IVR's view of a call input, or None if the IVR has no use for it."""
    match message:
        case PlaybackDone(playback_id, failed):
            return ivr.PromptFinished(playback_id, failed)
        case Digit(digit):
            return ivr.Digit(digit)
        case Timeout(name):
            return ivr.TimerFired(name)
        case LookupDone(result):
            return result
        case CallerGone():
            return ivr.CallerHungUp()
    return None


def to_call(commands: list[ivr.Command], record: CallRecord) -> tuple[list[Command], ivr.Result | None]:
    """Translate a session's commands; the second item is its result once it has finished."""
    out: list[Command] = []
    result: ivr.Result | None = None
    channel = record.channel_id
    for command in commands:
        match command:
            case ivr.Play(prompt_id, media, lang, _):
                out.append(Play(channel, media, prompt_id, lang))
            case ivr.StopPrompt(prompt_id):
                out.append(StopPlayback(prompt_id))
            case ivr.StartTimer(name, at):
                out.append(SetTimer(name, at))
            case ivr.CancelTimer(name):
                out.append(CancelTimer(name))
            case ivr.Lookup(request_id, url, payload, timeout):
                out.append(CrmLookup(request_id, url, payload, timeout))
            case ivr.Record(recording_id=name, max_seconds=seconds, beep=beep, terminate_on=terminate_on):
                out.append(RecordMessage(channel, name, seconds, beep, terminate_on))
            case ivr.Emit(kind, fields):
                if kind == "ivr.node" and len(record.ivr_path) < 64:
                    record.ivr_path.append(str(fields.get("node", "")))
                out.append(Emit(kind, {**fields, "call_id": record.call_id}))
            case ivr.Finished(finished):
                result = finished
    return out, result
