"""What a process builds once from an agreement, a rulebook or Rule 144's parameters and shares:
the daily table of facts, a rulebook's wording and search terms, small parameter tables.

Keyed by the identity of the inputs (none of them is hashable by value, and none changes once
loaded), holding the inputs themselves so that an id is never reused while its entry is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_kept: dict[tuple, tuple] = {}


def built_once(build: Callable[..., T], *inputs, keep: int = 32) -> T:
    """``build(*inputs)``, built once per ``build`` and identity of ``inputs`` and shared: the
    inputs must not change, and nothing may mutate what ``build`` returns. At most ``keep`` results
    of one ``build`` are kept (the oldest goes first)."""
    key = (build, *map(id, inputs))
    held = _kept.get(key)
    if held is None or any(a is not b for a, b in zip(held[0], inputs, strict=True)):
        same_build = [k for k in _kept if k[0] is build]
        for old in same_build[: max(0, len(same_build) - keep + 1)]:
            _kept.pop(old, None)
        held = _kept[key] = (inputs, build(*inputs))
    return held[1]
