"""Which column holds the phone number, the name and the time zone: as stated (a header name or a 1-based
position), else guessed from the header (电话, 手机, phone, mobile, 姓名, name, ...). Every other column is kept
as lead data under its header, for the agent's screen.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from callcenter_ari.campaigns.csvfile import FileProblem

MAX_COLUMNS = 200
MAX_KEY = 64

# In order of preference: a mobile column beats a landline one when a file has both (mobiles answer more often).
PHONE_NAMES = (
    "手机", "手机号", "手机号码", "移动电话", "手機", "手機號碼", "mobile", "mobilephone", "mobilenumber", "mobileno",
    "cell", "cellphone", "电话", "电话号码", "联系电话", "联系方式", "号码", "电话号", "座机", "固话", "電話",
    "phone", "phonenumber", "telephone", "tel", "telno", "number", "contactnumber", "msisdn",
)  # fmt: skip
NAME_NAMES = (
    "姓名", "客户姓名", "客户名称", "名字", "联系人", "客户", "名称", "name", "fullname", "customer", "customername",
    "contact", "contactname",
)  # fmt: skip
ZONE_NAMES = ("时区", "時區", "timezone", "tz", "zone")
_PHONE_WORDS = ("手机", "手機", "电话", "電話", "mobile", "phone")  # a header containing one, when none matches whole
_FOLD = re.compile(r"[\s_\-.:/()#]+")


class Mapping(msgspec.Struct, frozen=True):
    """Where things are: 0-based positions, -1 for none; ``names`` are the headers (or column_<n>)."""

    phone: int
    name: int
    zone: int
    names: tuple[str, ...]
    header: bool

    def describe(self) -> dict[str, str]:
        named = {"phone": self.phone, "name": self.name, "time_zone": self.zone}
        return {what: self.names[at] for what, at in named.items() if at >= 0}

    def data(self) -> tuple[int, ...]:
        return tuple(n for n in range(len(self.names)) if n not in (self.phone, self.name, self.zone))


def fold(header: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", header).casefold())


def headers(row: list[str]) -> tuple[str, ...]:
    """The header cells as data keys: trimmed, at most 64 characters, unique (a repeat gets _2), none empty."""
    if len(row) > MAX_COLUMNS:
        raise FileProblem(f"{len(row)} columns; at most {MAX_COLUMNS}", 1)
    out: list[str] = []
    for n, cell in enumerate(row):
        base = unicodedata.normalize("NFKC", cell).strip()[:MAX_KEY] or f"column_{n + 1}"
        name, k = base, 2
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return tuple(out)


def positional(count: int) -> tuple[str, ...]:
    return tuple(f"column_{n + 1}" for n in range(count))


def find(names: tuple[str, ...], stated: str, guesses: tuple[str, ...], what: str) -> int:
    """The stated column (a header, or a position from 1), else the first guess the header has, else -1."""
    if stated:
        return _stated(names, stated, what)
    folded = [fold(name) for name in names]
    for guess in guesses:
        if guess in folded:
            return folded.index(guess)
    return -1


def find_phone(names: tuple[str, ...], stated: str) -> int:
    found = find(names, stated, PHONE_NAMES, "phone_column")
    if found < 0:
        folded = [fold(name) for name in names]
        found = next((n for n, name in enumerate(folded) if any(word in name for word in _PHONE_WORDS)), -1)
    return found


def _stated(names: tuple[str, ...], stated: str, what: str) -> int:
    if stated.isdigit():
        position = int(stated)
        if not 1 <= position <= len(names):
            raise FileProblem(f"{what} {position}: the file has {len(names)} columns", 1)
        return position - 1
    for n, name in enumerate(names):
        if name == stated.strip() or fold(name) == fold(stated):
            return n
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    raise FileProblem(f"{what} {stated[:64]!r}: no such column (the header has {shown})", 1)
