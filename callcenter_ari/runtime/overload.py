"""Admission: when the process has more calls than it can serve well, new ones are shed, never amplified.

A call taken while the process is behind does not just wait longer: its answer times out, it fails, it is handed
back to the dialplan, and a dialplan that sends it in again doubles the work. So a new call is admitted only while
the calls in progress and the ARI requests waiting for Asterisk are under their limits (``[overload]``); past
them it gets the configured treatment once (busy, congestion, a message, or an overflow place in the dialplan that
does not lead back here), is counted in ``callcenter_calls_shed_total`` and told to the log and the event stream
(``overload.shedding``, once a second at most while shedding goes on; ``overload.ended`` when a call is taken
again: the wallboard's overload alert). A channel the process gave up on (shed, or failed safe) is remembered for
a while: if the dialplan sends it in again it is hung up, not served a second time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from callcenter_ari.ari.errors import AriError
from callcenter_ari.config import OverloadSection

if TYPE_CHECKING:
    from callcenter_ari.ari.client import AriClient
    from callcenter_ari.metrics import Metrics

log = structlog.get_logger(__name__)

REMEMBERED = 10_000  # channels given up on, kept to refuse them if they come back
MESSAGE_SECONDS = 30.0  # the longest a shed caller's message may play before the hang-up
SHED_PLAYBACK = "shed-"
_CAUSES = {"busy": 17, "congestion": 34, "message": 16}


class Admission:
    def __init__(
        self,
        settings: OverloadSection,
        ari: AriClient,
        metrics: Metrics,
        *,
        now: Callable[[], float],
        emit: Callable[[str, dict[str, Any]], None] = lambda kind, fields: None,
    ) -> None:
        self.settings = settings
        self._emit = emit
        self._shedding = False
        self._ari = ari
        self._metrics = metrics
        self._now = now
        self._given_up: OrderedDict[str, None] = OrderedDict()
        self._messages: dict[str, anyio.Event] = {}  # playback id -> set when it finished
        self._shed_since_log = 0
        self._last_log = 0.0
        self.shed = 0

    def refusal(self, channel_id: str, calls_live: int) -> str | None:
        """Why a new call must not be taken now, or None to take it."""
        if channel_id in self._given_up:
            return "returned"
        if calls_live >= self.settings.max_calls:
            return "max_calls"
        ari = self._ari
        if ari.pending >= self.settings.max_pending_requests or ari.lag >= self.settings.max_ari_lag_seconds:
            return "ari_backlog"
        if self._shedding:
            self._shedding = False
            self._emit("overload.ended", {"shed": self.shed})
        return None

    def gave_up(self, channel_id: str) -> None:
        """A call this process will not serve any more (failed safe, shed): not to be taken if it comes back."""
        self._given_up[channel_id] = None
        self._given_up.move_to_end(channel_id)
        while len(self._given_up) > REMEMBERED:
            self._given_up.popitem(last=False)

    def note(self, channel_id: str, reason: str) -> None:
        """Count a shed call and tell the log and the event stream, at most once a second while shedding goes on."""
        self.shed += 1
        self._metrics.calls_shed.labels(reason).inc()
        self._shed_since_log += 1
        now = self._now()
        if now - self._last_log >= 1.0:
            log.warning(
                "overload.shedding",
                reason=reason,
                calls=self._shed_since_log,
                treatment=self.settings.treatment,
                channel=channel_id,
            )
            if reason != "returned":  # a channel sent in again is not overload
                fields = {"reason": reason, "calls": self._shed_since_log, "treatment": self.settings.treatment}
                self._emit("overload.shedding", fields)
                self._shedding = True
            self._shed_since_log, self._last_log = 0, now
        self.gave_up(channel_id)

    async def treat(self, channel_id: str, reason: str) -> None:
        """The treatment, once: what a shed caller hears or where they go."""
        settings, ari = self.settings, self._ari
        try:
            if reason == "returned" or settings.treatment in ("busy", "congestion"):
                await ari.hangup(channel_id, cause=_CAUSES.get(settings.treatment, 34))
            elif settings.treatment == "continue":
                await ari.continue_in_dialplan(
                    channel_id, context=settings.context, extension=settings.extension, priority=settings.priority
                )
            else:
                await self._message(channel_id)
        except AriError as exc:
            log.info("overload.treatment_failed", channel=channel_id, error=exc.message)

    async def _message(self, channel_id: str) -> None:
        ari = self._ari
        playback = f"{SHED_PLAYBACK}{channel_id}"
        done = self._messages[playback] = anyio.Event()
        try:
            await ari.answer(channel_id)
            await ari.play(f"channel:{channel_id}", self.settings.message, playback_id=playback)
            with anyio.move_on_after(MESSAGE_SECONDS):
                await done.wait()
        finally:
            self._messages.pop(playback, None)
            try:
                await ari.hangup(channel_id, cause=16)
            except AriError:
                pass  # the caller hung up first

    def playback_done(self, playback_id: str) -> bool:
        """A playback finished; True if it was a shed caller's message."""
        done = self._messages.get(playback_id)
        if done is None:
            return False
        done.set()
        return True
