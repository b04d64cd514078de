"""Campaigns through the real API: their life, CSV imports streamed as multipart or raw text with every rejected row
reported and downloadable, leads, dispositions, exports, the do-not-call list; and who may do what (roles, an
agent's own leads, another tenant's token that sees and changes nothing)."""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

import anyio
import httpx
import pytest

from callcenter_ari.campaigns import Attempt
from tests.api.conftest import TOKENS, Api, OpenApi

TRUNK = """
[trunks.provider1]
kind = "pjsip"
region = "CN"
endpoint = "provider1"
capacity = 30
caller_id = "+862161234567"
"""
CAMPAIGN = {
    "id": "loans",
    "name": "Loan reminders",
    "queue": "support",
    "trunk": "provider1",
    "time_zone": "Asia/Shanghai",
    "calling_hours": ["08:00-11:00", "13:00-15:00"],
    "calling_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
}
LIST = "姓名,手机,备注\n张三,138 0013 8000,VIP\n李四,100@other-context,x\n王五,13900139000,\n赵六,13800138000,dup\n"
BASE = "/api/v1/campaigns"


def spec(**change: Any) -> dict[str, Any]:
    return {k: v for k, v in {**CAMPAIGN, **change}.items() if k != "id"}


async def created(api: Api, campaign: dict[str, Any] = CAMPAIGN) -> None:
    async with api.client("admin") as admin:
        answer = await admin.post(BASE, json=campaign)
        assert answer.status_code == 201, answer.text


async def upload(
    http: httpx.AsyncClient, data: bytes, path: str = f"{BASE}/loans/imports", **params: Any
) -> httpx.Response:
    return await http.post(path, params=params, files={"file": ("leads.csv", data, "text/csv")})


def rows(body: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding))))


async def test_a_campaign_is_created_changed_and_run_through_its_states(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api, api.client("supervisor") as http:
        made = await http.post(BASE, json=CAMPAIGN)
        assert made.status_code == 201 and made.json()["state"] == "draft" and made.json()["dial_mode"] == "progressive"
        assert (await http.post(BASE, json=CAMPAIGN)).status_code == 409
        assert [c["id"] for c in (await http.get(BASE)).json()["campaigns"]] == ["loans"]
        changed = await http.put(f"{BASE}/loans", json=spec(dial_mode="preview", max_calls_per_day=20))
        assert changed.status_code == 200 and changed.json()["max_calls_per_day"] == 20
        started = await http.post(f"{BASE}/loans/state", json={"action": "start"})
        assert started.json()["state"] == "running"
        refused = await http.put(f"{BASE}/loans", json=spec())
        assert refused.status_code == 409 and "pause it" in refused.json()["message"]
        illegal = await http.post(f"{BASE}/loans/state", json={"action": "resume"})
        assert illegal.status_code == 409 and "running: cannot resume" in illegal.json()["message"]
        assert (await http.post(f"{BASE}/loans/state", json={"action": "pause"})).json()["state"] == "paused"
        assert (await http.delete(f"{BASE}/loans")).status_code == 409  # it ran: its results stay
        assert (await http.post(f"{BASE}/loans/state", json={"action": "stop"})).json()["state"] == "stopped"
        assert (await http.post(BASE, json={**CAMPAIGN, "id": "draft1"})).status_code == 201
        await upload(http, LIST.encode(), path=f"{BASE}/draft1/imports")
        assert (await http.delete(f"{BASE}/draft1")).status_code == 204
        base = api.app.store.keys.base
        left = [k async for k in api.app.store.redis.scan_iter(match=f"{base}:*") if b"import" in k or b"draft1" in k]
        assert left == [], left  # its leads, imports and rejected rows went with it
        assert (await http.get(f"{BASE}/draft1")).status_code == 404
        stats = (await http.get(f"{BASE}/loans/stats")).json()
        assert stats["state"] == "stopped" and stats["leads"] == 0 and stats["contact_rate"] is None


async def test_a_bad_campaign_names_every_field_at_fault(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api, api.client("admin") as http:
        bad = {**CAMPAIGN, "queue": "nope", "trunk": "nope", "calling_hours": ["11:00-08:00"], "time_zone": "Mars/X"}
        answer = await http.post(BASE, json=bad)
        assert answer.status_code == 422
        assert [e["field"] for e in answer.json()["errors"]] == ["queue", "trunk", "time_zone", "calling_hours[0]"]
        typed = await http.post(BASE, json={**CAMPAIGN, "dial_mode": "robot", "max_attempts": 0})
        assert typed.status_code == 422 and typed.json()["errors"][0]["field"] in ("dial_mode", "max_attempts")
        assert (await http.post(BASE, json={**CAMPAIGN, "id": "a b"})).json()["errors"][0]["field"] == "id"
        unknown = await http.post(BASE, json={**CAMPAIGN, "colour": "red"})
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "colour"
        state = await http.post(f"{BASE}/loans/state", json={"action": "explode"})
        assert state.status_code in (404, 422)


async def test_a_gbk_list_uploaded_as_multipart_loads_and_its_rejects_download_with_line_numbers(
    open_api: OpenApi,
) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("supervisor") as http:
            answer = await upload(http, LIST.encode("gbk"))
            assert answer.status_code == 201, answer.text
            report = answer.json()
            assert report["status"] == "done" and report["loaded"] == 2 and report["rejected"] == 2
            assert report["encoding"] == "gb18030" and report["file_name"] == "leads.csv"
            assert report["columns"] == {"phone": "手机", "name": "姓名"} and report["reasons"] == {
                "not_a_number": 1,
                "duplicate": 1,
            }
            rejects = await http.get(f"{BASE}/loans/imports/{report['id']}/rejects")
            assert rejects.status_code == 200 and rejects.content.startswith(codecs.BOM_UTF8)
            assert rejects.headers["content-type"].startswith("text/csv")
            table = rows(rejects.content)
            assert table[0] == ["line", "reason", "message"]
            assert [(r[0], r[1]) for r in table[1:]] == [("3", "not_a_number"), ("5", "duplicate")]
            assert table[1][3:] == ["李四", "100@other-context", "x"]
            gbk = await http.get(f"{BASE}/loans/imports/{report['id']}/rejects", params={"encoding": "gbk"})
            assert rows(gbk.content, "gbk")[1][3] == "李四"
            assert [i["id"] for i in (await http.get(f"{BASE}/loans/imports")).json()["imports"]] == [report["id"]]
            assert (await http.get(f"{BASE}/loans/imports/{report['id']}")).json()["loaded"] == 2
            leads = (await http.get(f"{BASE}/loans/leads")).json()
            assert sorted(lead["number"] for lead in leads["leads"]) == ["+8613800138000", "+8613900139000"]
            found = (await http.get(f"{BASE}/loans/leads", params={"number": "138-0013-8000"})).json()["leads"]
            assert [lead["name"] for lead in found] == ["张三"] and found[0]["data"] == {"备注": "VIP"}
            lead = await http.get(f"{BASE}/loans/leads/{found[0]['id']}")
            assert lead.json()["zone"] == "Asia/Shanghai"
            assert (await http.get(f"{BASE}/loans/stats")).json()["by_state"]["new"] == 2


async def test_a_raw_csv_body_a_dry_run_and_stated_options(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("admin") as http:
            dry = await http.post(
                f"{BASE}/loans/imports",
                params={"dry_run": "true", "header": "no", "phone_column": "2", "delimiter": ";"},
                content="甲;13800138000\n乙;13900139000\n".encode(),
                headers={"content-type": "text/csv"},
            )
            assert dry.status_code == 201, dry.text
            assert dry.json()["dry_run"] and dry.json()["loaded"] == 2
            assert (await http.get(f"{BASE}/loans/stats")).json()["leads"] == 0


async def claimed_length(api: Api, length: str) -> httpx.Response:
    """A request that declares a body of ``length`` bytes and sends one (httpx will not send such a thing)."""
    host, port = api.base_url.removeprefix("http://").split(":")
    head = (
        f"POST {BASE}/loans/imports HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {TOKENS['admin']}\r\n"
        f"content-type: text/csv\r\ncontent-length: {length}\r\n\r\nx"
    )
    async with await anyio.connect_tcp(host, int(port)) as stream:
        await stream.send(head.encode())
        raw = b""
        while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
            raw += await stream.receive()
    status = int(raw.split(b" ", 2)[1])
    return httpx.Response(status, content=raw.split(b"\r\n\r\n", 1)[1])


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (b"", {"content-type": "text/csv"}, 422, "file"),
        ("姓名,地址\n张三,北京\n".encode(), {"content-type": "text/csv"}, 422, "file"),
        (b"PK\x03\x04zip", {"content-type": "text/csv"}, 422, "file"),
        (b"{}", {"content-type": "application/json"}, 415, None),
        (b"x", {"content-type": "text/csv", "content-length": str(600 * 1024 * 1024)}, 413, None),
    ],
)
async def test_a_file_that_cannot_be_read_is_a_clear_4xx(
    open_api: OpenApi, body: bytes, headers: dict[str, str], status: int, field: str | None
) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("admin") as http:
            if "content-length" in headers:  # claims 600 MB, sends a byte: refused before anything is read
                answer = await claimed_length(api, headers["content-length"])
            else:
                answer = await http.post(f"{BASE}/loans/imports", content=body, headers=headers)
            assert answer.status_code == status, answer.text
            if field is not None:
                assert answer.json()["errors"][0]["field"] == field
            assert (await http.get(f"{BASE}/loans/stats")).json()["leads"] == 0


async def test_an_upload_with_options_as_form_fields_or_bad_options_is_refused(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("admin") as http:
            form = await http.post(f"{BASE}/loans/imports", data={"dry_run": "true"}, files={"file": ("a.csv", b"x")})
            assert form.status_code == 400 and form.json()["errors"][0]["field"] == "dry_run"
            nofile = await http.post(f"{BASE}/loans/imports", files={"other": ("a.csv", b"13800138000\n")})
            assert nofile.status_code == 400
            bad = await upload(http, LIST.encode(), encoding="klingon")
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "encoding"
            region = await upload(http, LIST.encode(), region="XX")
            assert region.status_code == 422 and region.json()["errors"][0]["field"] == "region"


async def answered_by(api: Api, agent: str) -> str:
    """Load one lead, start the campaign, and have a dialer claim it and report an answered call with ``agent``."""
    async with api.client("admin") as http:
        await upload(http, "姓名,手机\n张三,13800138000\n".encode())
        await http.post(f"{BASE}/loans/state", json={"action": "start"})
    desk = api.deps.campaigns
    now = api.deps.clock.now()
    [lead] = await desk.dialing.claim_due("loans", now, 1, "dialer-test")
    answered = Attempt(at=now, ended_at=now + 60, outcome="answered", agent_id=agent, call_id="c-1")
    await desk.dialing.record_attempt("loans", lead.id, "dialer-test", answered)
    return lead.id


async def test_an_agent_disposes_of_their_own_lead_at_wrap_up(open_api: OpenApi) -> None:
    every_day = {**CAMPAIGN, "calling_hours": ["00:00-24:00"]}
    async with open_api(TRUNK) as api:
        await created(api, every_day)
        lead_id = await answered_by(api, "a1")
        path = f"{BASE}/loans/leads/{lead_id}"
        async with api.client("agent1") as mine, api.client("agent2") as other, api.client("qa") as qa:
            assert (await mine.get(path)).json()["attempts"][0]["agent_id"] == "a1"
            assert (await other.get(path)).status_code == 404
            assert (await other.post(f"{path}/disposition", json={"code": "success"})).status_code == 404
            assert (await qa.post(f"{path}/disposition", json={"code": "success"})).status_code == 403
            unknown = await mine.post(f"{path}/disposition", json={"code": "sold_a_boat"})
            assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "code"
            done = await mine.post(f"{path}/disposition", json={"code": "callback", "note": "after payday"})
            assert done.status_code == 200 and done.json()["state"] == "scheduled"
            assert done.json()["attempts"][0]["disposition"] == "callback"
        async with api.client("supervisor") as http:
            stats = (await http.get(f"{BASE}/loans/stats")).json()
            assert (
                stats["contacts"] == 1
                and stats["dispositions"] == {"callback": 1}
                and stats["outcomes"] == {"answered": 1}
            )
            export = await http.get(f"{BASE}/loans/export")
            assert export.status_code == 200 and export.content.startswith(codecs.BOM_UTF8)
            table = rows(export.content)
            assert table[0][:4] == ["lead_id", "number", "name", "state"]
            assert table[1][1:4] == ["+8613800138000", "张三", "scheduled"] and table[1][8:10] == [
                "callback",
                "after payday",
            ]
            gbk = await http.get(f"{BASE}/loans/export", params={"encoding": "gbk"})
            assert rows(gbk.content, "gbk")[1][2] == "张三"


async def test_the_do_not_call_list(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("supervisor") as http:
            added = await http.post("/api/v1/dnc", json={"numbers": ["13800138000", "+1 212 555 0123"], "region": "CN"})
            assert added.status_code == 201 and len(added.json()["added"]) == 2
            again = await http.post("/api/v1/dnc", json={"numbers": ["+8613800138000"]})
            assert again.json() == {"added": [], "already_listed": 1}
            bad = await http.post("/api/v1/dnc", json={"numbers": ["13900139000", "PJSIP/x"], "region": "CN"})
            assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["numbers[1]"]
            assert (await http.get("/api/v1/dnc/+8613800138000")).json()["by"] == "supervisor"
            assert (await http.get("/api/v1/dnc/13800138000", params={"region": "CN"})).status_code == 200
            assert (await http.get("/api/v1/dnc")).json()["total"] == 2
            imported = await upload(
                http, b"phone\n13700137000\n13800138000\nnope\n", path="/api/v1/dnc/imports", region="CN"
            )
            assert imported.status_code == 201, imported.text
            assert (imported.json()["loaded"], imported.json()["already_listed"], imported.json()["rejected"]) == (
                1,
                1,
                1,
            )
            rejects = await http.get(f"/api/v1/dnc/imports/{imported.json()['id']}/rejects")
            assert rows(rejects.content)[1][:2] == ["4", "not_a_number"]
            lead_import = await upload(http, LIST.encode())
            assert lead_import.json()["reasons"]["do_not_call"] == 2  # 138 0013 8000, twice in the list
            assert (await http.delete("/api/v1/dnc/+8613800138000")).status_code == 204
            assert (await http.delete("/api/v1/dnc/+8613800138000")).status_code == 404
            assert (await http.get("/api/v1/dnc/+8613800138000")).status_code == 404


CAMPAIGN_ROUTES = [
    ("GET", BASE, None),
    ("POST", BASE, {**CAMPAIGN, "id": "x2"}),
    ("GET", f"{BASE}/loans", None),
    ("PUT", f"{BASE}/loans", spec()),
    ("DELETE", f"{BASE}/loans", None),
    ("POST", f"{BASE}/loans/state", {"action": "start"}),
    ("GET", f"{BASE}/loans/stats", None),
    ("GET", f"{BASE}/loans/leads", None),
    ("GET", f"{BASE}/loans/export", None),
    ("GET", f"{BASE}/loans/imports", None),
    ("POST", f"{BASE}/loans/imports", "upload"),
    ("GET", "/api/v1/dnc", None),
    ("POST", "/api/v1/dnc", {"numbers": ["+8613800138000"]}),
    ("GET", "/api/v1/dnc/+8613800138000", None),
    ("DELETE", "/api/v1/dnc/+8613800138000", None),
    ("POST", "/api/v1/dnc/imports", "upload"),
    ("GET", f"{BASE}/loans/imports/i0000000000000000", None),
    ("GET", f"{BASE}/loans/imports/i0000000000000000/rejects", None),
    ("GET", "/api/v1/dnc/imports/i0000000000000000", None),
    ("GET", "/api/v1/dnc/imports/i0000000000000000/rejects", None),
]
# An agent may read and dispose of the leads whose last call it took (404 for the others).
LEAD_ROUTES = [
    ("GET", f"{BASE}/loans/leads/l1", None),
    ("POST", f"{BASE}/loans/leads/l1/disposition", {"code": "success"}),
]


async def call(http: httpx.AsyncClient, method: str, path: str, body: Any) -> httpx.Response:
    if body == "upload":
        return await http.post(path, content=b"phone\n13800138000\n", headers={"content-type": "text/csv"})
    return await http.request(method, path, json=body) if body is not None else await http.request(method, path)


@pytest.mark.parametrize("role", ["qa", "crm", "agent1"])
async def test_roles_without_campaign_permissions_are_refused_everywhere(open_api: OpenApi, role: str) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client(role) as http:
            for method, path, body in CAMPAIGN_ROUTES + (LEAD_ROUTES if role != "agent1" else []):
                answer = await call(http, method, path, body)
                assert answer.status_code == 403, (method, path, answer.text)
        assert await api.deps.campaigns.campaigns.get("loans") is not None


async def test_another_tenants_token_sees_no_campaign_and_changes_nothing(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        async with api.client("admin") as admin:
            report = (await upload(admin, LIST.encode())).json()
            await admin.post("/api/v1/dnc", json={"numbers": ["+8613700137000"]})
            dnc_report = (await upload(admin, b"phone\n+8613600136000\n", path="/api/v1/dnc/imports")).json()
        lead_id = (await api.deps.campaigns.leads.by_number("loans", "+8613800138000")).id  # type: ignore[union-attr]
        async with api.client("other_admin") as http:
            assert (await http.get(BASE)).json() == {"campaigns": []}
            assert (await http.get("/api/v1/dnc")).json() == {"entries": [], "cursor": None, "total": 0}
            for method, path, body in CAMPAIGN_ROUTES[1:11] + CAMPAIGN_ROUTES[12:16]:
                answer = await call(http, method, path, body)
                assert answer.status_code == 404, (method, path, answer.text)
            for path in (
                f"{BASE}/loans/imports/{report['id']}",
                f"{BASE}/loans/imports/{report['id']}/rejects",
                f"{BASE}/loans/leads/{lead_id}",
                f"/api/v1/dnc/imports/{dnc_report['id']}",
                f"/api/v1/dnc/imports/{dnc_report['id']}/rejects",
            ):
                assert (await http.get(path)).status_code == 404, path
            disposed = await http.post(f"{BASE}/loans/leads/{lead_id}/disposition", json={"code": "success"})
            assert disposed.status_code == 404
        async with api.client("other_agent1") as agent:
            assert (await agent.get(f"{BASE}/loans/leads/{lead_id}")).status_code == 404
        campaign = await api.deps.campaigns.campaigns.require("loans")
        assert campaign.state == "draft" and (await api.deps.campaigns.stats("loans")).leads == 2
        assert await api.deps.campaigns.dnc.get("+8613700137000") is not None


async def test_an_import_of_another_campaign_is_not_found_under_this_one(open_api: OpenApi) -> None:
    async with open_api(TRUNK) as api:
        await created(api)
        await created(api, {**CAMPAIGN, "id": "sales"})
        async with api.client("admin") as http:
            report = (await upload(http, LIST.encode())).json()
            assert (await http.get(f"{BASE}/sales/imports/{report['id']}")).status_code == 404
            assert (await http.get(f"/api/v1/dnc/imports/{report['id']}")).status_code == 404
