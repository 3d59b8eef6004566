"""Independent parts of a batch run on the machine's cores, in threads.

The review's heavy steps are numpy and Arrow kernels over whole columns, which release the GIL
while they run, so threads sharing the parsed columns (no copy, no pickling) keep two cores busy
on parts that do not depend on each other: the columns of a notice table, groups of sellers, the
runs of output rows. Python-level work between kernels still takes turns under the GIL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Part = TypeVar("Part")
Result = TypeVar("Result")


# Each thread of a review holds a working set of its own (about 90 MB per run of 100,000 output
# rows), and the threads share the memory bus and the kernel's supply of fresh pages (two gave
# 1.6x, not 2x, on two cores): by default a review takes at most this many, whatever the machine has.
MAX_WORKERS = 4


def worker_count() -> int:
    """The cores this process may run on, at least 1 and at most ``MAX_WORKERS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def in_parallel(work: Callable[[Part], Result], parts: Iterable[Part], workers: int | None = None) -> Iterator[Result]:
    """``work(part)`` for every part, at most ``workers`` (default: ``worker_count()``) at a time,
    the results yielded in the order of ``parts`` as soon as each and those before it are done.
    An exception in any part is raised when its result is reached, and the parts not yet started
    are then dropped (as they are when the caller stops early); with one worker (or one part)
    nothing leaves the calling thread."""
    parts = list(parts)
    workers = min(workers or worker_count(), len(parts))
    if workers <= 1:
        yield from map(work, parts)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="compliance-review") as pool:
        yield from pool.map(work, parts)  # map's results cancel the parts not started when closed early
