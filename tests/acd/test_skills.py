"""Skill expressions: all of / any of with minimum levels, and their use in routing."""

from __future__ import annotations

import pytest
from acd_helpers import agent, make_board, offered_to

from callcenter_ari.acd.skills import (
    AllOf,
    AnyOf,
    RequirementSyntaxError,
    Skill,
    lower,
    parse,
    render,
    satisfied,
    score,
    unmet,
    widen,
)
from callcenter_ari.acd.specs import QueueSpec

EXPR = "billing>=5 & (french>=3 | german>=3)"


class TestExpressions:
    def test_parse_reads_and_binding_tighter_than_or(self) -> None:
        assert parse(EXPR) == AllOf((Skill("billing", 5), AnyOf((Skill("french", 3), Skill("german", 3)))))
        assert parse("a | b & c") == AnyOf((Skill("a"), AllOf((Skill("b"), Skill("c")))))

    def test_render_is_read_back_to_the_same_expression(self) -> None:
        req = parse(EXPR)
        assert parse(render(req)) == req

    def test_empty_text_requires_nothing(self) -> None:
        assert parse("  ") is None
        assert satisfied(None, {})

    @pytest.mark.parametrize(
        "text", ["billing >=", "a & (b | c", "& a", "a b", "a>=x", "(" * 21 + "a" + ")" * 21, "a | " * 600 + "a"]
    )
    def test_bad_syntax_is_refused(self, text: str) -> None:
        """Including expressions too long or too deeply nested to read safely."""
        with pytest.raises(RequirementSyntaxError):
            parse(text)

    @pytest.mark.parametrize(
        ("skills", "ok"),
        [
            ({"billing": 5, "french": 3}, True),
            ({"billing": 9, "german": 4}, True),
            ({"billing": 4, "french": 9}, False),  # all of: billing below its minimum
            ({"billing": 5, "french": 2, "german": 2}, False),  # any of: neither reaches 3
            ({"billing": 5}, False),
        ],
    )
    def test_all_of_and_any_of_with_minimum_levels(self, skills: dict[str, int], ok: bool) -> None:
        assert satisfied(parse(EXPR), skills) is ok

    def test_score_sums_all_of_and_takes_the_best_any_of(self) -> None:
        assert score(parse(EXPR), {"billing": 6, "french": 3, "german": 7}) == 13
        assert score(parse(EXPR), {"billing": 4, "german": 7}) == 0

    def test_unmet_says_which_term_fails(self) -> None:
        assert unmet(parse(EXPR), {"billing": 4, "french": 3}) == "billing level 4 < 5"
        assert unmet(parse(EXPR), {"billing": 5}) == "none of: french>=3 | german>=3"
        assert unmet(parse("ivr"), {}) == "no skill ivr"

    def test_lower_and_widen_only_admit_more_agents(self) -> None:
        req = parse(EXPR)
        assert lower(req, 2) == parse("billing>=3 & (french>=1 | german>=1)")
        assert lower(parse("x>=1"), 5) == Skill("x", 1)
        assert widen(req, Skill("supervisor")) == AnyOf((req, Skill("supervisor")))
        assert widen(None, Skill("x")) is None


class TestRouting:
    def test_a_call_goes_only_to_agents_meeting_the_queue_requirement(self) -> None:
        queues = (QueueSpec(name="q", skills=parse(EXPR)),)
        b = make_board(
            agent("weak", skills={"billing": 4, "french": 5}),
            agent("strong", skills={"billing": 6, "german": 3}),
            queues=queues,
        )
        b.log_in("weak", 0.0)
        b.log_in("strong", 1.0)
        assert offered_to(b.enqueue("c1", "q", 0, 2.0, 2.0)) == ["strong"]
        assert b.enqueue("c2", "q", 0, 3.0, 3.0) == []
        assert b.agents["weak"].state == "available"

    def test_a_call_s_own_needs_and_language_narrow_the_queue(self) -> None:
        b = make_board(
            agent("en", languages=("en",), skills={"vip": 2}),
            agent("fr", languages=("fr", "en"), skills={"vip": 1}),
        )
        b.log_in("en", 0.0)
        b.log_in("fr", 1.0)
        assert offered_to(b.enqueue("c1", "q", 0, 2.0, 2.0, language="fr")) == ["fr"]
        assert b.enqueue("c2", "q", 0, 3.0, 3.0, language="fr") == []
        assert offered_to(b.enqueue("c3", "q", 0, 4.0, 4.0, needs=parse("vip>=2"))) == ["en"]

    def test_an_agent_who_lists_no_languages_takes_calls_in_any(self) -> None:
        b = make_board(agent("any"), agent("de", languages=("de",)))
        b.log_in("any", 0.0)
        b.log_in("de", 1.0)
        assert offered_to(b.enqueue("c1", "q", 0, 2.0, 2.0, language="es")) == ["any"]
        assert b.enqueue("c2", "q", 0, 3.0, 3.0, language="es") == []

    def test_an_agent_takes_only_calls_it_is_eligible_for(self) -> None:
        b = make_board(agent("en", languages=("en",)))
        b.enqueue("fr-call", "q", 0, 1.0, 1.0, language="fr")
        b.enqueue("en-call", "q", 0, 2.0, 2.0, language="en")
        assert [o.call_id for o in b.log_in("en", 3.0)] == ["en-call"]
        assert b.waiting("q") == ["fr-call"]
