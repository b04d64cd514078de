"""The ARI failures the rest of the application sees.

Transports map HTTP status codes into these once; nothing outside ``callcenter_ari.ari`` looks at a status code.
A 404 on a channel is ``ChannelGone``: calls race with hang-ups everywhere, so the runtime turns it into an event.
"""

from __future__ import annotations


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
    """The channel hung up before (or while) we spoke to it."""

    def __init__(self, channel_id: str, message: str = "Channel not found") -> None:
        super().__init__(message)
        self.channel_id = channel_id


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


def error_for(status: int, message: str) -> AriError:
    cls: type[AriError] = {400: BadRequest, 404: NotFound, 409: Conflict, 422: Unprocessable}.get(
        status, AsteriskFailure if status >= 500 else AriError
    )
    return cls(message or f"HTTP {status}", status=status)


class LoginRefused(AriUnavailable):
    """Asterisk answered 401: the ARI user or password is wrong. Retrying will not help until someone fixes it."""

    status = 401
