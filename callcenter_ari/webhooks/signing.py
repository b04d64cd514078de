"""Standard Webhooks signatures (https://www.standardwebhooks.com), symmetric scheme ``v1``.

Pure functions, no I/O: the sender signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 keyed by the
base64-decoded part of a ``whsec_`` secret; a receiver recomputes it and compares in constant time. The timestamp is
that of the attempt (it changes on every retry), the id that of the delivery (it never does), so a receiver can both
refuse old replays and dedupe retries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = 300.0  # the spec's reference libraries accept five minutes of clock skew either way


class SignatureError(ValueError):
    """A request that does not carry a valid, fresh Standard Webhooks signature."""


def generate_secret(nbytes: int = 32) -> str:
    """A new random secret in the spec's serialisation (24 to 64 bytes of key material)."""
    if not 24 <= nbytes <= 64:
        raise ValueError("a webhook secret has 24 to 64 bytes")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; raises ValueError (without echoing the secret) if malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is base64 after its prefix") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret has 24 to 64 bytes of key material")
    return key


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(msg_id: str, timestamp: int, body: bytes | str, secret: str) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>``."""
    # A '.' in the id would make "id.timestamp.body" ambiguous; the spec forbids it.
    if not msg_id or "." in msg_id:
        raise ValueError("a webhook id is non-empty and has no '.'")
    content = f"{msg_id}.{int(timestamp)}.".encode() + _as_bytes(body)
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(msg_id: str, timestamp: int, body: bytes | str, secret: str) -> dict[str, str]:
    """The three headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": sign(msg_id, timestamp, body, secret),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes | str,
    secret: str | Sequence[str],
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> str:
    """Check a received request; returns its ``webhook-id`` or raises SignatureError.

    ``secret`` may be several secrets (a rotation in progress): one matching signature is enough. ``body`` must be
    the raw bytes received; a re-serialised JSON body does not verify.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    header = lowered.get("webhook-signature", "")
    if not (msg_id and stamp and header):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer") from None
    if timestamp < now - tolerance:
        raise SignatureError("webhook-timestamp is too old")
    if timestamp > now + tolerance:
        raise SignatureError("webhook-timestamp is in the future")
    candidates = [secret] if isinstance(secret, str) else list(secret)
    try:
        expected = [sign(msg_id, timestamp, body, s).encode() for s in candidates]
    except ValueError as exc:
        raise SignatureError(str(exc)) from None
    for offered in header.split(" "):
        if not offered.startswith(SIGNATURE_VERSION + ","):
            continue  # other schemes (v1a, future versions) are not ours to judge
        if any(hmac.compare_digest(offered.encode(), mine) for mine in expected):
            return msg_id
    raise SignatureError("no matching signature")
