"""The ARI failures the rest of the application sees, and the two places they are made.

A transport returns Asterisk's answer (status and body) or raises ``AriUnavailable``: its own library's exceptions
(a socket closing, a timeout, an HTTP error) are mapped where they happen with ``map_exceptions``, as httpcore does.
The client turns an error answer into an exception once, with ``error_for``: by status, and for a missing object by
the object the request named. A 404 on a channel is ``ChannelGone``: calls race with hang-ups everywhere,
so the runtime turns it into an event. Nothing outside ``callcenter_ari.ari`` looks at a status code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager


class AriError(Exception):
    """Asterisk refused or failed a request."""

    status: int = 0

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(AriError):
    status = 400


class NotFound(AriError):
    status = 404


class ChannelGone(NotFound):
    """The channel hung up before (or while) we spoke to it. ``channel_id`` is empty when Asterisk did not say which
    of the channels a request named is gone (adding several to a bridge)."""

    def __init__(self, channel_id: str, message: str = "Channel not found", *, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.channel_id = channel_id


class VariableUnset(NotFound):
    """The channel is there; the variable asked for has no value."""


class Conflict(AriError):
    """409: the object is not in a state for this (e.g. a channel not in Stasis, MOH not playing)."""

    status = 409


class Unprocessable(AriError):
    status = 422


class AsteriskFailure(AriError):
    """5xx: Asterisk could not do it (allocation failed, media could not be queued)."""

    status = 500


class AriUnavailable(AriError):
    """No connection to Asterisk right now (connecting, or the WebSocket dropped)."""

    status = 503


class LoginRefused(AriUnavailable):
    """Asterisk answered 401: the ARI user or password is wrong. Retrying will not help until someone fixes it."""

    status = 401


# Asterisk's words for the cases in which the status alone does not say what is missing (res/ari/
# resource_channels.c and resource_bridges.c); the whole message is compared, never a part of it.
_NO_SUCH_OPERATION = "Resource not found"  # 404 for a path Asterisk has no operation for: nothing is gone
_VARIABLE_NOT_FOUND = "Provided variable was not found"  # 404 from channels/{id}/variable: the channel is there
_LISTED_CHANNEL_NOT_FOUND = "Channel not found"  # 400 from bridges/{id}/addChannel: one of the listed channels
_ORIGINATOR_NOT_FOUND = "Provided originator channel was not found"  # 400 from an originate: the originator is gone

_BY_STATUS: Mapping[int, type[AriError]] = {400: BadRequest, 404: NotFound, 409: Conflict, 422: Unprocessable}


def error_for(status: int, message: str, *, channel: str | None = None, listed: Sequence[str] = ()) -> AriError:
    """The exception for an error answer. ``channel``: the channel the request names in its path; ``listed``: the
    channels it names in its query, when a missing one is a 400 (adding channels to a bridge)."""
    message = message or f"HTTP {status}"
    if status == 404 and channel is not None and message != _NO_SUCH_OPERATION:
        if message == _VARIABLE_NOT_FOUND:
            return VariableUnset(message, status=status)
        return ChannelGone(channel, message, status=status)
    if status == 400 and listed and message in (_LISTED_CHANNEL_NOT_FOUND, _ORIGINATOR_NOT_FOUND):
        return ChannelGone(listed[0] if len(listed) == 1 else "", message, status=status)
    cls = _BY_STATUS.get(status, AsteriskFailure if status >= 500 else AriError)
    return cls(message, status=status)


ExceptionMapping = Mapping[type[BaseException], Callable[[BaseException], AriError]]


@contextmanager
def map_exceptions(mapping: ExceptionMapping) -> Iterator[None]:
    """Raise the ``AriError`` that ``mapping`` makes of a library's exception (the first matching type wins)."""
    try:
        yield
    except Exception as exc:
        for kind, make in mapping.items():
            if isinstance(exc, kind):
                raise make(exc) from None
        raise
