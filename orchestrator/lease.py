"""One owner at a time: a lease row per scope, kept alive by a heartbeat.

A run (or the HTTP service) holds the lease of the workflows it runs — see
:func:`salesbus.orchestrator.batch.lease_scope` — before it touches them. The
lease is a row ``(scope, owner, heartbeat_at)``; the owner is
``host:pid:random``. Taking it is one write transaction (the store's writer
uses ``BEGIN IMMEDIATE``, so two processes are serialised by SQLite): insert
the row if there is none, or take it over if its heartbeat is older than the
time-to-live. The holder beats every third of the TTL; a beat that finds the
row owned by someone else means the lease was lost (the process stalled past
the TTL), and the holder stops at once. Leaving deletes the row. A holder
killed with SIGKILL leaves its row: on the same host it is taken over at once
(its pid is gone), from another host once its heartbeat is older than the TTL.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

from .store import Store, StoreError

__all__ = ["DEFAULT_TTL", "LeaseHeld", "hold_lease", "new_owner", "try_acquire"]

DEFAULT_TTL = float(os.environ.get("SALESBUS_LEASE_TTL", "15") or 15)
"""Seconds without a heartbeat after which a lease may be taken over."""


class LeaseHeld(Exception):
    """Another live process holds the lease."""

    def __init__(self, scope: str, owner: str, age: float) -> None:
        super().__init__(
            f"these workflows ({scope}) are being run by {owner} (heartbeat {age:.1f} s ago);"
            " pass --wait to wait for it"
        )
        self.scope, self.owner, self.age = scope, owner, age


_PROCESS_TOKEN = secrets.token_hex(3)
_HELD: dict[tuple[str, str], int] = {}
"""How many blocks of this process hold each (database, scope): the row goes with the last."""


def new_owner() -> str:
    """This process's owner name: several batches run by one process (``salesbus serve``)
    share its leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}"


async def try_acquire(store: Store, scope: str, owner: str, ttl: float = DEFAULT_TTL) -> bool:
    """Take the lease if it is free, ours, lapsed or its owner's process is gone.

    ``False`` when someone else holds it.
    """
    now = time.time()
    held = await store.lease(scope)
    if held is not None and held[0] != owner and _dead_here(held[0]):
        await store.commit(
            [
                (
                    "UPDATE leases SET owner = ?, acquired_at = ?, heartbeat_at = ?"
                    " WHERE scope = ? AND owner = ?",
                    (owner, now, now, scope, held[0]),
                )
            ]
        )
    await store.commit(
        [
            (
                "INSERT OR IGNORE INTO leases (scope, owner, acquired_at, heartbeat_at)"
                " VALUES (?, ?, ?, ?)",
                (scope, owner, now, now),
            ),
            (
                "UPDATE leases SET owner = ?, acquired_at = ?, heartbeat_at = ?"
                " WHERE scope = ? AND owner != ? AND heartbeat_at < ?",
                (owner, now, now, scope, owner, now - ttl),
            ),
        ]
    )
    held = await store.lease(scope)
    return held is not None and held[0] == owner


def _dead_here(owner: str) -> bool:
    """Whether ``owner`` ran on this host in a process that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@asynccontextmanager
async def hold_lease(
    store: Store,
    scope: str,
    *,
    wait: bool = False,
    ttl: float = DEFAULT_TTL,
    on_lost: Callable[[], None] | None = None,
) -> AsyncIterator[str]:
    """Hold ``scope``'s lease for the block; yields the owner name.

    :raises LeaseHeld: another live owner holds it and ``wait`` is false.
    """
    owner = new_owner()
    while not await try_acquire(store, scope, owner, ttl):
        held = await store.lease(scope)
        if not wait:
            if held is None:
                continue  # released between the two reads: try again
            raise LeaseHeld(scope, held[0], max(time.time() - held[1], 0.0))
        await anyio.sleep(min(ttl / 3, 1.0))
    key = (store.path, scope)
    _HELD[key] = _HELD.get(key, 0) + 1
    async with anyio.create_task_group() as beats:
        beats.start_soon(_beat, store, scope, owner, ttl, on_lost)
        try:
            yield owner
        finally:
            beats.cancel_scope.cancel()
            _HELD[key] -= 1
            if not _HELD[key]:
                del _HELD[key]
                with anyio.CancelScope(shield=True):
                    await store.commit(
                        [("DELETE FROM leases WHERE scope = ? AND owner = ?", (scope, owner))]
                    )


async def _beat(
    store: Store, scope: str, owner: str, ttl: float, on_lost: Callable[[], None] | None
) -> None:
    while True:
        await anyio.sleep(ttl / 3)
        try:
            (kept,) = await store.commit(
                [
                    (
                        "UPDATE leases SET heartbeat_at = ? WHERE scope = ? AND owner = ?",
                        (time.time(), scope, owner),
                    )
                ]
            )
        except StoreError:
            continue  # the next beat tries again; the TTL allows for two misses
        if not kept:
            if on_lost is not None:
                on_lost()
            return
