"""The log key: with ``COMPLIANCE_LOG_KEY`` set, each record's chain hash is an HMAC-SHA256 under
the key instead of a plain sha256, so that whoever rewrites the log without the key cannot make
its hashes match again. A batch stores the key's id (never the key), so that a verifier knows
which records are keyed and whether with its key."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from .schema import LogError

KEY_VARIABLE = "COMPLIANCE_LOG_KEY"


@dataclass(frozen=True)
class LogKey:
    """A log key: its bytes (never shown) and its id, the first 8 bytes of HMAC-SHA256(key,
    "key-id") in hex, which names the key without revealing it."""

    secret: bytes = field(repr=False)

    @cached_property
    def id(self) -> str:
        return hmac.new(self.secret, b"key-id", hashlib.sha256).hexdigest()[:16]


def log_key(environ: Mapping[str, str] = os.environ) -> LogKey | None:
    """The key ``COMPLIANCE_LOG_KEY`` holds (its UTF-8 bytes), None when it is not set; a variable
    set to nothing is refused rather than taken for no key."""
    value = environ.get(KEY_VARIABLE)
    if value is None:
        return None
    if not value:
        raise LogError(f"{KEY_VARIABLE} is set but empty: set it to the log key, or unset it")
    return LogKey(os.fsencode(value))


def keyed_hash(key: LogKey | None, data: bytes) -> bytes:
    """sha256 of ``data`` (32 bytes), or HMAC-SHA256 under ``key`` when there is one."""
    if key is None:
        return hashlib.sha256(data).digest()
    return hmac.new(key.secret, data, hashlib.sha256).digest()
