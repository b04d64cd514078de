"""Request bodies, checked before Litestar reads them: how deep the JSON nests, then a strict decode.

Litestar decodes a JSON body with no bound on its nesting (a thousand levels exhaust msgspec's recursion: a 500)
and converts it leniently (``0`` taken for ``false``, ``"5"`` for ``5``). The API's bodies are small forms, so the
nesting is bounded first, by a scan that never recurses; then each body is decoded once, strictly, into the type the
handler declares, which is what the OpenAPI document describes (``openapi.py``). A refusal is the API's usual 400
(too deep) or 422 naming the field (``recording.beep``), through the one error mapping (``errors.py``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler

from callcenter_ari.http.errors import BadRequest

MAX_DEPTH = 32  # the deepest real body (a queue's steps) nests 3 levels
MAX_BYTES = 1 << 20  # Litestar answers 413 beyond (no body of this API comes near)

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPEN = frozenset(b"[{")
_AT = re.compile(r" - at `\$(.*)`$")


def nesting_depth(body: bytes, limit: int) -> int:
    """How deep arrays and objects nest in ``body`` (JSON or not), counting no further than ``limit + 1``."""
    depth = 0
    deepest = 0
    for char in _NOT_A_BRACKET.sub(b"", _STRING.sub(b"", body)):
        if char in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif depth:
            depth -= 1
    return deepest


def body_type(handler: HTTPRouteHandler) -> Any:
    """The type a handler's ``data`` is decoded into, or None for a handler that takes no body."""
    field = handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    annotation = field.annotation
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


class BodyCheck:
    """The API's ``before_request`` hook: a handler's body, bounded and decoded strictly (the handler then gets it
    from Litestar, converted from the same bytes). One per application: it keeps a decoder per handler."""

    def __init__(self) -> None:
        self._decoders: dict[int, msgspec.json.Decoder[Any] | None] = {}  # by handler: they live as long as the app

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        decoder = self._decoder(request.route_handler)
        if decoder is None:
            return
        body = await request.body()
        if not body:
            return  # Litestar says a body is required
        if nesting_depth(body, MAX_DEPTH) > MAX_DEPTH:
            raise BadRequest(f"the JSON body nests deeper than {MAX_DEPTH} levels")
        try:
            decoder.decode(body)
        except msgspec.ValidationError as exc:
            raise _invalid(str(exc)) from None
        except msgspec.DecodeError:
            pass  # malformed JSON: Litestar reads the body next and answers its usual 400

    def _decoder(self, handler: Any) -> msgspec.json.Decoder[Any] | None:
        key = id(handler)
        if key not in self._decoders:
            kind = body_type(handler) if isinstance(handler, HTTPRouteHandler) else None
            self._decoders[key] = msgspec.json.Decoder(kind) if kind is not None else None
        return self._decoders[key]


def _invalid(message: str) -> ValidationException:
    """A msgspec error (``Expected `bool`, got `int` - at `$.recording.beep```) as Litestar reports a body's."""
    at = _AT.search(message)
    path = at.group(1) if at else ""
    text = message[: at.start()] if at else message
    return ValidationException(detail=text, extra=[{"key": f"data{path}", "message": text, "source": "body"}])
