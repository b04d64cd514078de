"""One TLS context for every outgoing HTTPS client in the process (CRM lookups, webhook deliveries, recordings).

Building one loads the CA bundle, which takes about a tenth of a second; a platform opens clients per tenant and
purpose, and each would pay it again. An ``ssl.SSLContext`` is meant to be shared. The verification is httpx's
default (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` from the environment).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()
