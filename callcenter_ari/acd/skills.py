"""Skill requirements: expressions of "all of" / "any of" over skills with minimum proficiency levels.

An agent has skills with levels (1-10 by convention); a queue, a relaxation step or a single call requires an
expression such as ``billing>=5 & (french>=3 | german>=3)``. The expression is data (frozen Structs, hashable, so
that a requirement can key an index) and the functions here evaluate, score, explain and relax it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec


class Skill(msgspec.Struct, frozen=True, tag="skill"):
    name: str
    min_level: int = 1


class AllOf(msgspec.Struct, frozen=True, tag="all"):
    terms: tuple[Requirement, ...]


class AnyOf(msgspec.Struct, frozen=True, tag="any"):
    terms: tuple[Requirement, ...]


Requirement = Skill | AllOf | AnyOf


class RequirementSyntaxError(ValueError):
    pass


def satisfied(req: Requirement | None, skills: Mapping[str, int]) -> bool:
    """Whether an agent with these skills meets the requirement (``None`` requires nothing)."""
    match req:
        case None:
            return True
        case Skill(name, min_level):
            return skills.get(name, 0) >= min_level
        case AllOf(terms):
            return all(satisfied(t, skills) for t in terms)
        case AnyOf(terms):
            return any(satisfied(t, skills) for t in terms)
    raise TypeError(req)  # pragma: no cover


def score(req: Requirement | None, skills: Mapping[str, int]) -> int:
    """How well an agent meets the requirement: a skill counts its level, "all of" sums, "any of" takes the best
    satisfied term. 0 when the requirement is not met (and for ``None``, which names no skill)."""
    match req:
        case None:
            return 0
        case Skill(name, min_level):
            level = skills.get(name, 0)
            return level if level >= min_level else 0
        case AllOf(terms):
            return sum(score(t, skills) for t in terms) if satisfied(req, skills) else 0
        case AnyOf(terms):
            return max((score(t, skills) for t in terms if satisfied(t, skills)), default=0)
    raise TypeError(req)  # pragma: no cover


def unmet(req: Requirement | None, skills: Mapping[str, int]) -> str:
    """Why an agent does not meet the requirement, for the routing audit ('' when it does)."""
    if satisfied(req, skills):
        return ""
    match req:
        case Skill(name, min_level):
            level = skills.get(name, 0)
            return f"no skill {name}" if level == 0 else f"{name} level {level} < {min_level}"
        case AllOf(terms):
            return "; ".join(unmet(t, skills) for t in terms if not satisfied(t, skills))
        case AnyOf(terms):
            return "none of: " + " | ".join(render(t) for t in terms)
    return ""  # pragma: no cover


def lower(req: Requirement | None, by: int) -> Requirement | None:
    """Every minimum level lowered by ``by``, never below 1 (the skill itself stays required)."""
    match req:
        case None:
            return None
        case Skill(name, min_level):
            return Skill(name, max(1, min_level - by))
        case AllOf(terms):
            return AllOf(tuple(lower(t, by) or t for t in terms))
        case AnyOf(terms):
            return AnyOf(tuple(lower(t, by) or t for t in terms))
    raise TypeError(req)  # pragma: no cover


def widen(req: Requirement | None, alternative: Requirement) -> Requirement | None:
    """Also accept agents who meet ``alternative``. ``None`` (anyone) stays ``None``: nothing is wider."""
    if req is None:
        return None
    return AnyOf((req, alternative))


def both(first: Requirement | None, second: Requirement | None) -> Requirement | None:
    if first is None:
        return second
    if second is None:
        return first
    return AllOf((first, second))


def names(req: Requirement | None) -> frozenset[str]:
    match req:
        case None:
            return frozenset()
        case Skill(name, _):
            return frozenset((name,))
        case AllOf(terms) | AnyOf(terms):
            return frozenset().union(*(names(t) for t in terms))
    raise TypeError(req)  # pragma: no cover


def render(req: Requirement | None) -> str:
    """The expression in the syntax that :func:`parse` reads."""
    match req:
        case None:
            return ""
        case Skill(name, min_level):
            return f"{name}>={min_level}"
        case AllOf(terms):
            return " & ".join(_group(t) for t in terms)
        case AnyOf(terms):
            return " | ".join(_group(t) for t in terms)
    raise TypeError(req)  # pragma: no cover


def _group(req: Requirement) -> str:
    return render(req) if isinstance(req, Skill) else f"({render(req)})"


MAX_LENGTH = 2000  # an expression is read by recursive descent: bounded, so no input can exhaust the stack
MAX_DEPTH = 20
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_.:-]*)(?:\s*>=\s*(?P<level>\d+))?|(?P<op>[&|()]))")


def parse(text: str) -> Requirement | None:
    """Read ``billing>=5 & (french>=3 | german)``: ``&`` binds tighter than ``|``; a bare name means level >= 1.
    An empty text requires nothing."""
    tokens: list[str | Skill] = []
    pos = depth = 0
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise RequirementSyntaxError(f"a skills expression has at most {MAX_LENGTH} characters")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise RequirementSyntaxError(f"cannot read skills expression at {text[pos:]!r}")
        pos = match.end()
        if match.group("op"):
            depth += {"(": 1, ")": -1}.get(match.group("op"), 0)
            if depth > MAX_DEPTH:
                raise RequirementSyntaxError(f"parentheses nest at most {MAX_DEPTH} deep in a skills expression")
            tokens.append(match.group("op"))
        else:
            tokens.append(Skill(match.group("name"), int(match.group("level") or 1)))
    if not tokens:
        return None
    req, rest = _parse_any(tokens)
    if rest:
        raise RequirementSyntaxError(f"unexpected {rest[0]!r} in {text!r}")
    return req


def _parse_any(tokens: list[str | Skill]) -> tuple[Requirement, list[str | Skill]]:
    terms: list[Requirement] = []
    term, tokens = _parse_all(tokens)
    terms.append(term)
    while tokens and tokens[0] == "|":
        term, tokens = _parse_all(tokens[1:])
        terms.append(term)
    return (terms[0] if len(terms) == 1 else AnyOf(tuple(terms))), tokens


def _parse_all(tokens: list[str | Skill]) -> tuple[Requirement, list[str | Skill]]:
    terms: list[Requirement] = []
    term, tokens = _parse_one(tokens)
    terms.append(term)
    while tokens and tokens[0] == "&":
        term, tokens = _parse_one(tokens[1:])
        terms.append(term)
    return (terms[0] if len(terms) == 1 else AllOf(tuple(terms))), tokens


def _parse_one(tokens: list[str | Skill]) -> tuple[Requirement, list[str | Skill]]:
    if not tokens:
        raise RequirementSyntaxError("skills expression ends too early")
    head, rest = tokens[0], tokens[1:]
    if isinstance(head, Skill):
        return head, rest
    if head == "(":
        inner, rest = _parse_any(rest)
        if not rest or rest[0] != ")":
            raise RequirementSyntaxError("missing ')' in skills expression")
        return inner, rest[1:]
    raise RequirementSyntaxError(f"unexpected {head!r} in skills expression")
