"""Callback settings as the configuration gives them: ``[callback]`` for the tenant (the number plan, the trunks and
caller id of the outbound legs, the prompts) and ``[queues.<id>.callback]`` for a queue (when it offers, its rules)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from callcenter_ari.callback.entry import Rules
from callcenter_ari.callback.numbers import NumberPlan
from callcenter_ari.callback.policy import OfferPolicy, Seconds


class Prompts(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Media the caller, the customer and the agent hear (sound:, recording: URIs)."""

    offer: str = "sound:custom/callback-offer"  # "press 1 to be called back; you keep your place in line"
    confirm_number: str = "sound:custom/callback-confirm-number"  # "we will call you at" (the caller's number follows)
    confirm_or_other: str = "sound:custom/callback-confirm-or-other"  # "press 1 to confirm, 2 for another number"
    key_number: str = "sound:custom/callback-key-number"  # "key in the number to call, then press #"
    invalid_number: str = "sound:custom/callback-invalid-number"
    say_name: str = "sound:custom/callback-say-name"  # "after the tone, say your name, then press #"
    accepted: str = "sound:custom/callback-accepted"  # "we will call you back when it is your turn; goodbye"
    already_pending: str = "sound:custom/callback-already-pending"  # "a callback to this number is pending already"
    unavailable: str = "sound:custom/callback-unavailable"  # the request could not be saved: back in line
    agent_intro: str = "sound:custom/callback-agent-intro"  # the agent: "a callback to" (name, number follow)
    sorry: str = "sound:custom/callback-sorry"  # a customer who answered and no agent could take them


class CallbackSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    plan: NumberPlan = NumberPlan()
    trunks: tuple[str, ...] = ()  # the outbound legs' trunks in preference order; empty: every configured trunk
    caller_id: str = ""  # E.164 the customer sees; empty: the trunk's
    caller_name: str = ""
    ring_seconds: Annotated[int, msgspec.Meta(ge=5, le=120)] = 30
    input_seconds: Annotated[float, msgspec.Meta(ge=2, le=60)] = 8.0  # the caller's time to key in a number
    tries: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3  # numbers keyed in before the caller goes back in line
    key: Annotated[str, msgspec.Meta(pattern="^[0-9*#]$")] = "1"  # accepts the offer, confirms the number
    other_key: Annotated[str, msgspec.Meta(pattern="^[0-9*#]$")] = "2"  # gives another number than the calling one
    prompts: Prompts = Prompts()


class QueueCallback(Rules, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A queue's callbacks: when waiting callers are offered one, and the rules of its entries."""

    offer_after_seconds: Seconds | None = None
    offer_when_wait_over_seconds: Seconds | None = None
    record_name: bool = False  # the caller records their name for the agent to hear

    @property
    def policy(self) -> OfferPolicy:
        return OfferPolicy(offer_after=self.offer_after_seconds, offer_when_wait_over=self.offer_when_wait_over_seconds)
