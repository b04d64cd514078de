"""A CSV file uploaded to the API, read as it arrives: multipart/form-data (a part named ``file``) or the raw body
(text/csv). Nothing is held whole: the multipart parser is fed the request's chunks and hands on the file's bytes.

What goes wrong before the file's first byte is an HTTP error here (no file part, a type that is not CSV, a
declared length over the limit, options sent as form fields); what goes wrong later (the upload cut off, more
bytes than the limit, a broken multipart stream) is ``UploadBroken``, which the import records with how far it got.
The OpenAPI document shows both body forms (``CsvUpload``), so that generated clients and schemathesis send them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from multipart import MultipartSegment, ParserError, PushMultipartParser, parse_options_header

from callcenter_ari.http.errors import ApiError, BadRequest, FieldProblem
from callcenter_ari.store.lead_imports import UploadBroken

CSV_TYPES = frozenset(
    {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", "application/octet-stream"}
)
MULTIPART_SLACK = 64 * 1024  # headers and boundaries around the file in a multipart body


class TooLarge(ApiError):
    status, code = 413, "too_large"


class UnsupportedType(ApiError):
    status, code = 415, "unsupported_media_type"


class Upload:
    """The file of one request: ``await open()`` finds it, then ``chunks()`` yields its bytes."""

    def __init__(self, request: Request[Any, Any, Any], max_bytes: int) -> None:
        self._request = request
        self._max = max_bytes
        self._body = request.stream()
        self._parser: PushMultipartParser | None = None
        self._first: list[bytes] = []  # file bytes that arrived with the part's headers
        self._done = False
        self.file_name = ""

    async def open(self) -> Upload:
        length = self._request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max + MULTIPART_SLACK:
            mb = self._max // (1024 * 1024)
            raise TooLarge(
                f"the upload is {int(length) // (1024 * 1024)} MB; at most {mb} MB (campaigns.max_upload_mb)"
            )
        kind, options = parse_options_header(self._request.headers.get("content-type", ""))
        if kind == "multipart/form-data":
            if not options.get("boundary"):
                raise BadRequest("multipart/form-data without a boundary")
            self._parser = PushMultipartParser(options["boundary"], max_header_size=8192, max_segment_count=16)
            await self._find_file()
        elif kind not in CSV_TYPES:
            sent = kind[:60] or "nothing"
            raise UnsupportedType(f"send the file as multipart/form-data (a part named 'file') or text/csv, not {sent}")
        return self

    async def chunks(self) -> AsyncIterator[bytes]:
        for chunk in self._first:
            yield chunk
        self._first = []
        while not self._done:
            chunk = await self._next()
            if not chunk:
                return
            if self._parser is None:
                yield chunk
                continue
            for data in self._events(chunk):
                yield data

    async def _find_file(self) -> None:
        """Read up to the file part's headers (and whatever of its bytes came with them)."""
        found = False
        while not found:
            chunk = await self._next()
            if not chunk:
                raise BadRequest("no file in the upload", [FieldProblem("file", "a part named 'file' is required")])
            events = self._parse(chunk)
            for n, event in enumerate(events):
                if isinstance(event, MultipartSegment):
                    if event.name != "file":
                        raise BadRequest(
                            f"unexpected form field {event.name[:40]!r}: send the file as 'file'; options go in the "
                            "query string",
                            [FieldProblem(event.name[:40] or "body", "not a field of this request")],
                        )
                    self.file_name = event.filename or ""
                    self._first = [bytes(e) for e in events[n + 1 :] if isinstance(e, bytes | bytearray)]
                    self._done = any(e is None for e in events[n + 1 :])
                    found = True
                    break

    def _events(self, chunk: bytes) -> list[bytes]:
        """The file's bytes in this chunk; the file ends at its part's end."""
        out: list[bytes] = []
        for event in self._parse(chunk):
            if event is None or isinstance(event, MultipartSegment):
                self._done = True
                break
            out.append(bytes(event))
        return out

    def _parse(self, chunk: bytes) -> list[Any]:
        assert self._parser is not None
        try:
            return list(self._parser.parse(chunk))
        except ParserError as exc:
            raise UploadBroken(f"the multipart body is broken: {exc}") from None

    async def _next(self) -> bytes:
        try:
            return await anext(self._body, b"")
        except RequestEntityTooLarge:
            raise UploadBroken("the upload is larger than allowed", too_large=True) from None
        except InternalServerException:
            raise UploadBroken("the upload was cut off before its end") from None


@dataclass
class CsvUpload(Operation):
    """An operation whose body is a CSV file, as multipart/form-data or as the raw body."""

    def __post_init__(self) -> None:
        binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        form = Schema(type=OpenAPIType.OBJECT, properties={"file": binary}, required=["file"])
        self.request_body = RequestBody(
            required=True,
            description="The CSV file: a multipart part named 'file', or the body itself as text/csv",
            content={
                "multipart/form-data": OpenAPIMediaType(schema=form),
                "text/csv": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
            },
        )
