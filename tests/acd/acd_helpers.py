"""Builders shared by the ACD tests."""

from __future__ import annotations

import random
from typing import Any

from callcenter_ari.acd.board import Board
from callcenter_ari.acd.specs import AgentSpec, QueueSpec, TeamSpec


def agent(agent_id: str, *queues: str, **fields: Any) -> AgentSpec:
    return AgentSpec(agent_id, f"PJSIP/{agent_id}", queues or ("q",), **fields)


def make_board(
    *agents: AgentSpec,
    queues: tuple[QueueSpec, ...] = (QueueSpec(name="q"),),
    teams: tuple[TeamSpec, ...] = (),
    seed: int = 7,
    **options: Any,
) -> Board:
    return Board(agents, queues=queues, teams=teams, rng=random.Random(seed), **options)


def offered_to(offers: list[Any]) -> list[str]:
    return [offer.agent_id for offer in offers]
