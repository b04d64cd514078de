"""The simulator's own control API under /sim (JSON in and out, same credentials as ARI): what a test or a
benchmark harness in another process uses to play the outside world."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from callcenter_ari.sim.faults import FaultKind, FaultRule
from callcenter_ari.sim.phones import CallerScript, PhoneBehaviour
from callcenter_ari.sim.traffic import TrafficSpec
from callcenter_ari.sim.wire import AriError

if TYPE_CHECKING:
    from callcenter_ari.sim.simulator import Simulator

_encoder = msgspec.json.Encoder()


class CallIn(msgspec.Struct, forbid_unknown_fields=True):
    did: str
    caller: str
    caller_name: str = ""
    trunk: str = "provider"
    tech: str = "PJSIP"
    script: CallerScript = CallerScript()
    app: str = ""  # the Stasis application the dialplan sends this DID to; empty: the simulator's --app


class PhoneIn(msgspec.Struct, forbid_unknown_fields=True):
    endpoint: str
    answer_after: float = 1.0
    talk: float | None = None
    kind: str = "answer"


class MixIn(msgspec.Struct):
    script: CallerScript = CallerScript()
    weight: float = 1.0


class TrafficIn(msgspec.Struct, forbid_unknown_fields=True):
    calls: int
    rate: float | None = None
    dids: list[str] = msgspec.field(default_factory=lambda: ["5551000"])
    mix: list[MixIn] = msgspec.field(default_factory=lambda: [MixIn()])
    trunk: str = "provider"
    tech: str = "PJSIP"


class FaultIn(msgspec.Struct, forbid_unknown_fields=True):
    operation: str
    kind: FaultKind
    probability: float
    delay: float = 0.0


class FaultsIn(msgspec.Struct, forbid_unknown_fields=True):
    rules: list[FaultIn]


def _reply(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_encoder.encode(body), content_type="application/json")


async def _decode(request: web.Request, kind: type[Any]) -> Any:
    raw = await request.read()
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        body = _encoder.encode({"message": str(exc)}).decode()
        raise web.HTTPBadRequest(text=body, content_type="application/json") from exc


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    async def post_call(request: web.Request) -> web.Response:
        call = await _decode(request, CallIn)
        channel_id = await sim.inject_call(
            call.did, call.caller, call.caller_name, call.trunk, call.script, call.tech, call.app
        )
        return _reply({"channel_id": channel_id, "channel": sim.channel(channel_id)})

    async def press(request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read() or b"{}")
        try:
            await sim.press(request.match_info["id"], str(body.get("digits", "")), float(body.get("gap", 0.0)))
        except AriError as exc:
            return _reply(exc.body, exc.status)
        return _reply({"ok": True})

    async def hangup(request: web.Request) -> web.Response:
        raw = await request.read()
        body = msgspec.json.decode(raw) if raw else {}
        cause = int(body.get("cause", request.query.get("cause", 16)))
        try:
            await sim.hangup(request.match_info["id"], cause)
        except AriError as exc:
            return _reply(exc.body, exc.status)
        return _reply({"ok": True})

    async def add_phone(request: web.Request) -> web.Response:
        phone = await _decode(request, PhoneIn)
        sim.add_phone(phone.endpoint, PhoneBehaviour(phone.answer_after, phone.talk, phone.kind))
        return _reply({"ok": True})

    async def traffic(request: web.Request) -> web.Response:
        spec = await _decode(request, TrafficIn)
        handle = sim.start_traffic(
            TrafficSpec(
                spec.calls,
                spec.rate,
                tuple(spec.dids),
                tuple((m.script, m.weight) for m in spec.mix),
                spec.trunk,
                spec.tech,
            )
        )
        return _reply({"calls": handle.total, "index": len(sim.traffic) - 1})

    async def traffic_status(request: web.Request) -> web.Response:
        return _reply([{"calls": h.total, "injected": h.injected, "done": h.done} for h in sim.traffic])

    async def traffic_stop(request: web.Request) -> web.Response:
        for handle in sim.traffic:
            handle.stop()
        return _reply({"ok": True})

    async def advance(request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read() or b"{}")
        try:
            await sim.advance(float(body.get("seconds", 0.0)))
        except RuntimeError as exc:
            return _reply({"message": str(exc)}, 409)
        return _reply({"clock": sim.clock.now()})

    async def drop(request: web.Request) -> web.Response:
        return _reply({"dropped": await sim.drop_websockets()})

    async def channels(request: web.Request) -> web.Response:
        return _reply(sim.channels())

    async def bridges(request: web.Request) -> web.Response:
        return _reply(sim.bridges())

    async def stats(request: web.Request) -> web.Response:
        return _reply(sim.stats())

    async def set_faults(request: web.Request) -> web.Response:
        rules = await _decode(request, FaultsIn)
        sim.api.faults.set([FaultRule(r.operation, r.kind, r.probability, r.delay) for r in rules.rules])
        return _reply({"rules": len(rules.rules)})

    async def get_faults(request: web.Request) -> web.Response:
        return _reply({"struck": sim.api.faults.struck})

    async def clear_faults(request: web.Request) -> web.Response:
        sim.api.faults.clear()
        return _reply({"ok": True})

    async def bridge_log(request: web.Request) -> web.Response:
        keys = ("at", "event", "bridge", "channel", "name")
        return _reply([dict(zip(keys, entry, strict=True)) for entry in sim.core.bridge_log])

    app.router.add_post("/sim/calls", post_call)
    app.router.add_post("/sim/channels/{id}/dtmf", press)
    app.router.add_post("/sim/channels/{id}/hangup", hangup)
    app.router.add_delete("/sim/channels/{id}", hangup)
    app.router.add_post("/sim/phones", add_phone)
    app.router.add_post("/sim/traffic", traffic)
    app.router.add_get("/sim/traffic", traffic_status)
    app.router.add_delete("/sim/traffic", traffic_stop)
    app.router.add_post("/sim/clock/advance", advance)
    app.router.add_post("/sim/websockets/drop", drop)
    app.router.add_get("/sim/channels", channels)
    app.router.add_get("/sim/bridges", bridges)
    app.router.add_get("/sim/bridges/log", bridge_log)
    app.router.add_post("/sim/faults", set_faults)
    app.router.add_get("/sim/faults", get_faults)
    app.router.add_delete("/sim/faults", clear_faults)
    app.router.add_get("/sim/stats", stats)
