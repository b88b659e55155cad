"""``run_batches``: independent batches on several worker processes, stopped at once."""

from __future__ import annotations

import os
import threading
import time

import pytest

from engine.data.parallel import _pool_context, run_batches
from engine.progress import Cancelled

_shared = {}


def _keep_shared(started, release, pid) -> None:
    _shared.update(started=started, release=release, pid=pid)


def _held_batch(batch: int) -> int:
    """Batch 0 says it started and waits for the release; the others wait for nothing."""
    if batch == 0:
        _shared["pid"].value = os.getpid()
        _shared["started"].set()
        while not _shared["release"].value:  # polled: a worker ended inside an Event's wait
            time.sleep(0.05)                 # would leave the Event's lock to nobody
    return batch


def test_a_stop_ends_the_workers_without_waiting_for_the_batch_under_way():
    # waiting for a worker's batch is what a second Ctrl-C cut short, leaving the process
    # hanging at exit on workers that never heard the end
    context = _pool_context()
    started, release, pid = context.Event(), context.Value("b", 0), context.Value("i", 0)

    def let_go():
        release.value = 1

    safety = threading.Timer(30, let_go)  # a pool that waits is let go, and the test fails
    batches = run_batches(_held_batch, [0, 1, 2, 3], workers=2, initializer=_keep_shared,
                          initargs=(started, release, pid), should_stop=started.is_set,
                          on_start=safety.start)
    try:
        with pytest.raises(Cancelled):
            list(batches)
        assert not release.value
        with pytest.raises(ProcessLookupError):
            os.kill(pid.value, 0)
    finally:
        safety.cancel()
        let_go()


_STOPPED_WHILE_SENDING = """
from engine.data.parallel import run_batches

def large(batch):
    return bytes(40_000_000)  # far more than a pipe holds: its sender is ended part way

if __name__ == "__main__":
    batches = run_batches(large, list(range(6)), workers=2)
    next(batches)
    batches.close()
    print("stopped", flush=True)
"""


def test_a_worker_ended_while_sending_its_result_does_not_hang_the_exit():
    # the pool's manager thread waited for the rest of the message for ever, and the
    # interpreter waits for that thread at exit: the error was printed, the process never ended
    import subprocess
    import sys

    # run from the checkout under test (-c puts it first on the path), not an installed engine
    done = subprocess.run([sys.executable, "-c", _STOPPED_WHILE_SENDING], capture_output=True, text=True,
                          timeout=90, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "stopped"
