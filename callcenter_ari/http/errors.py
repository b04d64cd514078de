"""Errors, mapped once: domain and adapter exceptions to status codes and one JSON body.

Every error answer is ``ErrorBody``: a short code, a message, and for bad input the fields at fault. Status codes
live here and nowhere else. Nothing a client sends can produce a 5xx: bad input is 400 (query, path, malformed
JSON) or 422 (a body that does not fit, a form a service refuses); Asterisk failures are 502/503; an unexpected
exception is logged and answered 500 with no detail (that is a bug).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap
from redis.exceptions import RedisError

from callcenter_ari.acd.errors import InvalidTransition, UnknownAgent, UnknownQueue
from callcenter_ari.ari.errors import AriError, AriUnavailable
from callcenter_ari.campaigns import CampaignError
from callcenter_ari.campaigns import InvalidTransition as CampaignTransition
from callcenter_ari.runtime.directory import InvalidEntry
from callcenter_ari.store.campaign_desk import CampaignConflict, CampaignInvalid, LeadNotFound
from callcenter_ari.store.campaigns import CampaignExists, CampaignNotFound
from callcenter_ari.store.dialing import LeaseLost
from callcenter_ari.store.keys import InvalidId
from callcenter_ari.store.lead_imports import ImportFailed
from callcenter_ari.store.tickets import TicketConflict
from callcenter_ari.tickets import TicketAlreadyCompleted, TicketError, TicketNotFound, TicketValidationError
from callcenter_ari.webhooks import SubscriptionError, WebhookNotFound

log = structlog.get_logger(__name__)


class FieldProblem(msgspec.Struct, frozen=True):
    field: str  # dotted path as the client sent it: "events[2]", "description.place", or a query parameter
    message: str


class ErrorBody(msgspec.Struct, frozen=True):
    error: str  # "bad_request", "unauthorized", "forbidden", "not_found", "conflict", "invalid", ...
    message: str
    errors: list[FieldProblem] = []


class ApiError(Exception):
    """Raised by the routes themselves (an object the caller may not see is simply not found)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(ApiError):
    status, code = 404, "not_found"


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Unprocessable(ApiError):
    status, code = 422, "invalid"


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    502: "asterisk_error",
    503: "unavailable",
}


def _answer(
    status: int, message: str, errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(ErrorBody(_CODES.get(status, "error"), message, errors or []), status_code=status, headers=headers)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        log.error("http.server_error", status=exc.status_code, error=type(exc).__name__)
        return _answer(exc.status_code, "internal error")
    if exc.status_code == 401:
        return _answer(401, exc.detail, headers={"www-authenticate": 'Bearer realm="callcenter-ari"'})
    return _answer(exc.status_code, exc.detail)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = [item for item in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(item, Mapping)]
    if not extra:  # malformed JSON and the like: Litestar says what in the detail
        return _answer(400, _tidy(exc.detail) or "malformed request body")
    problems = [_problem(item) for item in extra]
    message = "; ".join(f"{p.field}: {p.message}" for p in problems)
    missing_body = any(p.field == "body" and p.message == _NO_BODY for p in problems)
    in_body = any(item.get("source") == "body" for item in extra)
    return _answer(422 if in_body and not missing_body else 400, message, problems)


_NO_BODY = "a JSON body is required"


def _problem(item: Mapping[str, Any]) -> FieldProblem:
    """Litestar names a body error ``data`` (the handler's argument) or ``data.<path>``; the client knows the body's
    own field names, so name those, including the unknown or missing field msgspec mentions in its message."""
    key, message = str(item.get("key") or ""), _tidy(str(item.get("message") or "invalid"))
    if item.get("source") != "body":
        return FieldProblem(key or "request", message)
    path = key.removeprefix("data").lstrip(".")
    if message.startswith("'"):  # a KeyError: there was no body at all
        return FieldProblem("body", _NO_BODY)
    named = re.search(r"field (\S+)$", message)
    if named and ("unknown field" in message or "missing required field" in message):
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    return FieldProblem(path or "body", message)


def _tidy(detail: str) -> str:
    return detail.replace("`", "")[:300]


def _api(_: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    return _answer(exc.status, exc.message, exc.errors)


def _simple(status: int) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    def handle(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        return _answer(status, str(exc)[:300])

    return handle


def _ticket_form(_: Request[Any, Any, Any], exc: TicketValidationError) -> Response[Any]:
    problems = [FieldProblem(e.field, e.message) for e in exc.errors]
    return _answer(422, str(exc)[:1000], problems)


def _subscription(_: Request[Any, Any, Any], exc: SubscriptionError) -> Response[Any]:
    return _answer(422, str(exc), [FieldProblem(exc.field, str(exc).removeprefix(f"{exc.field}: "))])


def _entry(_: Request[Any, Any, Any], exc: InvalidEntry) -> Response[Any]:
    problems = [FieldProblem(path, message) for path, message in exc.problems]
    return _answer(422, str(exc)[:1000], problems)


def _campaign(_: Request[Any, Any, Any], exc: CampaignInvalid) -> Response[Any]:
    return _answer(422, str(exc)[:1000], [FieldProblem(path, message) for path, message in exc.problems])


def _import(_: Request[Any, Any, Any], exc: ImportFailed) -> Response[Any]:
    """The file could not be read to its end: what was loaded stays, the message says how far it got."""
    status = 413 if exc.too_large else 422
    return _answer(status, str(exc)[:1000], [FieldProblem("file", exc.record.error[:300])])


def _ari(_: Request[Any, Any, Any], exc: AriError) -> Response[Any]:
    if isinstance(exc, AriUnavailable):
        return _answer(503, "Asterisk is not connected; try again")
    return _answer(502, f"Asterisk refused the request: {exc.message[:200]}")


def _redis(_: Request[Any, Any, Any], exc: RedisError) -> Response[Any]:
    log.error("http.store_unavailable", error=type(exc).__name__)
    return _answer(503, "the state store (Redis) is not reachable; try again")


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("http.unhandled", method=request.method, path=request.url.path)
    return _answer(500, "internal error")


def exception_handlers() -> ExceptionHandlersMap:
    """The most specific class wins (Litestar walks the exception's MRO)."""
    return {
        HTTPException: _http,
        ValidationException: _validation,
        ApiError: _api,
        UnknownAgent: _simple(404),
        UnknownQueue: _simple(404),
        InvalidTransition: _simple(409),
        TicketNotFound: _simple(404),
        TicketAlreadyCompleted: _simple(409),
        TicketConflict: _simple(409),
        TicketValidationError: _ticket_form,
        TicketError: _simple(400),
        SubscriptionError: _subscription,
        InvalidEntry: _entry,
        WebhookNotFound: _simple(404),
        CampaignInvalid: _campaign,
        ImportFailed: _import,
        CampaignNotFound: _simple(404),
        LeadNotFound: _simple(404),
        CampaignExists: _simple(409),
        CampaignConflict: _simple(409),
        CampaignTransition: _simple(409),
        LeaseLost: _simple(409),
        CampaignError: _simple(422),
        InvalidId: _simple(404),  # an id that cannot exist names nothing
        AriError: _ari,
        RedisError: _redis,
        Exception: _unexpected,
    }


_DESCRIPTIONS = {
    400: "Bad request: a query or path parameter, or malformed JSON; `errors` names the parameter",
    401: "No bearer token, or an unknown one",
    403: "The token's role may not do this",
    404: "No such object, or not visible to this token (another tenant, another agent)",
    409: "The object is not in a state for this; the message says why",
    413: "The upload is larger than allowed (campaigns.max_upload_mb); nothing past the limit was loaded",
    415: "The body is not of a type this operation takes",
    422: "The body does not fit; `errors` names every field at fault",
    502: "Asterisk refused or failed the request",
    503: "Asterisk or Redis is not reachable right now",
}


def documented(*extra: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error answers of an API route: the common ones and ``extra``."""
    codes = sorted({400, 401, 403, 404, 422, 503, *extra})
    return {code: ResponseSpec(data_container=ErrorBody, description=_DESCRIPTIONS[code]) for code in codes}
