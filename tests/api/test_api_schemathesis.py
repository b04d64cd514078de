"""Schemathesis against the live server's OpenAPI document, once per role: no 5xx, every answer fits the document,
requests the document calls invalid are refused, 405s and OPTIONS name the methods a path takes, and operations
linked in the document are chained with the ids they answer (the stateful phase).

Bounded: a fixed seed, and a few examples per operation (the admin, who reaches every operation, gets the most and
the fuzzing phase). Known ids (agents, queues, a webhook subscription made beforehand) are offered to the generator
part of the time, so that requests reach the services and not only the 404 of an unknown id (a campaign with an
import, too). Every check but
``positive_data_acceptance`` runs: the services refuse some requests the document cannot describe (a queue that
does not exist, a widen step without skills, a review that must name an agent for every role but an agent's),
and those are 422 or 400 naming the field, as documented.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import pytest

from tests.api.conftest import TOKENS, OpenApi
from tests.api.test_api_campaigns import CAMPAIGN, TRUNK

ST = Path(sys.executable).with_name("st")

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

# Examples per operation and phases, by role. Fuzzing is the costly phase (about half a minute at 25 examples): the
# admin's run fuzzes; the other roles differ in what they may do and see, which coverage and the linked operations
# reach.
ROLES = {
    "admin": (25, "coverage,fuzzing,stateful"),
    "supervisor": (12, "coverage,stateful"),
    "qa": (12, "coverage,stateful"),
    "crm": (12, "coverage,stateful"),
    "agent1": (12, "coverage,stateful"),
}

# The generator makes webhook subscriptions to addresses it invents, and the API's changes are events they receive:
# a public one is allowed by the policy, so every connection and lookup beyond loopback is refused here.
pytestmark = pytest.mark.usefixtures("nothing_leaves")


@pytest.mark.timeout(300)  # the admin's run fuzzes every operation: about two minutes on a loaded machine
@pytest.mark.parametrize("role", list(ROLES))
async def test_generated_requests_get_no_server_error_and_answers_fit_the_schema(
    open_api: OpenApi, tmp_path: Path, role: str
) -> None:
    """A schemathesis run with the role's token over real HTTP finds nothing wrong."""
    examples, phases = ROLES[role]
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
            "--header", f"Authorization: Bearer {TOKENS[role]}",
            "--checks", "all",
            "--exclude-checks", "positive_data_acceptance",
            "--max-examples", str(examples),
            "--seed", "20261122",
            "--phases", phases,
            "--workers", "1",  # hypothesis parses lambdas with `ast`, which races between threads on CPython 3.11
            "--request-timeout", "10",
            "--max-failures", "20",
            "--exclude-path", "/api/v1/wallboard/stream",  # server-sent events: an answer that never ends
        ]  # fmt: skip
        with anyio.fail_after(240):
            result = await anyio.run_process(command, check=False, cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-8000:]
    assert re.search(r"\b[1-9]\d* generated", output), output[-2000:]  # it did test something
    assert re.search(r"✅ Stateful", output), output[-2000:]  # and chained linked operations
