"""Who may do what with a recording. Never anything across tenants; an agent hears only their own calls and never
scores them; only an admin deletes, and then only within the retention rules (see ``retention``)."""

from __future__ import annotations

from typing import Literal

import msgspec

from callcenter_ari.recording.model import Recording

# The API's roles (config.Role); repeated here so that this pure package does not import the configuration.
Role = Literal["admin", "supervisor", "qa", "agent", "crm"]

_REVIEWERS: frozenset[Role] = frozenset(("admin", "supervisor", "qa"))


class Viewer(msgspec.Struct, frozen=True):
    role: Role
    tenant: str
    agent_id: str = ""  # for the agent role: whose recordings they may hear


def can_read(viewer: Viewer, rec: Recording) -> bool:
    if viewer.tenant != rec.tenant:
        return False
    if viewer.role == "agent":
        return _own(viewer, rec)
    return True


def can_delete(viewer: Viewer, rec: Recording) -> bool:
    return viewer.role == "admin" and viewer.tenant == rec.tenant


def can_score(viewer: Viewer, rec: Recording) -> bool:
    return viewer.role in _REVIEWERS and viewer.tenant == rec.tenant


def can_sample(viewer: Viewer) -> bool:
    """Whether the viewer may draw the QA sample (of their own tenant)."""
    return viewer.role in _REVIEWERS


def _own(viewer: Viewer, rec: Recording) -> bool:
    # An agent token without an agent id matches nothing, not the recordings that have no agent.
    return bool(viewer.agent_id) and viewer.agent_id == rec.agent_id
