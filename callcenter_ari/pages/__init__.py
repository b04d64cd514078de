"""The browser pages: wallboard, agent desktop and reports, as static files the application's own server ships.

The pages are plain ES modules (no build step, nothing from another site); they hold no data of their own and call
the API with the token the login page keeps in the session (``sessionStorage``: never in a URL, a cookie or a log).
The files themselves need no token. Every response of the server carries a strict Content-Security-Policy: scripts
and styles only from the server's own files (no inline script, no eval), no plug-ins, no framing.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, Router, get
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).parent / "static"
PAGES_PATH = "/pages"
WALLBOARD_PATH = f"{PAGES_PATH}/wallboard.html"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def secured(response: Response) -> Response:  # type: ignore[type-arg]
    """The security headers on every response (an ``after_request`` hook of the whole application)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@get("/", opt={"exclude_from_auth": True}, include_in_schema=False, sync_to_thread=False)
def home() -> Redirect:
    return Redirect(f"{PAGES_PATH}/index.html")


def pages_router() -> Router:
    """The static pages under ``/pages`` (no token: they hold no data) and ``/`` leading to the login page."""
    files = create_static_files_router(
        path=PAGES_PATH, directories=[STATIC], html_mode=True, opt={"exclude_from_auth": True}, name="pages"
    )
    return Router(path="/", route_handlers=[home, files])
