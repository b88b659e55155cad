"""The synthesis child process: holds the model and renders masks sent over a pipe.

Running the model in its own process keeps it off the GUI thread *and* off the GUI
process's interpreter lock, so painting stays smooth while the CPU works on an image, and
a model that crashes or runs out of memory takes down only this process. No Qt here.

Messages in: :class:`LoadRequest`, :class:`RenderRequest`, :class:`CancelRequest`,
:class:`CineRequest`, :class:`StopRequest`. Messages out: :class:`ModelInfo`, :class:`LoadFailure`,
:class:`RenderedImage`, :class:`RenderCancelled`, :class:`CineFrames`, :class:`RenderFailure`,
:class:`CineFailure` (all in :mod:`.jobs`). While a loop is made, the images asked for meanwhile
are made between its batches of frames, so painting stays live; a newer loop (or a stop) ends
it early. While a variation is made, the pipe is looked at between the network's layers: a
:class:`CancelRequest` (the app has an edit's image waiting) or a stop ends it there, answered
:class:`RenderCancelled`; a cancel that comes after it was made is ignored.

The process runs torch on every core it may use, but one on a machine of more than two
(:func:`synthesis_threads`), left to the window: OpenMP threads wait for each other at every
layer, so when the window takes one of their cores while painting, a pass on all of them
stalls until it gives the core back (on a 2-core machine loaded by other work a full pass of
the bundled model took 15 times as long on two threads as on one). On two cores, though, one
thread costs more than the stalls save on a quiet machine (a stroke to its image 58-75 ms on
two threads against 124-128 ms on one, docs/performance.md), so both are used there.

A load runs on a thread of its own, so the previous model keeps rendering until the new one
is ready; a load that finishes after a newer one was asked for is discarded.

Test hook: with :data:`LOOP_GATE` naming a file in the app's environment when it starts
this process (``serve(..., loop_gate=path)``), the first loop the process makes stops after
its first batch of frames, creates that file, and waits there until the app's next message
is in the pipe (at most :data:`GATE_LIMIT_S` seconds). A test waits for the file, then sends
an image or a newer loop: it reaches a loop that is certainly half made, whatever the
machine's speed, and sets it going again. Unset (the app), nothing ever waits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import deque
from pathlib import Path

from engine.progress import Cancelled

from ..wording import studio_line
from .host import ModelHost
from .jobs import (CancelRequest, CineFailure, CineRequest, LoadFailure, LoadRequest, RenderCancelled,
                   RenderedImage, RenderFailure, RenderRequest, StopRequest)

# What the fork server imports once, so that every child it forks starts with it: all a
# model's load and first image import from torch (a test keeps it so; the device context a
# model's size is checked under is imported on first use).
PRELOAD = ["engine.synthesizer", "cardigan_app.synthesis.server", "torch.utils._device"]
NICENESS = 5  # below the GUI: when the cores are busy, the window is served first
LOOP_GATE = "CARDIGAN_TEST_LOOP_GATE"  # the test hook's variable (see the module docstring)
GATE_LIMIT_S = 60.0  # the longest a loop waits at the gate for the app's next message
THREADS = "CARDIGAN_SYNTHESIS_THREADS"  # the threads torch uses in the process, instead of synthesis_threads's


def synthesis_threads(cores: int | None = None) -> int:
    """The threads torch uses in the synthesis process: ``cores`` (those this process may run
    on), but one left to the window when there are more than two; ``$CARDIGAN_SYNTHESIS_THREADS``
    (read in the app's process) sets it instead, and else ``$OMP_NUM_THREADS``, the usual knob
    (a machine shared by several jobs, or test workers given a core each). A value that is not a
    whole number above 0 is said on standard error in one line, and the count is chosen as if
    it were unset."""
    for name in (THREADS, "OMP_NUM_THREADS"):
        asked = os.environ.get(name, "").strip()
        if asked.isdigit() and int(asked) > 0:
            return int(asked)
        if asked:
            print(f"cardigan: {name}={asked!r} is not a whole number above 0, so the synthesis "
                  "threads do not follow it", file=sys.stderr)
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores - 1 if cores > 2 else max(1, cores)


def loop_gate_requested() -> str | None:
    """The gate file the test hook asks for in this (the app's) process's environment."""
    return os.environ.get(LOOP_GATE) or None


def serve(conn, niceness: int = NICENESS, loop_gate: str | None = None, threads: int | None = None) -> None:
    """Answer the app's messages on ``conn`` until it stops; ``threads``: torch's threads here
    (None: left as they are)."""
    # Ctrl+C in a terminal reaches the whole process group; the app decides when this ends
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:
            pass
    if threads:
        import torch  # preloaded by the fork server

        torch.set_num_threads(threads)
    lock = threading.Lock()  # guards ``host`` and the pipe's sending end
    state: dict = {"host": None, "newest": 0, "gate": loop_gate}  # gate: the test hook, until a loop takes it

    def send(message) -> None:
        with lock:
            conn.send(message)

    def load(model_id: int, spec: str, device: str) -> None:
        try:
            host = ModelHost.open(model_id, spec, device)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            send(LoadFailure(model_id, spec, device, studio_line(exc, "loading the model")))
            return
        with lock:
            if model_id != state["newest"]:
                return  # a newer load was asked for meanwhile
            state["host"] = host
            conn.send(host.info)  # before any image made with it

    def start_load(message: LoadRequest) -> None:
        with lock:
            state["newest"] = message.model_id
        threading.Thread(target=load, args=(message.model_id, message.spec, message.device),
                         daemon=True).start()

    waiting: deque = deque()  # messages read while a loop or a variation was made, handled next

    def cancel_asked() -> bool:
        """Whether a cancel or a stop came (a variation's check between layers); a load is
        started, anything else kept for later."""
        asked = False
        while conn.poll():
            incoming = conn.recv()
            if isinstance(incoming, LoadRequest):
                start_load(incoming)
            elif not isinstance(incoming, CancelRequest):
                waiting.append(incoming)
            asked = asked or isinstance(incoming, (CancelRequest, StopRequest))
        return asked

    def render_image(host, message: RenderRequest) -> None:
        try:
            made = host.render(message.labels, message.seed, message.fan, message.anchor, message.style_scale,
                               cancel_asked if message.variation else None)
        except Cancelled:
            send(RenderCancelled(message.serial, host.info.model_id))
        except Exception as exc:  # noqa: BLE001
            send(RenderFailure(message.serial, host.info.model_id, studio_line(exc, "synthesis")))
        else:
            send(RenderedImage(message.serial, host.info.model_id, made.image, made.note, made.elapsed_s, made.first))

    def render_loop(host, message: CineRequest) -> None:
        gate = state.pop("gate", None)  # the test hook: this loop is the first one made
        asked = 0  # how often between_batches was asked: before every batch, the first included

        def between_batches() -> bool:  # the images sent meanwhile first; a newer loop or a stop: give way
            nonlocal asked
            asked += 1
            if waiting:  # read while an image was made between batches: a newer loop or a stop
                return True
            if gate and asked == 2:  # after the first batch
                Path(gate).touch()
                conn.poll(GATE_LIMIT_S)
            while conn.poll():
                incoming = conn.recv()
                if isinstance(incoming, RenderRequest):
                    render_image(host, incoming)
                elif isinstance(incoming, LoadRequest):
                    start_load(incoming)
                elif not isinstance(incoming, CancelRequest):  # (a cancel that came too late: ignored)
                    waiting.append(incoming)
                    return True
            return False

        try:
            send(host.render_cine(message, between_batches))
        except Cancelled:
            send(CineFailure(message.serial, host.info.model_id, "a newer loop was asked for"))
        except Exception as exc:  # noqa: BLE001
            send(CineFailure(message.serial, host.info.model_id, studio_line(exc, "the cine loop")))

    while True:
        try:
            message = waiting.popleft() if waiting else conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if isinstance(message, StopRequest):
            break
        if isinstance(message, LoadRequest):
            start_load(message)
        elif isinstance(message, (RenderRequest, CineRequest)):
            with lock:
                host = state["host"]
            if host is None:
                failure = CineFailure if isinstance(message, CineRequest) else RenderFailure
                send(failure(message.serial, 0, "no model is loaded yet"))
            elif isinstance(message, CineRequest):
                render_loop(host, message)
            else:
                render_image(host, message)

    try:
        conn.close()
    except OSError:
        pass
