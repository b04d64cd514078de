"""Replays a recorded Asterisk transcript against the simulator and compares what comes back.

Ids differ between the recording and the simulator, so both sides are put in a canonical form before comparing:
a channel id becomes its name, the 8-hex Local/Recorder/Snoop counters become their order of first appearance,
bridge and playback ids become B1, P1, ... in order of first appearance; timestamps are dropped. Events are
compared per window (from one request to the next): the same events, in the same order for each object. Events
about different channels may interleave differently, since Asterisk raises them from different threads.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from callcenter_ari.sim import SimConfig, Simulator

USER, PASSWORD = "asterisk", "secret"
COUNTER = re.compile(r"(Local/[^\s,;]*?|Recorder/ARI|Snoop/[^\s,;]*?)-([0-9a-f]{8})(?=;|,|$)")
SKIP_KEYS = {"timestamp", "creationtime"}


@dataclass
class Side:
    """Canonical naming for one side (the recording or the simulator)."""

    channel_names: dict[str, str] = field(default_factory=dict)  # channel id -> canonical name
    tokens: dict[str, str] = field(default_factory=dict)  # bridge/playback id -> B1/P1
    counters: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def _token(self, kind: str, value: str) -> str:
        if value not in self.tokens:
            self.counts[kind] += 1
            self.tokens[value] = f"{kind}{self.counts[kind]}"
        return self.tokens[value]

    def _name(self, name: str) -> str:
        def counter(m: re.Match[str]) -> str:
            prefix, hexa = m.group(1), m.group(2)
            if prefix.startswith("Snoop/"):
                prefix = "Snoop/" + self.canon_str(prefix[6:])
            key = f"{prefix}-{hexa}"
            if key not in self.counters:
                self.counts[prefix] += 1
                self.counters[key] = f"#{self.counts[prefix]}"
            return f"{prefix}-{self.counters[key]}"

        return COUNTER.sub(counter, name)

    def learn(self, obj: Any) -> None:
        if isinstance(obj, dict):
            if {"id", "name", "dialplan"} <= obj.keys():
                self.channel_names.setdefault(obj["id"], self._name(obj["name"]))
            elif {"id", "technology"} <= obj.keys():
                self._token("B", obj["id"])
            elif {"id", "media_uri"} <= obj.keys():
                self._token("P", obj["id"])
            for value in obj.values():
                self.learn(value)
        elif isinstance(obj, list):
            for value in obj:
                self.learn(value)

    def canon_str(self, value: str) -> str:
        if value in self.channel_names:
            return "ch:" + self.channel_names[value]
        if value in self.tokens:
            return self.tokens[value]
        scheme, sep, rest = value.partition(":")
        if sep and scheme in ("channel", "bridge"):
            return f"{scheme}:{self.canon_str(rest)}"
        return self._name(value)

    def canon(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: self.canon(v) for k, v in obj.items() if k not in SKIP_KEYS}
        if isinstance(obj, list):
            return [self.canon(v) for v in obj]
        if isinstance(obj, str):
            return self.canon_str(obj)
        return obj

    def to_raw(self, canonical: str, original: str) -> str:
        for raw, name in self.channel_names.items():
            if "ch:" + name == canonical:
                return raw
        for raw, token in self.tokens.items():
            if token == canonical:
                return raw
        return original


def event_key(event: dict[str, Any]) -> str:
    for key in ("channel", "peer"):
        if key in event:
            return str(event[key]["id"])
    for key in ("playback", "recording"):
        if key in event:
            return str(event[key]["target_uri"])
    if "bridge" in event:
        return str(event["bridge"]["id"])
    return str(event.get("request_id", event["type"]))


def grouped(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for event in events:
        groups[event_key(event)].append(json.dumps(event, sort_keys=True))
    return dict(groups)


def _short(event: str) -> str:
    data = json.loads(event)
    channel = data.pop("channel", None) or data.pop("peer", None)
    for key in ("application", "asterisk_id"):
        data.pop(key, None)
    if channel:
        data["ch"] = f"{channel['state']} {channel['dialplan']} {channel['caller']} {channel['connected']}"
    return json.dumps(data, sort_keys=True)


def describe(want: list[str], have: list[str]) -> str:
    """The first difference of two event sequences, compactly."""
    lines = [f"    want {[json.loads(e)['type'] for e in want]}", f"    have {[json.loads(e)['type'] for e in have]}"]
    for w, h in zip(want, have, strict=False):
        if w != h:
            lines += [f"    first diff: want {_short(w)}", f"                have {_short(h)}"]
            break
    return "\n".join(lines)


def canon_event(side: Side, event: dict[str, Any]) -> dict[str, Any]:
    side.learn(event)
    out = side.canon(event)
    bridge = out.get("bridge")
    if bridge is not None:
        # Asterisk lists a bridge's channels in hash-container order, not join order.
        members = sorted(bridge["channels"])
        if bridge["bridge_type"] == "holding":
            # Deliberately not modelled: when the last caller leaves a holding bridge with MOH, Asterisk's
            # snapshot lists the MOH announcer channel, an id no event or listing ever introduces.
            members = [m for m in members if m.startswith("ch:")]
        bridge["channels"] = members
    if out.get("type") == "RESTResponse":
        out["uri"] = "/".join(side.canon_str(seg) for seg in event["uri"].split("/"))
    if out.get("type") == "RESTResponse" and "message_body" in event:
        body = json.loads(event["message_body"])
        side.learn(body)
        out["message_body"] = normalise_body(side.canon(body))
    return out


def normalise_body(body: Any) -> Any:
    """Response bodies: lists compare as sets; a fresh playback may say queued or playing; build details vary."""
    if isinstance(body, list):
        return sorted((normalise_body(b) for b in body), key=lambda b: json.dumps(b, sort_keys=True))
    if isinstance(body, dict):
        if "media_uri" in body and body.get("state") == "playing":
            body = {**body, "state": "queued"}
        if "build" in body:  # /asterisk/info: the shape, not this machine's kernel
            return {k: sorted(v) if isinstance(v, dict) else v for k, v in body.items()}
        return {k: sorted(v) if k in ("channel_ids", "bridge_ids") else normalise_body(v) for k, v in body.items()}
    return body


ACTIONS = ("request", "ws_open", "ws_close", "ws_send")


def is_prefix(short: list[str], long: list[str]) -> bool:
    return long[: len(short)] == short


class Replay:
    def __init__(self, transcript: dict[str, Any], session: aiohttp.ClientSession, base_url: str, sim: Simulator):
        self.steps: list[dict[str, Any]] = transcript["steps"]
        self.session = session
        self.base = base_url
        self.sim = sim
        self.rec = Side()
        self.mine = Side()
        self.sockets: dict[str, aiohttp.ClientWebSocketResponse] = {}
        self.readers: list[asyncio.Task[None]] = []
        self.got: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.mine_events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.now_ms = 0.0
        self.pending: list[asyncio.Task[Any]] = []
        self.failures: list[str] = []
        self.diverged: set[str] = set()
        # The recording's side is put in canonical form once, in the order Asterisk produced it.
        self.rec_events: list[tuple[int, str, dict[str, Any]]] = []
        self.rec_bodies: dict[int, Any] = {}
        for index, step in enumerate(self.steps):
            if step["kind"] == "response":
                self.rec.learn(step["body"])
                self.rec_bodies[index] = normalise_body(self.rec.canon(step["body"]))
            elif step["kind"] == "event":
                self.rec_events.append((index, step["ws"], canon_event(self.rec, step["event"])))

    # ------------------------------------------------------------------ translation
    def translate(self, value: str) -> str:
        parts = []
        for part in value.split(","):
            scheme, sep, rest = part.partition(":")
            if sep and scheme in ("channel", "bridge"):
                parts.append(f"{scheme}:{self.translate(rest)}")
                continue
            canonical = self.rec.canon_str(part)
            parts.append(self.mine.to_raw(canonical, part) if canonical != part else part)
        return ",".join(parts)

    def translate_path(self, path: str) -> str:
        return "/".join(self.translate(seg) if seg else seg for seg in path.split("/"))

    # ------------------------------------------------------------------ steps
    async def run(self) -> list[str]:
        steps = self.steps
        actions = [i for i, s in enumerate(steps) if s["kind"] in ACTIONS] + [len(steps)]
        for n, i in enumerate(actions[:-1]):
            step = steps[i]
            kind = step["kind"]
            await self.advance_to(step["t_ms"])
            # Asterisk's events can trail the responses by a request or two: allow the simulator to be that early.
            upper = actions[min(n + 2, len(actions) - 1)]
            await self.checkpoint(f"before step {i} ({kind} {step.get('path', '')})", i, upper)
            if kind == "request":
                index, response = next((j, s) for j, s in enumerate(steps) if j > i and s["kind"] == "response")
                await self.request(step, response, index)
            elif kind == "ws_open":
                await self.open_ws(step["ws"])
            elif kind == "ws_close":
                await self.sockets.pop(step["ws"]).close()
            elif kind == "ws_send":
                msg = json.loads(json.dumps(step["message"]))
                msg["uri"] = self.translate_path(msg["uri"])
                for item in msg.get("query_strings", []):
                    item["value"] = self.translate(item["value"])
                await self.sockets[step["ws"]].send_json(msg)
                await self.wait_for_reply(step["ws"], msg["request_id"])
        await self.advance_to(steps[-1]["t_ms"] + 1)
        await self.checkpoint("at the end", len(steps), len(steps))
        for task in self.pending:
            task.cancel()
        for sock in self.sockets.values():
            await sock.close()
        for reader in self.readers:
            reader.cancel()
        return self.failures

    async def advance_to(self, t_ms: float) -> None:
        if t_ms > self.now_ms:
            await self.sim.advance((t_ms - self.now_ms) / 1000.0)
            self.now_ms = t_ms

    async def open_ws(self, name: str) -> None:
        url = self.base.replace("http", "ws") + f"/ari/events?app=callcenter&api_key={USER}:{PASSWORD}"
        sock = await self.session.ws_connect(url)
        self.sockets[name] = sock

        async def read() -> None:
            async for msg in sock:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.got[name].append(json.loads(msg.data))

        self.readers.append(asyncio.create_task(read()))
        await asyncio.sleep(0.01)

    async def wait_for_reply(self, ws: str, request_id: str) -> None:
        """REST over WebSocket is asynchronous: let the simulator answer before the clock moves on."""
        for _ in range(20):
            if any(e.get("request_id") == request_id for e in self.got[ws]):
                return
            await asyncio.sleep(0.01)

    async def request(self, step: dict[str, Any], response: dict[str, Any], index: int) -> None:
        params = {k: self.translate(v) for k, v in step["params"].items()}
        url = self.base + "/ari" + self.translate_path(step["path"])
        where = f"{step['method']} {step['path']} @{step['t_ms']}"
        params["api_key"] = "asterisk:wrong" if response["status"] == 401 else f"{USER}:{PASSWORD}"

        async def send() -> tuple[int, Any, aiohttp.ClientResponse]:
            async with self.session.request(step["method"], url, params=params) as resp:
                text = await resp.text()
                return resp.status, (json.loads(text) if text else None), resp

        task = asyncio.create_task(send())
        if response["status"] is None:  # Asterisk never answered this one
            await asyncio.sleep(0.05)
            if task.done():
                self.failures.append(f"{where}: expected no response, got {task.result()[0]}")
            self.pending.append(task)
            return
        status, body, resp = await task
        if status != response["status"]:
            self.failures.append(f"{where}: status {status} != {response['status']} ({body})")
            return
        if response["status"] == 401 and resp.headers.get("WWW-Authenticate") != response["www_authenticate"]:
            self.failures.append(f"{where}: WWW-Authenticate {resp.headers.get('WWW-Authenticate')}")
        if body is not None and resp.content_type != "application/json":
            self.failures.append(f"{where}: content type {resp.content_type}")
        self.mine.learn(body)
        have = normalise_body(self.mine.canon(body))
        if self.rec_bodies[index] != have:
            self.failures.append(f"{where}: body\n  want {self.rec_bodies[index]}\n  have {have}")

    async def checkpoint(self, where: str, lower: int, upper: int) -> None:
        """Every event recorded before step `lower` has arrived, and nothing recorded after step `upper`."""
        need = defaultdict(int)
        for index, ws, _ in self.rec_events:
            if index < lower:
                need[ws] += 1
        for _ in range(100):
            if all(len(self.got[ws]) >= n for ws, n in need.items()):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.005)
        for ws, raw in self.got.items():
            mine = self.mine_events[ws]
            for event in raw[len(mine) :]:
                mine.append(canon_event(self.mine, event))
        for ws in set(need) | set(self.got) | {w for i, w, _ in self.rec_events if i < upper}:
            if ws in self.diverged:
                continue
            low = grouped([e for i, w, e in self.rec_events if w == ws and i < lower])
            high = grouped([e for i, w, e in self.rec_events if w == ws and i < upper])
            have = grouped(self.mine_events[ws])
            for key in sorted(set(high) | set(have)):
                if not (
                    is_prefix(low.get(key, []), have.get(key, [])) and is_prefix(have.get(key, []), high.get(key, []))
                ):
                    self.diverged.add(ws)
                    self.failures.append(
                        f"{where} on {ws}: events differ for {key}\n" + describe(high.get(key, []), have.get(key, []))
                    )
                    break


async def replay_file(path: Path) -> list[str]:
    transcript = json.loads(path.read_text())
    sim = Simulator(SimConfig(app="callcenter", username=USER, password=PASSWORD, clock="manual", seed=7))
    async with sim.serve() as server, aiohttp.ClientSession() as session:
        return await Replay(transcript, session, server.base_url, sim).run()
