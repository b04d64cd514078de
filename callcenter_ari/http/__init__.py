"""The HTTP layer: thin Litestar routes that decode, call a service and encode (health, metrics, the REST API).

Only this package knows the web framework and HTTP status codes; ``app.build_app`` assembles it from the
``ApiDeps`` of each tenant served (``tenants.py``: the bearer token picks one per request).
"""
