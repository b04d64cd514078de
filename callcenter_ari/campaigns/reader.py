"""A lead list (or a do-not-call list) read row by row as its bytes arrive: candidates and rejected rows.

``LeadReader.feed(chunk)`` returns what the chunk completed; ``finish()`` the rest. A row is rejected with its
line and reason (ragged, no number, not a number, an invalid number, a bad time zone, a cell too long) and the
next row is read; a problem with the file itself (its encoding, no phone column, no rows, too large) raises
``FileProblem`` naming the line, so the caller can say how far it got. Duplicates and the do-not-call list need
the store and are judged there.
"""

from __future__ import annotations

import csv
from typing import Literal

import msgspec

from callcenter_ari.campaigns import columns
from callcenter_ari.campaigns.csvfile import FileProblem, Records, TextFeed, cells, codec_for, pick_delimiter
from callcenter_ari.campaigns.numbers import BadNumber, read_number
from callcenter_ari.campaigns.settings import valid_zone

MAX_CELL = 1000
KEPT_CELLS, KEPT_CELL_CHARS = 50, 200  # of a rejected row, for the rejects download


class ReadOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    encoding: str = ""  # empty: detected
    delimiter: str = ""  # empty: detected from the first line
    header: Literal["auto", "yes", "no"] = "auto"
    phone_column: str = ""  # a header name or a position from 1; empty: guessed
    name_column: str = ""
    zone_column: str = ""
    region: str = ""  # reads national numbers; empty: the campaign's


def check_options(options: ReadOptions) -> list[tuple[str, str]]:
    """The options at fault, named as the request has them (checked before a byte is read)."""
    found: list[tuple[str, str]] = []
    for field, check in (("encoding", codec_for), ("delimiter", lambda d: pick_delimiter("", d))):
        if getattr(options, field):
            try:
                check(getattr(options, field))
            except FileProblem as exc:
                found.append((field, exc.reason))
    return found


class Candidate(msgspec.Struct, frozen=True):
    line: int
    number: str  # E.164
    name: str
    zone: str
    data: dict[str, str]


class Rejected(msgspec.Struct, frozen=True):
    line: int
    reason: str  # ragged, no_number, not_a_number, scientific, invalid_number, bad_time_zone, cell_too_long,
    # duplicate, in_campaign, do_not_call (the last three from the store)
    message: str
    cells: tuple[str, ...] = ()


Row = Candidate | Rejected


class LeadReader:
    def __init__(self, options: ReadOptions, region: str, *, max_bytes: int, max_rows: int) -> None:
        self.options = options
        self.region = region
        self.max_bytes, self.max_rows = max_bytes, max_rows
        self.text = TextFeed(options.encoding)
        self.records = Records()
        self.mapping: columns.Mapping | None = None
        self._data: list[tuple[int, str]] = []  # the columns kept as lead data, with their names
        self.rows = 0  # data rows read (blank ones apart)
        self.blank = 0

    @property
    def bytes_read(self) -> int:
        return self.text.bytes_read

    @property
    def line(self) -> int:
        return self.records.line

    def feed(self, chunk: bytes) -> list[Row]:
        if self.text.bytes_read + len(chunk) > self.max_bytes:
            limit = self.max_bytes // (1024 * 1024)
            raise FileProblem(f"the file is larger than {limit} MB (campaigns.max_upload_mb)", self.records.line + 1)
        return self._rows(self.records.feed(self.text.feed(chunk)))

    def finish(self) -> list[Row]:
        rows = self._rows(self.records.feed(self.text.feed(b"", final=True), final=True))
        if self.text.bytes_read == 0:
            raise FileProblem("the file is empty")
        if self.mapping is None or (self.rows == 0 and self.blank == 0):
            raise FileProblem("no rows to read: the file has a header at most")
        return rows

    def _rows(self, records: list[tuple[int, str]]) -> list[Row]:
        if records and self.mapping is None:
            records = self._begin(records)
        if not records:
            return []
        out: list[Row] = []
        try:
            for line, row in cells(records, self.records.delimiter):
                read = self._row(line, row)
                if read is not None:
                    out.append(read)
        except csv.Error as exc:
            raise FileProblem(f"not CSV: {exc}", self.records.line) from None
        return out

    def _begin(self, records: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """Settle the delimiter and the columns on the first record; returns the records left to read."""
        first = records[0][1]
        if first.lower().startswith("sep=") and len(first) == 5:  # Excel's own delimiter hint
            self.options = msgspec.structs.replace(self.options, delimiter=first[4])
            records = records[1:]
            if not records:
                return []
            first = records[0][1]
        self.records.delimiter = pick_delimiter(first, self.options.delimiter)
        row = next(cells(records[:1], self.records.delimiter))[1]
        self.mapping = self._map(row)
        self._data = [(n, self.mapping.names[n]) for n in self.mapping.data()]
        return records[1:] if self.mapping.header else records

    def _map(self, row: list[str]) -> columns.Mapping:
        named = columns.headers(row)
        header = self.options.header == "yes" or (
            self.options.header == "auto"
            and (columns.find_phone(named, "") >= 0 or not any(self._reads(cell) for cell in row))
        )
        if header:
            names, phone = named, columns.find_phone(named, self.options.phone_column)
        else:
            names = columns.positional(len(row))
            phone = columns.find(names, self.options.phone_column, (), "phone_column")
            phone = phone if phone >= 0 else next((n for n, cell in enumerate(row) if self._reads(cell)), -1)
        if phone < 0:
            raise FileProblem(
                f"no phone column among {', '.join(names[:20])}: name it with phone_column (a header or a position)",
                1,
            )
        name = columns.find(names, self.options.name_column, columns.NAME_NAMES if header else (), "name_column")
        zone = columns.find(names, self.options.zone_column, columns.ZONE_NAMES if header else (), "zone_column")
        return columns.Mapping(phone=phone, name=name, zone=zone, names=names, header=header)

    def _reads(self, cell: str) -> bool:
        try:
            read_number(cell, self.region)
        except BadNumber:
            return False
        return True

    def _row(self, line: int, row: list[str]) -> Row | None:
        assert self.mapping is not None
        if not any(cell.strip() for cell in row):
            self.blank += 1
            return None
        self.rows += 1
        if self.rows > self.max_rows:
            raise FileProblem(f"more than {self.max_rows} rows (campaigns.max_import_rows)", line)
        width = len(self.mapping.names)
        while len(row) > width and not row[-1].strip():
            row.pop()  # Excel pads rows with empty cells
        if len(row) != width:
            return _reject(line, "ragged", f"{len(row)} cells where the header has {width}", row)
        if any(len(cell) > MAX_CELL for cell in row):
            return _reject(line, "cell_too_long", f"a cell longer than {MAX_CELL} characters", row)
        try:
            number, zone = read_number(row[self.mapping.phone], self.region)
        except BadNumber as exc:
            return _reject(line, exc.reason, str(exc), row)
        if self.mapping.zone >= 0 and (stated := row[self.mapping.zone].strip()):
            if not valid_zone(stated):
                return _reject(line, "bad_time_zone", f"{stated[:40]!r} is not a time zone such as Asia/Shanghai", row)
            zone = stated
        name = row[self.mapping.name].strip()[:200] if self.mapping.name >= 0 else ""
        data = {name: row[n].strip() for n, name in self._data if row[n].strip()}
        return Candidate(line, number, name, zone, data)


def _reject(line: int, reason: str, message: str, row: list[str]) -> Rejected:
    return Rejected(line, reason, message, tuple(cell[:KEPT_CELL_CHARS] for cell in row[:KEPT_CELLS]))
