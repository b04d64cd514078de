"""Standard Webhooks signatures: the spec's own test vector, round trips, and every way a request is refused."""

from __future__ import annotations

import base64

import pytest

from callcenter_ari.webhooks.signing import (
    SignatureError,
    generate_secret,
    secret_key,
    sign,
    signature_headers,
    verify,
)
from tests.webhooks.helpers import independent_signature_ok

# From the reference Python library of the Standard Webhooks project (its test_sign_function).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

BODY = b'{"type":"call.answered","timestamp":"2026-01-02T03:04:05.000Z","data":{"call_id":"c1"}}'
NOW = 1_767_323_045


def test_signature_matches_the_reference_implementation() -> None:
    """The spec's published vector: same id, timestamp, body and secret give the same signature."""
    assert sign(SPEC_ID, SPEC_TS, SPEC_BODY, SPEC_SECRET) == SPEC_SIGNATURE


def test_signed_headers_verify_with_ours_and_with_an_independent_check() -> None:
    secret = generate_secret()
    headers = signature_headers("msg_1-0_sub_a", NOW, BODY, secret)
    assert verify(headers, BODY, secret, now=NOW) == "msg_1-0_sub_a"
    assert independent_signature_ok(secret, headers, BODY)
    assert headers["webhook-timestamp"] == str(NOW)


def test_header_names_are_case_insensitive() -> None:
    secret = generate_secret()
    headers = {k.title(): v for k, v in signature_headers("msg_x", NOW, BODY, secret).items()}
    assert verify(headers, BODY, secret, now=NOW) == "msg_x"


class TestRefused:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()

    def headers(self, **override: str) -> dict[str, str]:
        return {**signature_headers("msg_x", NOW, BODY, self.secret), **override}

    def test_tampered_body(self) -> None:
        with pytest.raises(SignatureError, match="no matching"):
            verify(self.headers(), BODY.replace(b"c1", b"c2"), self.secret, now=NOW)

    def test_reserialised_json_body(self) -> None:
        """A receiver must verify the raw bytes: a re-encoded body (other spacing) fails."""
        with pytest.raises(SignatureError):
            verify(self.headers(), BODY.replace(b":", b": "), self.secret, now=NOW)

    def test_wrong_secret(self) -> None:
        with pytest.raises(SignatureError):
            verify(self.headers(), BODY, generate_secret(), now=NOW)

    def test_changed_id(self) -> None:
        with pytest.raises(SignatureError):
            verify(self.headers(**{"webhook-id": "msg_y"}), BODY, self.secret, now=NOW)

    @pytest.mark.parametrize("skew", [-301, 301])
    def test_timestamp_outside_tolerance(self, skew: int) -> None:
        with pytest.raises(SignatureError, match="timestamp"):
            verify(self.headers(), BODY, self.secret, now=NOW + skew)

    def test_timestamp_within_a_custom_tolerance(self) -> None:
        assert verify(self.headers(), BODY, self.secret, now=NOW + 50, tolerance=60) == "msg_x"
        with pytest.raises(SignatureError):
            verify(self.headers(), BODY, self.secret, now=NOW + 61, tolerance=60)

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_missing_header(self, missing: str) -> None:
        headers = self.headers()
        del headers[missing]
        with pytest.raises(SignatureError, match="missing"):
            verify(headers, BODY, self.secret, now=NOW)

    def test_non_integer_timestamp(self) -> None:
        with pytest.raises(SignatureError, match="integer"):
            verify(self.headers(**{"webhook-timestamp": "soon"}), BODY, self.secret, now=NOW)

    def test_other_scheme_is_not_accepted_as_v1(self) -> None:
        sig = self.headers()["webhook-signature"].replace("v1,", "v1a,")
        with pytest.raises(SignatureError):
            verify(self.headers(**{"webhook-signature": sig}), BODY, self.secret, now=NOW)


def test_one_valid_signature_among_several_is_enough() -> None:
    """Secret rotation: the header carries signatures by the old and the new secret."""
    old, new = generate_secret(), generate_secret()
    both = f"{sign('msg_x', NOW, BODY, old)} {sign('msg_x', NOW, BODY, new)}"
    headers = {"webhook-id": "msg_x", "webhook-timestamp": str(NOW), "webhook-signature": both}
    assert verify(headers, BODY, new, now=NOW) == "msg_x"
    assert verify(signature_headers("msg_x", NOW, BODY, old), BODY, [new, old], now=NOW) == "msg_x"


def test_an_id_with_a_dot_cannot_be_signed() -> None:
    """The signed content is id.timestamp.body; a dot in the id would make it ambiguous."""
    with pytest.raises(ValueError):
        sign("msg.1", NOW, BODY, generate_secret())


def test_generated_secrets_are_whsec_base64_of_32_random_bytes() -> None:
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and first != second
    assert len(secret_key(first)) == 32


@pytest.mark.parametrize(
    "bad",
    ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()],
)
def test_malformed_secrets_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(ValueError) as caught:
        secret_key(bad)
    assert bad[6:] not in str(caught.value) or not bad[6:]
