"""Bytes of a CSV file, pushed in chunks of any size, to complete records with their line numbers.

Push, not pull, so that an upload is read as it arrives and never held whole: ``TextFeed`` decodes (a byte-order
mark says the encoding; otherwise the text stays undecided while it is plain ASCII, which reads the same in every
encoding we accept, and the first non-ASCII stretch of up to 64 KB is checked as strict UTF-8 and else given to
charset-normalizer among GB18030, Big5 and Windows-1252), ``Records`` cuts the text into records (a quoted cell
may hold line breaks) and ``csv`` splits them into cells. Every limit is a ``FileProblem`` naming the line.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

import charset_normalizer

SAMPLE_BYTES = 64 * 1024
MAX_RECORD_CHARS = 64 * 1024  # one record (a row, with any line breaks in its quoted cells)
DELIMITERS = (",", ";", "\t", "|")

# What a user may state, to the codec read with. GBK is read as Windows' code page 936, of which GB2312 is a part.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "gbk": "gbk",
    "cp936": "gbk",
    "gb2312": "gbk",
    "gb18030": "gb18030",
    "big5": "big5",
    "utf-16": "utf-16",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (b"\x84\x31\x95\x33", "gb18030"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DETECTED = {"utf_8": "utf-8", "gb18030": "gb18030", "big5": "big5", "cp1252": "cp1252"}
_NOT_CSV = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file: save it as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls): save it as CSV first"),
    (b"%PDF", "a PDF document"),
)


class FileProblem(ValueError):
    """The file cannot be read on from here; ``line`` is where (0: before the first line)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.reason = message


def codec_for(stated: str) -> str:
    codec = ENCODINGS.get(stated.strip().lower().replace("_", "-"))
    if codec is None:
        raise FileProblem(f"unknown encoding {stated[:30]!r} (use one of {', '.join(sorted(ENCODINGS))})")
    return codec


class TextFeed:
    """Bytes in, text out (line breaks as '\\n'), the encoding stated, marked or detected."""

    def __init__(self, stated: str = "") -> None:
        self.encoding = codec_for(stated) if stated else ""
        self._head = b""  # the first bytes, until the byte-order mark question is settled
        self._sample = b""  # undecided bytes from the first non-ASCII one on
        self._decoder: io.IncrementalNewlineDecoder | None = None
        self._newlines = 0  # b"\n" seen in decoded bytes: where a decoding error is
        self.bytes_read = 0
        self._fresh = True  # no text decoded yet
        # Bytes that do not decode: the text before them is handed out first, the problem at the next call.
        self.problem: FileProblem | None = None

    def feed(self, chunk: bytes, final: bool = False) -> str:
        if self.problem is not None:
            raise self.problem
        self.bytes_read += len(chunk)
        if self._decoder is None and not self._sample and len(self._head) < 4:
            self._head += chunk
            if len(self._head) < 4 and not final:
                return ""
            chunk, self._head = self._head, b""
            chunk = self._start(chunk)
        if self._decoder is not None:
            return self._decode(chunk, final)
        return self._undecided(chunk, final)

    def _start(self, head: bytes) -> bytes:
        for magic, what in _NOT_CSV:
            if head.startswith(magic):
                raise FileProblem(f"this is {what}, not a CSV file")
        for bom, codec in _BOMS:
            if head.startswith(bom):
                self.encoding = codec
                break
        if self.encoding:
            self._open(self.encoding)
        return head

    def _undecided(self, chunk: bytes, final: bool) -> str:
        """Pass plain ASCII through; from the first other byte, gather a sample and decide on it."""
        if not self._sample:
            if chunk.isascii():
                self._check_nul(chunk)
                self._newlines += chunk.count(b"\n")
                return chunk.decode("ascii")
            start = next(i for i, byte in enumerate(chunk) if byte > 0x7F)
            ascii_part, chunk = chunk[:start], chunk[start:]
            self._check_nul(ascii_part)
            self._newlines += ascii_part.count(b"\n")
            prefix = ascii_part.decode("ascii")
        else:
            prefix = ""
        self._sample += chunk
        if len(self._sample) < SAMPLE_BYTES and not final:
            return prefix
        sample, self._sample = self._sample, b""
        self.encoding = self._detect(sample, final)
        self._open(self.encoding)
        return prefix + self._decode(sample, final)

    def _detect(self, sample: bytes, final: bool) -> str:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        if not final and b"\n" in sample:
            sample = sample[: sample.rindex(b"\n") + 1]  # whole lines: a character cut in two reads as a wrong byte
        best = charset_normalizer.from_bytes(sample, cp_isolation=list(_DETECTED)).best()
        if best is None or best.encoding not in _DETECTED:
            raise FileProblem(
                "cannot tell the file's encoding (not UTF-8, GBK/GB18030, Big5 or Windows-1252 as far as can be "
                "seen): state it, e.g. encoding=gbk",
                self._newlines + 1,
            )
        return _DETECTED[best.encoding]

    def _open(self, codec: str) -> None:
        self._decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder(codec)("strict"), translate=True)

    def _decode(self, chunk: bytes, final: bool) -> str:
        assert self._decoder is not None
        held = len(self._decoder.getstate()[0])  # bytes of a character begun in the previous chunk
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            good = max(0, exc.start - held)
            self.problem = FileProblem(
                f"bytes that are not {self.encoding} ({exc.object[exc.start : exc.start + 4]!r}): the file mixes "
                "encodings or is not the one stated",
                self._newlines + chunk[:good].count(b"\n") + 1,
            )
            return self._decode(chunk[:good], False) if good else ""
        self._newlines += chunk.count(b"\n")
        if self._fresh and text:
            self._fresh = False
            return text.removeprefix("\ufeff")  # GB18030's byte-order mark decodes to one
        return text

    def _check_nul(self, chunk: bytes) -> None:
        if b"\x00" in chunk:
            line = self._newlines + chunk[: chunk.index(b"\x00")].count(b"\n") + 1
            raise FileProblem("a NUL byte: UTF-16 without a byte-order mark (state encoding=utf-16) or no text", line)


class Records:
    """Text in, complete records out as (first line, text); a quoted cell may span lines."""

    def __init__(self) -> None:
        self.delimiter = ""
        self.line = 0  # physical lines completed
        self._pending = ""  # text after the last line break
        self._record: list[str] = []
        self._start = 0
        self._in_quotes = False

    def feed(self, text: str, final: bool = False) -> list[tuple[int, str]]:
        text, self._pending = self._pending + text, ""
        lines = text.split("\n")
        if not final:
            self._pending = lines.pop()
            if len(self._pending) > MAX_RECORD_CHARS:
                raise FileProblem(f"a line longer than {MAX_RECORD_CHARS} characters", self.line + 1)
        elif lines[-1] == "":
            lines.pop()
        out: list[tuple[int, str]] = []
        for line in lines:
            self.line += 1
            if not self._record:
                self._start = self.line
            self._record.append(line)
            if '"' in line:
                self._in_quotes = _ends_in_quotes(line, self._in_quotes, self.delimiter or ",")
            if self._in_quotes:
                if sum(len(part) for part in self._record) > MAX_RECORD_CHARS:
                    raise FileProblem(f"a quoted cell is not closed within {MAX_RECORD_CHARS} characters", self._start)
                continue
            out.append((self._start, "\n".join(self._record)))
            self._record = []
        if final and self._record:
            raise FileProblem("the file ends inside a quoted cell", self._start)
        return out


def pick_delimiter(first: str, stated: str = "") -> str:
    """The stated delimiter, else the one the first line uses most (a comma when it uses none)."""
    if stated:
        if stated not in DELIMITERS:
            raise FileProblem(f"delimiter {stated[:4]!r}: use one of {', '.join(map(repr, DELIMITERS))}")
        return stated
    counts = [(first.count(d), -n, d) for n, d in enumerate(DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] else ","


def cells(records: list[tuple[int, str]], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record split into its cells (one csv reader for the batch)."""
    rows = csv.reader((text for _, text in records), delimiter=delimiter)
    for (line, _), row in zip(records, rows, strict=True):
        yield line, row


def _ends_in_quotes(line: str, in_quotes: bool, delimiter: str) -> bool:
    """Whether a quoted cell is still open at the end of ``line``, as the csv module reads quotes: a quote opens a
    cell only at its start, '""' inside one is a quote, and a quote in the middle of a plain cell is just a
    character."""
    field_start, just_closed = not in_quotes, False
    for ch in line:
        if in_quotes:
            if ch == '"':
                in_quotes, just_closed = False, True
            continue
        if ch == '"' and (field_start or just_closed):
            in_quotes = True
        field_start, just_closed = ch == delimiter, False
    return in_quotes
