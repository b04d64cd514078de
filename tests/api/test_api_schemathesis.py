"""Schemathesis against the live server's OpenAPI document: no 5xx, and every answer fits the document.

Bounded: a few examples per operation and a fixed seed, in well under a minute. Known ids (agents, queues, a
webhook subscription made beforehand) are offered to the generator part of the time, so that requests reach the
services and not only the 404 of an unknown id (a campaign with an import, too).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio

from tests.api.conftest import TOKENS, OpenApi
from tests.api.test_api_campaigns import CAMPAIGN, TRUNK

ST = Path(sys.executable).with_name("st")
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"

CONFIG = """
[dictionaries.agents]
values = ["a1", "a2", "a3"]
[dictionaries.queues]
values = ["support", "billing"]
[dictionaries.subscriptions]
values = ["{subscription}"]
[dictionaries.campaigns]
values = ["loans"]
[dictionaries.imports]
values = ["{lead_import}"]
[parameters]
"path.agent_id" = {{ dictionary = "agents", probability = 0.7 }}
"path.queue_id" = {{ dictionary = "queues", probability = 0.7 }}
"path.subscription_id" = {{ dictionary = "subscriptions", probability = 0.7 }}
"path.campaign_id" = {{ dictionary = "campaigns", probability = 0.7 }}
"path.import_id" = {{ dictionary = "imports", probability = 0.7 }}
"""


async def test_generated_requests_get_no_server_error_and_answers_fit_the_schema(
    open_api: OpenApi, tmp_path: Path
) -> None:
    """A schemathesis run with an admin token over real HTTP finds no 5xx and no answer outside the schema."""
    async with open_api(TRUNK) as api:
        async with api.client("admin") as http:
            created = await http.post("/api/v1/webhooks/subscriptions", json={"url": "http://127.0.0.1:9/hook"})
            await http.post("/api/v1/campaigns", json=CAMPAIGN)
            csv = "姓名,手机\n张三,13800138000\n".encode()
            lead_import = await http.post("/api/v1/campaigns/loans/imports", files={"file": ("a.csv", csv)})
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG.format(subscription=created.json()["id"], lead_import=lead_import.json()["id"]))
        command = [
            str(ST), "--config-file", str(config), "run", f"{api.base_url}/api/openapi.json",
            "--url", api.base_url,
            "--header", f"Authorization: Bearer {TOKENS['admin']}",
            "--checks", CHECKS,
            "--max-examples", "15",
            "--seed", "20261122",
            "--phases", "examples,coverage,fuzzing",
            "--workers", "1",  # hypothesis parses lambdas with `ast`, which races between threads on CPython 3.11
            "--request-timeout", "10",
            "--max-failures", "20",
        ]  # fmt: skip
        with anyio.fail_after(100):
            result = await anyio.run_process(command, check=False, cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-8000:]
    assert re.search(r"\b[1-9]\d* generated", output), output[-2000:]  # it did test something
