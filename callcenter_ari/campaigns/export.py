"""CSV for people and spreadsheets: a campaign's results and an import's rejected rows.

UTF-8 with a byte-order mark by default, so that Excel opens Chinese text right; GBK on request for older Excel
(characters GBK lacks become '?'). A free-text cell that Excel would run as a formula (=, +, -, @ first) gets a
leading apostrophe; the validated numbers and codes we write ourselves cannot start one and are left alone.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Literal

from callcenter_ari.campaigns.model import Lead
from callcenter_ari.campaigns.reader import Rejected

Encoding = Literal["utf-8", "gbk"]
LEAD_COLUMNS = (
    "lead_id", "number", "name", "state", "attempts", "last_attempt_at", "last_outcome", "last_agent",
    "disposition", "note", "next_attempt_at", "time_zone", "line",
)  # fmt: skip
REJECT_COLUMNS = ("line", "reason", "message")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) else text


def iso(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="seconds") if instant else ""


def lead_row(lead: Lead, data_columns: Sequence[str]) -> list[str]:
    last = lead.last
    fixed = [
        lead.id,
        lead.number,
        safe(lead.name),
        lead.state,
        str(len(lead.attempts)),
        iso(last.at) if last else "",
        last.outcome if last else "",
        last.agent_id if last else "",
        last.disposition if last else "",
        safe(last.note) if last else "",
        iso(lead.next_at) if lead.state == "scheduled" else "",
        lead.zone,
        str(lead.line or ""),
    ]
    return fixed + [safe(lead.data.get(column, "")) for column in data_columns]


def reject_row(rejected: Rejected) -> list[str]:
    return [str(rejected.line), rejected.reason, safe(rejected.message), *(safe(cell) for cell in rejected.cells)]


class CsvWriter:
    """Rows to encoded CSV bytes, a batch at a time, starting with the header (and the BOM for UTF-8)."""

    def __init__(self, header: Sequence[str], encoding: Encoding = "utf-8") -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._encoder = codecs.getincrementalencoder(encoding)("replace")
        self._start = codecs.BOM_UTF8 if encoding == "utf-8" else b""
        self._writer.writerow([safe(column) for column in header])

    def rows(self, rows: Iterable[Sequence[str]]) -> bytes:
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        out, self._start = self._start + self._encoder.encode(text), b""
        return out


def lead_header(data_columns: Sequence[str]) -> list[str]:
    return [*LEAD_COLUMNS, *data_columns]


def chunks(writer: CsvWriter, batches: Iterable[Sequence[Sequence[str]]]) -> Iterator[bytes]:
    yield writer.rows(())
    for batch in batches:
        yield writer.rows(batch)
