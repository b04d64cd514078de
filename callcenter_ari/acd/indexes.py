"""Index structures for the board: a blocked sorted list, a Fenwick tree for weighted draws, and a deadline heap.

``SortedKeys`` is a list of sorted blocks of at most ``2 * LOAD`` keys with each block's last key kept apart: an
insert or removal is a binary search over the block maxima, a binary search in one block and a memmove bounded by
the block size, so O(log n) comparisons; the smallest key is O(1); a key's rank is O(log n + n / LOAD).
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from typing import Any

Key = tuple[Any, ...]


class SortedKeys:
    LOAD = 256

    def __init__(self) -> None:
        self._blocks: list[list[Key]] = []
        self._maxes: list[Key] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Key]:
        return itertools.chain.from_iterable(self._blocks)

    def add(self, key: Key) -> None:
        self._len += 1
        if not self._blocks:
            self._blocks.append([key])
            self._maxes.append(key)
            return
        i = min(bisect_left(self._maxes, key), len(self._maxes) - 1)
        block = self._blocks[i]
        insort(block, key)
        self._maxes[i] = block[-1]
        if len(block) > 2 * self.LOAD:
            self._blocks[i : i + 1] = [block[: self.LOAD], block[self.LOAD :]]
            self._maxes[i : i + 1] = [block[self.LOAD - 1], block[-1]]

    def remove(self, key: Key) -> None:
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            raise KeyError(key)
        block = self._blocks[i]
        j = bisect_left(block, key)
        if j == len(block) or block[j] != key:
            raise KeyError(key)
        del block[j]
        self._len -= 1
        if block:
            self._maxes[i] = block[-1]
        else:
            del self._blocks[i], self._maxes[i]

    def first(self) -> Key | None:
        return self._blocks[0][0] if self._blocks else None

    def first_after(self, key: Key) -> Key | None:
        """The smallest key greater than ``key``, if any."""
        i = bisect_right(self._maxes, key)
        if i == len(self._maxes):
            return None
        block = self._blocks[i]
        return block[bisect_right(block, key)]

    def rank(self, key: Key) -> int:
        """How many keys are smaller than ``key``."""
        i = bisect_left(self._maxes, key)
        before = sum(len(b) for b in self._blocks[:i])
        if i == len(self._blocks):
            return before
        return before + bisect_left(self._blocks[i], key)

    def head(self, n: int) -> list[Key]:
        return list(itertools.islice(self, n))


class Fenwick:
    """Non-negative integer weights on slots 0..size-1; draw a slot with probability weight / total."""

    def __init__(self, size: int) -> None:
        self._tree = [0] * (size + 1)
        self._weights = [0] * size
        self.total = 0

    def set(self, slot: int, weight: int) -> None:
        delta = weight - self._weights[slot]
        if not delta:
            return
        self._weights[slot] = weight
        self.total += delta
        i = slot + 1
        while i < len(self._tree):
            self._tree[i] += delta
            i += i & -i

    def grow(self) -> int:
        """Add a slot (weight 0) and return it: a rebuild, O(size), done when a bucket gains an agent (rare)."""
        self.resize(len(self._weights) + 1)
        return len(self._weights) - 1

    def resize(self, size: int) -> None:
        """Have ``size`` slots (new ones weigh 0), rebuilt in O(size)."""
        self._weights += [0] * (size - len(self._weights))
        tree = [0] * (size + 1)
        for i, w in enumerate(self._weights, 1):
            tree[i] += w
            parent = i + (i & -i)
            if parent <= size:
                tree[parent] += tree[i]
        self._tree = tree

    def find(self, point: int) -> int:
        """The slot whose cumulative range holds ``point`` (0 <= point < total)."""
        pos, rest = 0, point
        step = 1 << (len(self._tree) - 1).bit_length()
        while step:
            nxt = pos + step
            if nxt < len(self._tree) and self._tree[nxt] <= rest:
                pos, rest = nxt, rest - self._tree[nxt]
            step >>= 1
        return pos


class Deadlines:
    """Keyed deadlines: setting a key again moves it, cancelling forgets it. A heap with lazy deletion, compacted
    when stale entries outnumber live ones, so memory stays bounded by the live keys."""

    def __init__(self) -> None:
        self._at: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()

    def set(self, kind: str, ident: str, at: float) -> None:
        self._at[kind, ident] = at
        heapq.heappush(self._heap, (at, next(self._seq), kind, ident))
        if len(self._heap) > 2 * len(self._at) + 64:
            self._heap = [(a, next(self._seq), k, i) for (k, i), a in self._at.items()]
            heapq.heapify(self._heap)

    def cancel(self, kind: str, ident: str) -> None:
        self._at.pop((kind, ident), None)

    def get(self, kind: str, ident: str) -> float | None:
        return self._at.get((kind, ident))

    def next(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> tuple[float, str, str] | None:
        self._drop_stale()
        if not self._heap or self._heap[0][0] > now:
            return None
        at, _, kind, ident = heapq.heappop(self._heap)
        del self._at[kind, ident]
        return at, kind, ident

    def _drop_stale(self) -> None:
        heap = self._heap
        while heap and self._at.get((heap[0][2], heap[0][3])) != heap[0][0]:
            heapq.heappop(heap)
