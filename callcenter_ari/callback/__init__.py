"""Callbacks, sans-IO: when a waiting caller is offered one (``policy``), which numbers a caller may leave
(``numbers``), when callbacks may be placed (``window``), an entry's life from the request to its end
(``entry``), and how agent and customer are brought together (``connection``). The runtime is
``runtime/callbacks.py``, the Redis state ``store/callbacks.py``."""
