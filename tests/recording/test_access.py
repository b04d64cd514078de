"""Who may read, delete, score and sample recordings: every role against own/other agent and own/other tenant."""

from __future__ import annotations

import pytest

from callcenter_ari.recording import Role, Viewer, can_delete, can_read, can_sample, can_score
from tests.recording.helpers import recording

REC = recording(tenant="t1", agent_id="a1")  # viewers with agent id "a1" are the recording's own agent

# fmt: off
TABLE: list[tuple[Role, str, str, bool, bool, bool]] = [
    # role          agent  tenant  read   delete score
    ("admin",       "a1",  "t1",   True,  True,  True),
    ("admin",       "a2",  "t1",   True,  True,  True),
    ("admin",       "a1",  "t2",   False, False, False),
    ("admin",       "a2",  "t2",   False, False, False),
    ("supervisor",  "a1",  "t1",   True,  False, True),
    ("supervisor",  "a2",  "t1",   True,  False, True),
    ("supervisor",  "a1",  "t2",   False, False, False),
    ("supervisor",  "a2",  "t2",   False, False, False),
    ("qa",          "a1",  "t1",   True,  False, True),
    ("qa",          "a2",  "t1",   True,  False, True),
    ("qa",          "a1",  "t2",   False, False, False),
    ("qa",          "a2",  "t2",   False, False, False),
    ("agent",       "a1",  "t1",   True,  False, False),  # their own call, which they never score
    ("agent",       "a2",  "t1",   False, False, False),
    ("agent",       "a1",  "t2",   False, False, False),  # the same agent id in another tenant is someone else
    ("agent",       "a2",  "t2",   False, False, False),
    ("crm",         "a1",  "t1",   True,  False, False),
    ("crm",         "a2",  "t1",   True,  False, False),
    ("crm",         "a1",  "t2",   False, False, False),
    ("crm",         "a2",  "t2",   False, False, False),
]
# fmt: on


@pytest.mark.parametrize(("role", "agent_id", "tenant", "read", "delete", "score"), TABLE)
def test_rights_by_role_agent_and_tenant(
    role: Role, agent_id: str, tenant: str, read: bool, delete: bool, score: bool
) -> None:
    viewer = Viewer(role=role, tenant=tenant, agent_id=agent_id)
    assert (can_read(viewer, REC), can_delete(viewer, REC), can_score(viewer, REC)) == (read, delete, score)


def test_an_agent_token_without_an_agent_id_cannot_read_calls_without_an_agent() -> None:
    assert not can_read(Viewer(role="agent", tenant="t1"), recording(tenant="t1", agent_id=""))


@pytest.mark.parametrize(
    ("role", "allowed"), [("admin", True), ("supervisor", True), ("qa", True), ("agent", False), ("crm", False)]
)
def test_only_reviewers_draw_the_qa_sample(role: Role, allowed: bool) -> None:
    assert can_sample(Viewer(role=role, tenant="t1")) is allowed
