"""Supervisors' monitoring sessions in Redis: one hash per node, session id -> record. Writes are staged in the
call store's batches (one pipeline with the calls' records, fenced with them under a hot standby); recovery reads
the hash back to compare it with Asterisk (calls/monitoring.py)."""

from __future__ import annotations

import msgspec
import structlog

from callcenter_ari.calls.monitoring import SessionRecord
from callcenter_ari.store.codec import text
from callcenter_ari.store.errors import translating
from callcenter_ari.store.keys import checked
from callcenter_ari.store.redis import Store

log = structlog.get_logger(__name__)

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(SessionRecord).decode


@translating
class MonitorSessions:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = store.keys.monitor_sessions(store.node)

    def save(self, session: SessionRecord) -> None:
        """Staged: written with the next batch."""
        self._store.stage("hset", self._key, checked(session.id, "session id"), _encode(session))

    async def save_now(self, session: SessionRecord) -> None:
        """Written before returning (with everything staged before it): before Asterisk is asked to make what the
        record names, so that a crash at any point after leaves a record for recovery to compare."""
        self.save(session)
        await self._store.flush()

    def drop(self, session_id: str) -> None:
        self._store.stage("hdel", self._key, session_id)

    async def all(self) -> list[SessionRecord]:
        found = []
        for session_id, blob in (await self._store.redis.hgetall(self._key)).items():
            try:
                found.append(_decode(blob))
            except msgspec.DecodeError as exc:  # written by another version: dropped, never fatal
                log.error("monitor.unreadable_session", session=text(session_id), error=str(exc))
                self.drop(text(session_id))
        return sorted(found, key=lambda s: s.id)
