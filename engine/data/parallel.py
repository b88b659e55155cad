"""Running independent batches of work on several cores, cancellably.

Data preparation and phantom generation are embarrassingly parallel (one patient does not
need another) and dominated by image encoding, so a process pool uses every core. Small
jobs run in-process: starting workers costs more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import CardiganError
from ..progress import Cancelled, StopCheck, never_stop

MAX_WORKERS = 8


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    """fork starts workers at once (no re-import of torch), but is only safe from a process
    with a single thread (the CLI); from the app (Qt threads) or off Linux, spawn."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def default_workers(items: int, min_items_per_worker: int = 8) -> int:
    """Workers worth starting for ``items`` units of work (1 means in-process).

    Spawned workers take seconds to start (they import the engine), so they need more work.
    """
    per_worker = min_items_per_worker if _can_fork() else max(min_items_per_worker, 64)
    return max(1, min(available_cores(), MAX_WORKERS, items // per_worker))


def _pool_context():
    return multiprocessing.get_context("fork" if _can_fork() else "spawn")


def _worker_init(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and cleans up
    if initializer is not None:
        initializer(*initargs)


def run_batches(function: Callable[[Any], Any], batches: Sequence[Any], *, workers: int,
                initializer: Callable[..., None] | None = None, initargs: tuple = (),
                should_stop: StopCheck = never_stop, on_start: Callable[[], None] | None = None,
                ) -> Iterator[Any]:
    """Yield ``function(batch)`` for every batch as it finishes (any order).

    ``initializer(*initargs)`` runs once per worker process (or once here when in-process).
    ``on_start`` runs in this process once the workers exist (so threads it starts are never
    inherited by forked children). Raises :class:`Cancelled` when ``should_stop()`` turns
    true; exceptions of ``function`` propagate after the remaining work is cancelled. A stop
    (``Cancelled``, Ctrl-C, an error, the caller closing this generator) ends the workers at
    once rather than waiting for the batches under way: their results are not wanted, and
    whatever they were writing is discarded by the caller once they are gone.
    """
    if workers <= 1 or len(batches) <= 1:
        if initializer is not None:
            initializer(*initargs)
        if on_start is not None:
            on_start()
        for batch in batches:
            if should_stop():
                raise Cancelled()
            yield function(batch)
        return
    executor = ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=_pool_context(),
                                   initializer=_worker_init, initargs=(initializer, initargs))
    finished = False
    try:
        pending = {executor.submit(function, batch) for batch in batches}
        if on_start is not None:
            on_start()
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise CardiganError("a worker process died (out of memory?); try again with "
                                        "fewer workers") from None
                yield result
            if should_stop():
                raise Cancelled()
        finished = True
    finally:
        if finished:
            executor.shutdown(wait=True)
        else:
            _stop_workers(executor)


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """Cancel the work not started and end the workers now.

    Waiting for them instead (``shutdown(wait=True)``) takes as long as a batch, and a second
    Ctrl-C during that wait leaves the pool's manager thread joining workers that never hear
    the end: the process then hangs at exit. Ended workers cannot leave it hanging, with one
    exception: a worker ended part way through sending its result leaves the manager thread
    waiting for the rest of that message, which never comes while this process still holds
    the result pipe's writing end. Closing that end lets the manager read the end of the pipe,
    call the pool broken and finish, so the interpreter can exit.
    """
    processes = list((getattr(executor, "_processes", None) or {}).values())
    manager = getattr(executor, "_executor_manager_thread", None)
    results = getattr(executor, "_result_queue", None)
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
    if results is not None:
        results._writer.close()
    if manager is not None:
        manager.join()
