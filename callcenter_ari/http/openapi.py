"""The OpenAPI document, as strict as the server.

Litestar describes each operation from its handler's signature, but more loosely than the server behaves, so that
requests valid by the document were refused. What it generates is rewritten once, when first served:

- every request body is msgspec's own JSON Schema of the handler's body type, which is exactly what ``bodies.py``
  decodes strictly (``additionalProperties: false``, patterns, bounds, strict types), under component names ending
  in ``Input`` so as not to collide with the answers' schemas;
- a handler that takes exactly one of several query parameters (``opt={"exactly_one_of": (...)}``, the ticket
  search) has them as one object parameter, exploded in the query string as before, that is one of the
  single-parameter objects;
- links between operations (the id a create or a list answers is the id the operations on that object take), for
  clients and for schemathesis' stateful phase.

Path identifiers carry their pattern from ``params.Id`` itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from callcenter_ari.http.bodies import body_type

_METHODS = ("get", "put", "post", "patch", "delete")

_AGENT = ("get_agent", "replace_agent", "remove_agent", "agent_config", "log_in", "log_out", "ready", "not_ready")
_QUEUE = ("get_queue", "replace_queue", "remove_queue", "queue_config")
_SUBSCRIPTION = ("get_subscription", "update_subscription", "delete_subscription", "rotate_secret", "delivery_log")
_CALL = ("get_call", "routing", "hold", "unhold", "hang_up", "transfer", "consult", "monitor", "control")
_RECORDING = ("get_recording", "download", "list_scores", "score", "delete_recording")

# (operation, its status, the operations it leads to, their path parameter, where the value is found).
LINKS: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    ("create_agent", "201", (*_AGENT, "extend_wrapup"), "agent_id", "$request.body#/id"),
    ("list_agents", "200", _AGENT, "agent_id", "$response.body#/agents/0/id"),
    ("create_queue", "201", _QUEUE, "queue_id", "$request.body#/id"),
    ("list_queues", "200", _QUEUE, "queue_id", "$response.body#/queues/0/id"),
    ("create_subscription", "201", _SUBSCRIPTION, "subscription_id", "$response.body#/id"),
    ("list_subscriptions", "200", _SUBSCRIPTION, "subscription_id", "$response.body#/subscriptions/0/id"),
    ("dead_letters", "200", ("replay_dead",), "delivery_id", "$response.body#/deliveries/0/id"),
    ("list_calls", "200", _CALL, "call_id", "$response.body#/calls/0/id"),
    ("list_recordings", "200", _RECORDING, "name", "$response.body#/recordings/0/name"),
    ("search", "200", ("get_ticket", "complete"), "number", "$response.body#/tickets/0/number"),
    ("overdue", "200", ("get_ticket", "complete"), "number", "$response.body#/tickets/0/number"),
    ("draw", "201", ("get_sample",), "period", "$response.body#/period"),
)


class StrictJsonRenderPlugin(JsonRenderPlugin):
    """Serves the document at ``/api/openapi.json``, rewritten once by ``strict_document``."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            strict = strict_document(openapi_schema, handlers_by_operation(request.app))
            self._rendered = self.render_json(request, strict)
        return self._rendered


def handlers_by_operation(app: Litestar) -> dict[str, HTTPRouteHandler]:
    """Each route handler by its operation id (``build_app`` makes the handler's name the operation id)."""
    return {
        handler.handler_name: handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
    }


def strict_document(document: Mapping[str, Any], handlers: Mapping[str, HTTPRouteHandler]) -> dict[str, Any]:
    doc = copy.deepcopy(dict(document))
    operations = {op["operationId"]: op for op in _operations(doc) if "operationId" in op}
    _strict_bodies(doc, operations, handlers)
    for name, op in operations.items():
        handler = handlers.get(name)
        exactly_one = handler.opt.get("exactly_one_of") if handler is not None else None
        if exactly_one:
            _exactly_one_of(op, tuple(exactly_one))
    _links(operations)
    return doc


def _operations(doc: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for item in doc.get("paths", {}).values():
        for method in _METHODS:
            if isinstance(item.get(method), dict):
                yield item[method]


def _strict_bodies(
    doc: dict[str, Any], operations: Mapping[str, dict[str, Any]], handlers: Mapping[str, HTTPRouteHandler]
) -> None:
    typed = [
        (op, kind)
        for name, op in operations.items()
        if "requestBody" in op and name in handlers and (kind := body_type(handlers[name])) is not None
    ]
    if not typed:
        return
    schemas, components = msgspec.json.schema_components(
        [kind for _, kind in typed], ref_template="#/components/schemas/{name}Input"
    )
    doc.setdefault("components", {}).setdefault("schemas", {}).update(
        {f"{name}Input": schema for name, schema in components.items()}
    )
    for (op, _), schema in zip(typed, schemas, strict=True):
        op["requestBody"]["content"] = {"application/json": {"schema": schema}}


def _exactly_one_of(op: dict[str, Any], names: tuple[str, ...]) -> None:
    """The named query parameters become one object parameter that is one of the single-parameter objects: in the
    query string (form style, exploded) it is still ``?number=...``."""
    parameters = op.get("parameters", [])
    chosen = {p["name"]: p for p in parameters if p.get("in") == "query" and p["name"] in names}
    if set(chosen) != set(names):
        return
    alternatives = []
    for name in names:
        schema = {key: value for key, value in chosen[name]["schema"].items() if key != "oneOf"}
        schema.update({"type": "string", "minLength": 1})
        alternatives.append(
            {"type": "object", "properties": {name: schema}, "required": [name], "additionalProperties": False}
        )
    criterion = {
        "name": "criterion",
        "in": "query",
        "required": True,
        "style": "form",
        "explode": True,
        "description": f"exactly one of {', '.join(names)}",
        "schema": {"oneOf": alternatives},
    }
    op["parameters"] = [criterion, *(p for p in parameters if p.get("name") not in chosen)]


def _links(operations: Mapping[str, dict[str, Any]]) -> None:
    for source, status, targets, parameter, expression in LINKS:
        answer = operations.get(source, {}).get("responses", {}).get(status)
        if answer is None:
            continue
        links = answer.setdefault("links", {})
        for target in targets:
            if target in operations:
                links[target] = {"operationId": target, "parameters": {parameter: expression}}
