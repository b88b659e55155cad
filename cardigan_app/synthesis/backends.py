"""Where the model runs: a child process (default) or threads of this process.

Both backends take the same requests and report through the same signals, always from a
background thread (so the GUI thread receives them queued and never waits):

- :meth:`load` a model; ``modelLoaded(ModelInfo)`` or ``modelFailed(LoadFailure)``. The
  previous model keeps working until the new one is ready.
- :meth:`submit` a :class:`SynthesisJob`. Only the newest job waiting is kept: a burst of
  submissions (every brush dab) costs the job already running plus one for the newest
  state. ``imageReady(SynthesisResult)`` for the main image, then ``variationReady`` for
  each variation seed, unless a newer job arrived meanwhile; ``renderFailed`` on errors.
  Variations are made one at a time, and a newer job stops the one being made between the
  network's layers (its picture is never reported), so an edit's image waits for a layer at
  most, not for a whole variation.

Stopping the thread backend (the window closing) waits a while for its threads; one still
busy after that (a large model loading from a slow disk: a load cannot be interrupted) is
let go of: taken from the backend, so it is not destroyed with it while it runs (which
aborts the process), and kept until it ends, its answer dropped. The interpreter's exit
waits for such threads as long as they need, saying so (:func:`wait_for_released_threads`),
as :mod:`cardigan_app.tasks` waits for background tasks.
"""

from __future__ import annotations

import atexit
import multiprocessing
import sys
import threading
import types
import traceback
from multiprocessing.connection import wait
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from engine.progress import Cancelled

from ..wording import studio_line
from .host import ModelHost
from .jobs import (CancelRequest, CineFailure, CineFrames, CineRequest, LoadFailure, LoadRequest, ModelInfo,
                   RenderCancelled, RenderedImage, RenderFailure, StopRequest, SynthesisFailure, SynthesisJob,
                   SynthesisResult, VariationResult)
from .server import PRELOAD

_exiting = False
STOP_WAIT_MS = 15000  # how long stopping the thread backend waits for each of its threads
# threads a stopped backend let go of while they still ran: kept here until they end
_RELEASED: list[QThread] = []


@atexit.register
def _note_exit() -> None:
    """At interpreter exit children are terminated on purpose: do not restart them."""
    global _exiting
    _exiting = True


def wait_for_released_threads() -> int:
    """Wait, however long it takes, for the threads stopped backends let go of (run at exit:
    a QThread destroyed while it runs aborts the process); how many there were to wait for."""
    running = [thread for thread in _RELEASED if not thread.isFinished()]
    if running:
        print("cardigan: waiting for the model still being loaded (or used) to finish before closing",
              file=sys.stderr, flush=True)
    for thread in running:
        thread.wait()
    _RELEASED.clear()
    return len(running)


atexit.register(wait_for_released_threads)


class Backend(QObject):
    modelLoaded = Signal(object)  # ModelInfo
    modelFailed = Signal(object)  # LoadFailure
    imageReady = Signal(object)  # SynthesisResult
    variationReady = Signal(object)  # VariationResult
    renderFailed = Signal(object)  # SynthesisFailure
    cineReady = Signal(object)  # CineFrames
    cineFailed = Signal(int, str)  # serial, one-line message
    crashed = Signal(str)  # the process running the model died; it has been restarted

    name = "backend"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.computed = 0  # main images made so far (variations not counted)

    def load(self, model_id: int, spec: str, device: str) -> None:
        raise NotImplementedError

    def submit(self, job: SynthesisJob) -> None:
        raise NotImplementedError

    def submit_cine(self, request: CineRequest) -> None:
        """A loop between key frames: made when no image is waiting (newest request wins)."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def report_cine(self, answer) -> None:
        if isinstance(answer, CineFrames):
            self.cineReady.emit(answer)
        else:
            self.cineFailed.emit(answer.serial, answer.message)

    def report(self, job: SynthesisJob, index: int | None, answer) -> None:
        """Emit what one rendering of ``job`` gave: the main image (``index`` None, and the
        variations whose seed is the main one) or variation ``index``; or a failure."""
        if isinstance(answer, RenderFailure):
            self.renderFailed.emit(SynthesisFailure(answer.serial, answer.model_id, answer.message))
            return
        if index is None:
            self.computed += 1
            self.imageReady.emit(SynthesisResult(answer.serial, answer.model_id, job.document, job.revision,
                                                 job.seed, answer.image, job.labels, answer.elapsed_s,
                                                 answer.note, answer.first, job.style_scale, job.fan, job.anchor))
            for i, seed in enumerate(job.variation_seeds):
                if seed == job.seed:  # no second rendering for the main seed
                    self.variationReady.emit(VariationResult(answer.serial, answer.model_id, i, seed, answer.image))
        else:
            self.variationReady.emit(VariationResult(answer.serial, answer.model_id, index,
                                                     job.variation_seeds[index], answer.image))


# -- in-process threads --------------------------------------------------------------------
class LatestRequestThread(QThread):
    """A thread that processes only the newest submitted request; subclasses :meth:`process`."""

    def __init__(self, process, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process = process
        self._condition = threading.Condition()
        self._pending: Any = None
        self._stopping = False

    def submit(self, request: Any) -> None:
        with self._condition:
            self._pending = request
            self._condition.notify()

    def superseded(self) -> bool:
        """Whether newer work (or a stop) is waiting: long jobs check it to give way early."""
        with self._condition:
            return self._pending is not None or self._stopping

    def stop(self, timeout_ms: int = STOP_WAIT_MS) -> bool:
        """Ask the thread to end once its request is done and wait up to ``timeout_ms``; a
        thread still running then is let go of (see the module docstring). Whether it ended."""
        with self._condition:
            self._stopping = True
            self._pending = None
            self._condition.notify()
        if self.wait(timeout_ms):
            return True
        _RELEASED[:] = [thread for thread in _RELEASED if not thread.isFinished()]
        _RELEASED.append(self)
        self.setParent(None)  # not destroyed with its parent while it runs
        return False

    def run(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    return
                request, self._pending = self._pending, None
            try:
                self._process(request)
            except Exception:  # a bug: report it, keep the thread alive
                traceback.print_exc()


class ThreadBackend(Backend):
    """Runs the model on two threads of this process (one loads, one renders)."""

    name = "thread"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._host: ModelHost | None = None
        self._newest_load: int | None = 0  # the load whose model is taken; None once stopped
        self._renderer = LatestRequestThread(self._render, self)
        self._loader = LatestRequestThread(self._load, self)
        self._cine = LatestRequestThread(self._render_cine, self)
        self._renderer.start()
        self._loader.start()
        self._cine.start()

    def load(self, model_id: int, spec: str, device: str) -> None:
        with self._lock:
            self._newest_load = model_id
        self._loader.submit((model_id, spec, device))

    def submit(self, job: SynthesisJob) -> None:
        self._renderer.submit(job)

    def submit_cine(self, request: CineRequest) -> None:
        self._cine.submit(request)

    def stop(self, wait_ms: int = STOP_WAIT_MS) -> None:
        """Stop the threads, waiting up to ``wait_ms`` for each; a model still loading is let
        go of and what it loads dropped (see the module docstring)."""
        with self._lock:
            self._newest_load = None  # no load is reported now
        for thread in (self._renderer, self._loader, self._cine):
            thread.stop(wait_ms)

    def _render_cine(self, request: CineRequest) -> None:
        with self._lock:
            host = self._host
        if host is None:
            self.cineFailed.emit(request.serial, "no model is loaded yet")
            return
        try:
            answer = host.render_cine(request, self._cine.superseded)
        except Cancelled:
            answer = CineFailure(request.serial, host.info.model_id, "a newer loop was asked for")
        except Exception as exc:  # noqa: BLE001
            answer = CineFailure(request.serial, host.info.model_id, studio_line(exc, "the cine loop"))
        self.report_cine(answer)

    def _load(self, request: tuple[int, str, str]) -> None:
        model_id, spec, device = request
        try:
            host = ModelHost.open(model_id, spec, device)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            with self._lock:
                if self._newest_load is None:  # stopped meanwhile: no one to tell
                    return
            self.modelFailed.emit(LoadFailure(model_id, spec, device, studio_line(exc, "loading the model")))
            return
        with self._lock:
            if model_id != self._newest_load:
                return
            self._host = host
        self.modelLoaded.emit(host.info)

    def _render(self, job: SynthesisJob) -> None:
        with self._lock:
            host = self._host
        if host is None:
            self.renderFailed.emit(SynthesisFailure(job.serial, 0, "no model is loaded yet"))
            return
        model_id = host.info.model_id
        for position, (index, seed) in enumerate(job.seeds_to_render()):
            if position and self._renderer.superseded():
                return
            try:
                made = host.render(job.labels, seed, job.fan, job.anchor, job.style_scale,
                                   None if index is None else self._renderer.superseded)
                answer = RenderedImage(job.serial, model_id, made.image, made.note, made.elapsed_s, made.first)
            except Cancelled:  # a variation, given way to a newer job
                return
            except Exception as exc:  # noqa: BLE001
                answer = RenderFailure(job.serial, model_id, studio_line(exc, "synthesis"))
            self.report(job, index, answer)
            if isinstance(answer, RenderFailure):
                return


# -- a child process -----------------------------------------------------------------------
_context = None


def process_context():
    """forkserver where available (children fork in milliseconds from a clean server that
    has torch imported and no threads), else spawn."""
    global _context
    if _context is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(PRELOAD)
        else:
            _context = multiprocessing.get_context("spawn")
    return _context


class ProcessBackend(Backend):
    """Runs the model in a child process (:mod:`.server`), fed by a dispatcher thread here.

    The dispatcher sends one render at a time and waits for its answer, so jobs that pile up
    meanwhile collapse into the newest; a job that comes while a variation is made sends the
    child a :class:`CancelRequest` (once). If the child dies it is restarted and ``crashed``
    is emitted (the caller reloads the model).
    """

    name = "process"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = process_context()
        self._lock = threading.Lock()
        self._job: SynthesisJob | None = None
        self._cine: CineRequest | None = None
        self._loads: list[tuple[int, str, str]] = []
        self._stopping = False
        self._wake_pending = False
        self._rendering = False  # a render is in flight: its answer wakes the dispatcher anyway
        self._cancellable = False  # a variation is in flight and no cancel was sent for it
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._start_child()
        self._thread = threading.Thread(target=self._run, name="synthesis-dispatch", daemon=True)
        self._thread.start()

    def _start_child(self) -> None:
        from .server import loop_gate_requested, serve, synthesis_threads

        self._conn, child_end = self._ctx.Pipe()
        # the child's environment is the fork server's, not this process's: a test hook asked
        # for here travels as an argument
        self._child = self._ctx.Process(target=serve, args=(child_end,),
                                        kwargs={"loop_gate": loop_gate_requested(), "threads": synthesis_threads()},
                                        name="cardigan-synthesis", daemon=True)
        # multiprocessing re-imports the parent's main script in the child unless it is
        # guarded by ``if __name__ == "__main__"``; the child needs nothing from it, so hide
        # it while starting and an unguarded script that opens the studio still works
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            self._child.start()
        finally:
            if main is not None:
                sys.modules["__main__"] = main
        child_end.close()

    # -- requests (any thread) -----------------------------------------------------------
    def _wake(self) -> None:
        if not self._wake_pending:
            self._wake_pending = True
            self._wake_w.send_bytes(b"!")

    def load(self, model_id: int, spec: str, device: str) -> None:
        with self._lock:
            self._loads.append((model_id, spec, device))
            self._wake()

    def submit(self, job: SynthesisJob) -> None:
        with self._lock:
            self._job = job
            if not self._rendering or self._cancellable:  # no need to wake the dispatcher (and take the GIL) per dab
                self._wake()

    def submit_cine(self, request: CineRequest) -> None:
        with self._lock:
            self._cine = request
            if not self._rendering:
                self._wake()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake()
        self._thread.join(timeout=10)
        self._child.join(timeout=5)
        if self._child.is_alive():
            self._child.terminate()
            self._child.join(timeout=2)
        for end in (self._conn, self._wake_r, self._wake_w):
            end.close()

    @property
    def pid(self) -> int | None:
        return self._child.pid

    # -- the dispatcher thread -----------------------------------------------------------
    def _run(self) -> None:
        in_flight: tuple | None = None  # (job, variation index or None for the main image)
        cine_flight: CineRequest | None = None  # a loop being made: images still go (between its batches)
        pending: list = []  # (job, variation index or None, seed) still to render
        cancellable = False  # a variation is in flight and no cancel was sent for it
        again = False  # a job came in while nothing was rendering, without waking us
        while True:
            ready = wait([self._conn, self._wake_r], timeout=0 if again else None)
            if self._wake_r in ready:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
                with self._lock:
                    self._wake_pending = False
            if self._conn in ready:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    if self._stopping or _exiting:
                        return
                    self._lost(cine_flight)
                    if not self._restart_child():
                        return
                    in_flight, cine_flight, pending = None, None, []
                    continue
                if isinstance(message, (CineFrames, CineFailure)):
                    if cine_flight is not None and message.serial == cine_flight.serial:
                        cine_flight = None  # (the answer to a loop a newer one ended leaves that one in flight)
                    self.report_cine(message)
                elif isinstance(message, RenderCancelled) and in_flight is not None:
                    in_flight = None  # a variation given way to a newer job
                elif isinstance(message, (RenderedImage, RenderFailure)) and in_flight is not None:
                    (job, index), in_flight = in_flight, None
                    self.report(job, index, message)
                    if isinstance(message, RenderFailure):
                        pending = []
                elif isinstance(message, ModelInfo):
                    self.modelLoaded.emit(message)
                elif isinstance(message, LoadFailure):
                    self.modelFailed.emit(message)
            with self._lock:
                stopping, loads, job, cine = self._stopping, self._loads, self._job, self._cine
                self._loads = []
                if in_flight is None:
                    self._job = None
            try:
                if stopping:
                    self._conn.send(StopRequest())
                    return
                for load in loads:
                    self._conn.send(LoadRequest(*load))
                if in_flight is not None and in_flight[1] is not None and job is not None and cancellable:
                    self._conn.send(CancelRequest())  # a variation is made: a newer job's image goes first
                    cancellable = False
                if in_flight is None and job is not None:  # a newer job: its main image first
                    pending = [(job, index, seed) for index, seed in job.seeds_to_render()]
                if in_flight is None and pending:
                    next_job, index, seed = pending.pop(0)
                    self._conn.send(next_job.request(seed, variation=index is not None))
                    in_flight, cancellable = (next_job, index), index is not None
                if in_flight is None and cine is not None:  # images first; a loop being made gives way to it
                    with self._lock:
                        self._cine = None
                    self._conn.send(cine)
                    cine_flight = cine
            except (OSError, ValueError):
                if stopping or _exiting:
                    return
                self._lost(cine_flight)
                if not self._restart_child():
                    return
                in_flight, cine_flight, pending = None, None, []
            with self._lock:
                self._rendering = in_flight is not None  # an image's answer wakes the dispatcher; a loop's may be slow
                self._cancellable = in_flight is not None and cancellable
                again = in_flight is None and (self._job is not None or self._cine is not None)

    def _lost(self, cine_flight: CineRequest | None) -> None:
        """The child died with ``cine_flight`` unanswered: the loop is answered as failed. An
        image is asked for again by the live synthesis once the model is back, so one waiting
        is dropped (sent to the new child before any model, it failed with a message that
        replaced the crash's)."""
        with self._lock:
            self._job = None
        if cine_flight is not None:
            self.cineFailed.emit(cine_flight.serial, "the synthesis process stopped while making the loop; "
                                                     "press play to make it again")

    def _restart_child(self) -> bool:
        """Start a new child after the old one died; False (and ``crashed``) if that fails."""
        self._child.join(timeout=2)
        code = self._child.exitcode
        try:
            self._conn.close()
        except OSError:
            pass
        print(f"cardigan: the synthesis process stopped (exit code {code}); restarting it", file=sys.stderr)
        try:
            self._start_child()
        except Exception as exc:  # noqa: BLE001 - cannot start processes any more
            self.crashed.emit(f"the synthesis process stopped (exit code {code}) and could not be restarted "
                              f"({type(exc).__name__}); restart the app")
            return False
        self.crashed.emit(f"the synthesis process stopped unexpectedly (exit code {code}); it was restarted")
        return True
