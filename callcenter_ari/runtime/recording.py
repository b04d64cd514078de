"""Calls' recordings in Asterisk, and what is kept about them: the recording service.

Call tasks hand it their recorders' commands (start a bridge recording, pause, resume, stop); Asterisk's
RecordingFinished/RecordingFailed events, which may arrive after the call has ended, close the metadata with the
duration Asterisk measured. Metadata is staged with the call path's writes, so recording costs a call no extra
Redis round trip. A sweeper deletes recordings past the retention time, each deletion audited; nothing younger
than the minimum keep time can be deleted, by the sweeper or by anyone through the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

import anyio
import structlog
from anyio.abc import TaskStatus

from callcenter_ari.ari.client import AriClient
from callcenter_ari.ari.errors import AriError, NotFound
from callcenter_ari.ari.models import LiveRecording
from callcenter_ari.calls.messages import Input, RecordingDone
from callcenter_ari.calls.records import CallRecord
from callcenter_ari.clock import Clock
from callcenter_ari.recording.model import DeletionAudit, Recording
from callcenter_ari.recording.recorder import ControlRecording, StartRecording
from callcenter_ari.recording.retention import RetentionRefused, check_delete, delete, expired
from callcenter_ari.recording.settings import RetentionSettings
from callcenter_ari.store.errors import StoreUnavailable
from callcenter_ari.store.recordings import RecordingStore

log = structlog.get_logger(__name__)

# A call's recording segment (``<call>-r<n>``), as opposed to an IVR message (``<call>-vm``).
SEGMENT = re.compile(r"^[A-Za-z0-9]+-r[0-9]{1,4}$(?!\n)")
DAY = 86400.0


class RecordingService:
    def __init__(
        self,
        ari: AriClient,
        recordings: RecordingStore,
        clock: Clock,
        *,
        tenant: str,
        retention: RetentionSettings,
        emit: Callable[[str, dict[str, Any]], None],
        spawn: Callable[..., None],
        sweep_interval: float = 3600.0,
    ) -> None:
        self.ari = ari
        self.recordings = recordings
        self.clock = clock
        self.tenant = tenant
        self.retention = retention
        self.sweep_interval = sweep_interval
        self._emit = emit
        self._spawn = spawn
        self._live: dict[str, Recording] = {}
        self._paused_at: dict[str, float] = {}

    # ---- a call's commands -------------------------------------------------------------------------------

    async def start(self, call: CallRecord, command: StartRecording) -> Input | None:
        """Record the call's bridge; if Asterisk will not, the call is told the segment is not live."""
        now = self.clock.now()
        rec = Recording(
            name=command.name,
            call_id=call.call_id,
            tenant=self.tenant,
            agent_id=call.agent_id,
            queue=call.queue,
            caller=call.caller,
            started_at=now,
            format=command.format,
            reason="on_demand" if command.on_demand else "policy",
            segment=command.segment,
        )
        try:
            await self.ari.record(
                f"bridge:{command.bridge_id}", command.name, format=command.format, beep=command.beep, if_exists="fail"
            )
        except AriError as exc:
            log.warning("recording.start_failed", recording=command.name, error=exc.message)
            rec.state, rec.ended_at = "failed", now
            self._save(rec, "recording.failed", error=exc.message)
            return RecordingDone(command.name)
        self._live[rec.name] = rec
        self._save(rec, "recording.started")
        return None

    async def control(self, command: ControlRecording) -> Input | None:
        name, action = command.name, command.action
        try:
            await self.ari.recording_control(name, action)
        except NotFound:
            # It ended on its own (the bridge went away); should its RecordingFinished have been lost (a dropped
            # WebSocket), close it here, or it would stay "recording" and never be fetched nor expire.
            rec = self._live.pop(name, None)
            if rec is not None:
                self._close(rec, None, failed=not await self._stored(name))
            return RecordingDone(name)
        except AriError as exc:
            log.warning("recording.control_failed", recording=name, action=action, error=exc.message)
            return None
        rec = self._live.get(name)
        if rec is None or action == "stop":
            return None  # a stop is recorded when Asterisk says the recording finished
        now = self.clock.now()
        if action == "pause":
            self._paused_at[name] = now
            rec.state = "paused"
        else:
            rec.paused_seconds = round(rec.paused_seconds + now - self._paused_at.pop(name, now), 3)
            rec.state = "recording"
        self._save(rec, "recording.paused" if action == "pause" else "recording.resumed")
        return None

    # ---- Asterisk's events ---------------------------------------------------------------------------------

    def finished(self, live: LiveRecording, *, failed: bool) -> None:
        """RecordingFinished or RecordingFailed: close the metadata (loading it first if it was started before
        a restart of the process)."""
        rec = self._live.pop(live.name, None)
        if rec is not None:
            self._close(rec, live.duration, failed)
        elif SEGMENT.fullmatch(live.name):
            self._spawn(self._close_stored, live.name, live.duration, failed)

    async def _close_stored(self, name: str, duration: int | None, failed: bool) -> None:
        rec = await self.recordings.get(name)
        # A segment recovery closed as failed (its file was not stored yet) is done after all when Asterisk says so.
        if rec is not None and (rec.state in ("recording", "paused") or (rec.state == "failed" and not failed)):
            self._close(rec, duration, failed)

    def _close(self, rec: Recording, duration: int | None, failed: bool) -> None:
        now = self.clock.now()
        if rec.name in self._paused_at:
            rec.paused_seconds = round(rec.paused_seconds + now - self._paused_at.pop(rec.name), 3)
        rec.ended_at = now
        rec.state = "failed" if failed else "done"
        # Asterisk's own count of the seconds in the file, when it gives one; otherwise the time minus the pauses.
        measured = now - rec.started_at - rec.paused_seconds
        rec.duration = round(float(duration) if duration is not None else max(measured, 0.0), 3)
        self._save(rec, "recording.failed" if failed else "recording.finished", duration=rec.duration)

    async def recover(self, calls: list[CallRecord]) -> None:
        """After a restart: the live segments of calls still up are tracked again; a segment whose call ended
        while the process was down is closed (done if Asterisk stored it)."""
        names = [call.recording.live for call in calls if call.recording.live]
        if not names:
            return
        ongoing = {call.recording.live for call in calls if call.recording.live and call.phase != "ended"}
        for rec in await self.recordings.get_many(names):
            if rec.state not in ("recording", "paused"):
                continue
            if rec.name in ongoing:
                self._live[rec.name] = rec
                continue
            try:
                # A persistent agent's bridge outlives the call: without this, it would go on recording the
                # agent's next callers into this call's file.
                await self.ari.recording_control(rec.name, "stop")
            except AriError:
                pass  # finished already, as it usually has
            self._close(rec, None, failed=not await self._stored(rec.name))

    async def _stored(self, name: str) -> bool:
        try:
            await self.ari.stored_recording(name)
        except NotFound:
            return False
        return True

    # ---- retention -----------------------------------------------------------------------------------------

    async def delete(self, rec: Recording, by: str, reason: Literal["retention_expired", "requested"]) -> DeletionAudit:
        """Delete the audio in Asterisk and mark the record deleted, with an audit entry. RetentionRefused when the
        recording is too young (or still recording, or deleted already)."""
        now = self.clock.now()
        check_delete(rec, now, self.retention)
        try:
            await self.ari.delete_stored(rec.name)
        except NotFound:
            log.warning("recording.file_already_gone", recording=rec.name)
        audit = delete(rec, now, by, reason, retention=self.retention)
        if not await self.recordings.record_deletion(rec, audit):
            raise RetentionRefused(rec.name, "already_deleted", "deleted meanwhile")
        self._emit("recording.deleted", {"at": now, **_fields(rec), "by": by, "reason": reason})
        log.info("recording.deleted", recording=rec.name, by=by, reason=reason, age_days=audit.age_days)
        return audit

    async def sweep(self, batch: int = 200) -> int:
        """Delete every recording past the maximum keep time, oldest first; returns how many."""
        now = self.clock.now()
        cutoff = now - self.retention.max_days * DAY
        deleted = skipped = 0
        while True:
            # Deleted recordings leave the index; the ones that cannot go yet (still recording) stay, and the next
            # batch starts after them, so that they never hold back the ones behind.
            names = await self.recordings.names(until=cutoff, limit=batch, offset=skipped, newest_first=False)
            due = expired(await self.recordings.get_many(names), now, self.retention)
            for rec in due:
                await self.delete(rec, "retention", "retention_expired")
            deleted += len(due)
            skipped += len(names) - len(due)
            if len(names) < batch:
                return deleted

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Sweep every ``sweep_interval`` seconds until cancelled."""
        task_status.started()
        while True:
            try:
                await self.sweep()
            except (StoreUnavailable, AriError) as exc:
                log.error("recording.sweep_failed", error=repr(exc))
            await anyio.sleep(self.sweep_interval)

    def _save(self, rec: Recording, kind: str, **extra: Any) -> None:
        self.recordings.stage(rec)
        self._emit(kind, {"at": self.clock.now(), **_fields(rec), **extra})


def _fields(rec: Recording) -> dict[str, Any]:
    return {"recording": rec.name, "call_id": rec.call_id, "agent": rec.agent_id, "queue": rec.queue}
