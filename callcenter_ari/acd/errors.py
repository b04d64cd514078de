"""The ACD's errors. Every one is raised before anything changes: the board is as it was."""

from __future__ import annotations


class InvalidTransition(ValueError):
    """The agent, call or queue is not in a state where this request makes sense."""


class UnknownAgent(InvalidTransition):
    pass


class UnknownQueue(InvalidTransition):
    pass


class WrapupLimitExceeded(InvalidTransition):
    """An extension would take wrap-up past the queue's ``wrapup_max_seconds``."""


class InUse(InvalidTransition):
    """An agent or queue cannot be removed while something refers to it; ``by`` says what."""

    def __init__(self, message: str, by: tuple[str, ...]) -> None:
        super().__init__(f"{message}: {', '.join(by)}")
        self.by = by
