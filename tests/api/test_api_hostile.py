"""Hostile input over real HTTP: nesting bombs, lenient booleans, methods a path does not take. Each is a 4xx that
says what is wrong, never a 500."""

from __future__ import annotations

import re

import pytest

from callcenter_ari.http.bodies import MAX_DEPTH, nesting_depth
from callcenter_ari.store.keys import ID_PATTERN
from tests.api.conftest import OpenApi

# Operations that take a body, with one that is otherwise fine, so that only the nesting is at fault.
BODIES = [
    ("POST", "/api/v1/webhooks/subscriptions"),
    ("PATCH", "/api/v1/webhooks/subscriptions/sub_x"),
    ("POST", "/api/v1/webhooks/replay"),
    ("PUT", "/api/v1/queues/support"),
    ("POST", "/api/v1/agents"),
    ("POST", "/api/v1/tickets/T-2026-000001/complete"),
    ("PUT", "/api/v1/ivr/surge"),
]


class TestNesting:
    @pytest.mark.parametrize("bomb", ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000])
    async def test_a_thousand_levels_is_a_400_not_a_500(self, open_api: OpenApi, bomb: str) -> None:
        async with open_api() as api, api.client("admin") as http:
            for method, path in BODIES:
                answer = await http.request(method, path, content=bomb, headers={"content-type": "application/json"})
                assert answer.status_code == 400, (method, path, answer.text)
                assert answer.json()["error"] == "bad_request" and str(MAX_DEPTH) in answer.json()["message"]

    async def test_nesting_within_the_limit_is_judged_as_usual(self, open_api: OpenApi) -> None:
        """A body nested to the limit is decoded and refused for what it is (an object where a string goes)."""
        inner = '{"x":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
        async with open_api() as api, api.client("admin") as http:
            answer = await http.post("/api/v1/webhooks/subscriptions", content=f'{{"url": {inner}}}')
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "url", answer.text

    def test_the_scan_counts_brackets_outside_strings_only_and_stops_past_the_limit(self) -> None:
        assert nesting_depth(b'{"a": "[[[[[[[[", "b": [[1], {"c": [2]}]}', 10) == 4
        assert nesting_depth(b'"\\"[[[["', 10) == 0
        assert nesting_depth(b"[" * 100_000, 32) == 33
        assert nesting_depth(b"]]]][[", 32) == 2  # malformed: never negative


class TestStrictTypes:
    async def test_a_value_of_the_wrong_type_is_422_naming_it(self, open_api: OpenApi) -> None:
        """No lenient conversion: 0 is not false, "true" is not true, "20" is not 20."""
        cases = [
            ("PUT", "/api/v1/queues/support", {"recording": {"beep": 0}}, "recording.beep"),
            ("PUT", "/api/v1/queues/support", {"recording": {"beep": "true"}}, "recording.beep"),
            ("PUT", "/api/v1/queues/support", {"sla_seconds": "20"}, "sla_seconds"),
            ("POST", "/api/v1/webhooks/subscriptions", {"url": "https://93.184.215.14/", "enabled": 1}, "enabled"),
            ("POST", "/api/v1/agents/a1/wrapup/extend", {"seconds": "60"}, "seconds"),
        ]
        async with open_api() as api, api.client("admin") as http:
            for method, path, body, field in cases:
                answer = await http.request(method, path, json=body)
                assert answer.status_code == 422, (body, answer.text)
                assert [e["field"] for e in answer.json()["errors"]] == [field], answer.text

    async def test_a_well_typed_body_still_goes_through(self, open_api: OpenApi) -> None:
        async with open_api() as api, api.client("admin") as http:
            answer = await http.put("/api/v1/queues/support", json={"recording": {"beep": True}, "sla_seconds": 20})
        assert answer.status_code == 200, answer.text
        assert answer.json()["recording"]["beep"] is True


async def test_every_405_and_options_say_which_methods_the_path_takes(open_api: OpenApi) -> None:
    """For every path of the document: a method it does not take is 405 with ``Allow`` naming the ones it does, and
    OPTIONS names them too (also where two controllers share a path, as listing and creating agents do)."""
    async with open_api() as api, api.client("admin") as http:
        document = (await http.get("/api/openapi.json")).json()
        checked = 0
        for template, operations in document["paths"].items():
            path = re.sub(r"\{[^}]+\}", "1", template)  # any value of the right type will do: routing comes first
            taken = {method.upper() for method in operations if method in ("get", "post", "put", "patch", "delete")}
            options = await http.options(path)
            assert options.status_code == 204, (path, options.text)
            assert {m.strip() for m in options.headers["allow"].split(",")} == taken | {"OPTIONS"}, path
            for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - taken):
                answer = await http.request(method, path)
                assert answer.status_code == 405, (method, path, answer.text)
                allowed = {m.strip() for m in answer.headers["allow"].split(",")}
                assert allowed == taken | {"OPTIONS"}, (method, path, allowed)
                checked += 1
    assert checked > 100


async def test_the_document_is_as_strict_as_the_server(open_api: OpenApi) -> None:
    """Closed request bodies, patterned path ids, the ticket search's exactly-one rule, links between operations."""
    async with open_api() as api, api.client("qa") as http:
        document = (await http.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    operations = {
        op["operationId"]: op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)
    }
    with_body = [op for op in operations.values() if "requestBody" in op]
    bodies = [op["requestBody"]["content"]["application/json"]["schema"] for op in with_body if _json(op)]
    uploads = [op for op in with_body if not _json(op)]  # CSV lists: multipart or the CSV itself
    assert len(bodies) >= 17 and uploads
    assert all(set(op["requestBody"]["content"]) <= {"multipart/form-data", "text/csv"} for op in uploads)
    for body in bodies:
        schema = schemas[body["$ref"].rsplit("/", 1)[1]]
        assert schema["additionalProperties"] is False, schema
    assert schemas["RecordingPolicyInput"]["properties"]["beep"] == {"type": "boolean", "default": False}
    assert schemas["NewSubscriptionInput"]["properties"]["events"]["items"]["pattern"]
    ids = [
        p for op in operations.values() for p in op.get("parameters", []) if p["in"] == "path" and p["name"] != "start"
    ]
    assert ids and all(p["schema"]["pattern"] == ID_PATTERN for p in ids)
    [criterion] = [p for p in operations["search"]["parameters"] if p["name"] == "criterion"]
    assert [list(one["required"]) for one in criterion["schema"]["oneOf"]] == [
        ["caller_number"],
        ["number"],
        ["customer_name"],
    ]
    assert (criterion["style"], criterion["explode"], criterion["required"]) == ("form", True, True)
    links = operations["create_subscription"]["responses"]["201"]["links"]
    assert links["get_subscription"] == {
        "operationId": "get_subscription",
        "parameters": {"subscription_id": "$response.body#/id"},
    }
    assert operations["create_agent"]["responses"]["201"]["links"]["log_in"]["parameters"] == {
        "agent_id": "$request.body#/id"
    }


async def test_the_ticket_search_takes_exactly_one_criterion(open_api: OpenApi) -> None:
    async with open_api() as api, api.client("admin") as http:
        none = await http.get("/api/v1/tickets")
        two = await http.get("/api/v1/tickets", params={"number": "T-2026-000001", "customer_name": "Ann"})
        empty = await http.get("/api/v1/tickets", params={"number": ""})
        one = await http.get("/api/v1/tickets", params={"number": "T-2026-000001", "limit": 5})
    assert none.status_code == two.status_code == empty.status_code == 400
    assert {e["field"] for e in two.json()["errors"]} == {"caller_number", "number", "customer_name"}
    assert (one.status_code, one.json()) == (200, {"tickets": []})


def _json(operation: dict) -> bool:  # type: ignore[type-arg]
    return "application/json" in operation["requestBody"]["content"]
