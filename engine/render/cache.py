"""A least-recently-used cache bounded by the total cost of its entries (bytes, here).

Why not empty a cache whole when it is full, as the renderer first did: freeing tens of
thousands of cached strips at once, and then rasterizing them again cold, cost the call that
happened to fill it 40-60 ms, which set the fuzz benchmark's p99.9 (docs/rendering.md). Past
its budget this cache lets go of its least recently used entries, a few per insertion, so no
call pays for more than its own work.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, ItemsView, ValuesView
from typing import Generic, TypeVar

Value = TypeVar("Value")


class LruCache(Generic[Value]):
    """`get` / `put` with `cost(value)` counted against `budget`; `cost` must not change while
    an entry is held (it is computed again when the entry leaves)."""

    def __init__(self, budget: int, cost: Callable[[Value], int]) -> None:
        self.budget = budget
        self.total = 0
        self._cost = cost
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()

    def get(self, key: Hashable) -> Value | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Value) -> None:
        """Hold `value` (a key already held is replaced), then drop the least recently used
        entries until the total is within budget (`value` itself, if it alone exceeds it)."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.total -= self._cost(old)
        self._entries[key] = value
        self.total += self._cost(value)
        while self.total > self.budget and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self.total -= self._cost(dropped)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> ItemsView[Hashable, Value]:
        return self._entries.items()

    def values(self) -> ValuesView[Value]:
        return self._entries.values()
