"""Rich tables for the results: one table per benchmark, numbers rounded for reading."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def table(console: Console, title: str, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    out = Table(title=title, title_justify="left")
    columns = list(dict.fromkeys(column for row in rows for column in row))  # rows may leave columns out
    for column in columns:
        out.add_column(column, justify="left" if isinstance(rows[0].get(column), str) else "right")
    for row in rows:
        out.add_row(*(_cell(row[c]) if c in row else "" for c in columns))
    console.print(out)


def shares(console: Console, title: str, items: Sequence[tuple[str, float]]) -> None:
    table(console, title, [{"where": name, "share of samples %": share * 100} for name, share in items])
