"""A growing numpy array, shared by the stages that collect numbers over a whole run."""

from __future__ import annotations

from typing import Any

import numpy as np


class GrowingArray:
    """An array appended to in blocks, in one allocation grown a quarter at a time (amortized).

    The default capacity (512 KB of 64-bit values) is above glibc's mmap threshold, which runs
    pin (engines/memory.py): the block is mapped on its own and grown by remapping, never left
    as holes in the heap among a run's short-lived allocations. Pickled, it carries its values
    alone, not its spare capacity."""

    def __init__(self, dtype: type = np.uint64, capacity: int = 1 << 16):
        self.data = np.zeros(capacity, dtype=dtype)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def extend(self, values: np.ndarray) -> int:
        """Appends; returns where the values start."""
        start, need = self.size, self.size + len(values)
        if need > len(self.data):
            # a quarter more each time: less slack at 10^6 texts than doubling, still amortized
            capacity = max(need, len(self.data) + len(self.data) // 4)
            try:
                # in place (realloc; a large block is remapped, not copied): no second copy in memory
                self.data.resize(capacity, refcheck=True)
            except ValueError:  # a view of the data is alive somewhere: it must stay valid, so copy
                grown = np.zeros(capacity, dtype=self.data.dtype)
                grown[:start] = self.data[:start]
                self.data = grown
        self.data[start:need] = values
        self.size = need
        return start

    def view(self) -> np.ndarray:
        return self.data[: self.size]

    def clear(self) -> None:
        """Empty again, keeping the allocation for what comes next."""
        self.size = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"values": self.view().copy()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        values = state["values"]
        self.data = np.zeros(max(len(values), 1), dtype=values.dtype)
        self.size = 0
        self.extend(values)
