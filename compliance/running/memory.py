"""Handing freed memory back to the operating system between the phases of a large batch.

A batch review allocates and frees many large numpy arrays. glibc's allocator moves its mmap
threshold up as big blocks are freed, so later arrays come from the heap, and the freed heap
pages stay counted in the process's resident memory: a million-notice review then peaks near
2.8 GB for 1.7 GB actually live. ``malloc_trim(0)`` returns free heap pages; elsewhere (macOS,
musl) this does nothing. Arrow's own allocator (mimalloc or jemalloc, per thread) keeps freed
pages as well, the text columns' among them: ``release_unused`` returns those.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow

_libc_name = ctypes.util.find_library("c")
_malloc_trim = getattr(ctypes.CDLL(_libc_name), "malloc_trim", None) if _libc_name else None


def release_free_memory() -> None:
    """Return the allocators' free pages to the operating system (glibc's heap, Arrow's pool)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
    pyarrow.default_memory_pool().release_unused()
