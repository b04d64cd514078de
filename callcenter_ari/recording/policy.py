"""Whether a call is recorded under a policy.

A sampled policy decides from a hash of the call id, not from a random draw: the same call gets the same answer
after a restart or on another process, and an auditor can recompute which calls should have been recorded.
"""

from __future__ import annotations

import hashlib

from callcenter_ari.recording.settings import RecordingPolicy

_SPAN = 2**64


def should_record(policy: RecordingPolicy, call_id: str, salt: str = "") -> bool:
    match policy.mode:
        case "all":
            return True
        case "none":
            return False
        case "sampled":
            return sample_point(call_id, salt) < policy.percent
    raise ValueError(policy.mode)  # pragma: no cover


def sample_point(call_id: str, salt: str = "") -> float:
    """Where the call falls in [0, 100), uniformly over call ids; the salt reshuffles which calls fall low."""
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    digest = hashlib.blake2b(f"{salt}\x00{call_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") * 100.0 / _SPAN
