"""Channel numbering follows DAHDI: consecutive across spans, D-channel on 16 (E1) and 24 (T1)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from callcenter_ari.dahdi.layout import group_channels, number_channels, ranges
from callcenter_ari.dahdi.model import Cards


def decode(raw: dict[str, Any]) -> Cards:
    return msgspec.convert(raw, Cards, strict=True)


def test_channels_are_numbered_across_spans(raw: dict[str, Any]) -> None:
    """E1 = 1-31, then T1 = 32-55, then the 4-port analog card = 56-59."""
    layout = number_channels(decode(raw))
    assert (layout[1].first, layout[1].count, layout[1].dchan) == (1, 31, 16)
    assert (layout[2].first, layout[2].count, layout[2].dchan) == (32, 24, 55)
    assert (layout[3].first, layout[3].count, layout[3].dchan) == (56, 4, None)


def test_bearer_channels_leave_out_the_d_channel(raw: dict[str, Any]) -> None:
    """30 B-channels on an E1 PRI, 23 on a T1 PRI."""
    layout = number_channels(decode(raw))
    assert ranges(layout[1].bearer) == "1-15,17-31" and len(layout[1].bearer) == 30
    assert ranges(layout[2].bearer) == "32-54" and len(layout[2].bearer) == 23


def test_group_lines_match_the_trunk_capacity_defaults(raw: dict[str, Any]) -> None:
    """The lines a group has are what `[trunks]` defaults to: 30 per E1, 23 per T1, 1 per port."""
    cards = decode(raw)
    layout = number_channels(cards)
    assert [len(group_channels(cards, layout, g)) for g in cards.group] == [30, 23, 2, 2]


def test_spans_listed_out_of_order_are_numbered_by_span_number(raw: dict[str, Any]) -> None:
    """Order in the file does not matter, the span number does."""
    raw["span"].reverse()
    assert number_channels(decode(raw))[2].first == 32


@pytest.mark.parametrize(
    ("channels", "text"),
    [([5], "5"), ([1, 2, 3], "1-3"), ([1, 3], "1,3"), ([4, 1, 2, 7, 8], "1-2,4,7-8")],
)
def test_ranges_use_chan_dahdi_list_syntax(channels: list[int], text: str) -> None:
    assert ranges(channels) == text
