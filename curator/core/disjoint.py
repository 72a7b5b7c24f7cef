"""Connected components of a relation found pair by pair: union-find with path halving.

Both near-duplicate searches (frame hashes in `analysis.phash`, caption shingles in
`stats.captions`) find candidate pairs, check each, and join the ones that match; what a
person sees are the groups that result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class DisjointSets:
    """Items 0..n-1, each alone at first; `union` joins two items' groups."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))

    def find(self, i: int) -> int:
        """The representative of `i`'s group (halving the path on the way)."""
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def joined(self, a: int, b: int) -> bool:
        return self.find(a) == self.find(b)

    def union(self, a: int, b: int) -> None:
        """Join the groups of `a` and `b`; the smaller representative stays one."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def groups(self, labels: Sequence[T]) -> list[list[T]]:
        """The groups of two or more items, as their labels (`labels[i]` names item i), each
        in item order, groups in the order of their first item."""
        groups: dict[int, list[T]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(self.find(i), []).append(label)
        return [g for g in groups.values() if len(g) > 1]
