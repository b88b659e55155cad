"""The synthesis child process: holds the model and renders masks sent over a pipe.

Running the model in its own process keeps it off the GUI thread *and* off the GUI
process's interpreter lock, so painting stays smooth while the CPU works on an image, and
a model that crashes or runs out of memory takes down only this process. No Qt here.

Messages in:  ``("load", model_id, spec, device)``, ``("render", serial, labels, seed)``,
``("stop",)``. Messages out: ``("loaded", ModelInfo)``, ``("load_failed", LoadFailure)``,
``("image", serial, model_id, image, note, elapsed_s)``,
``("render_failed", serial, model_id, message)``.

A load runs on a thread of its own, so the previous model keeps rendering until the new one
is ready; a load that finishes after a newer one was asked for is discarded.
"""

from __future__ import annotations

import os
import signal
import threading

from .host import ModelHost, one_line
from .jobs import LoadFailure

NICENESS = 5  # below the GUI: when the cores are busy, the window is served first


def serve(conn, niceness: int = NICENESS) -> None:
    # Ctrl+C in a terminal reaches the whole process group; the app decides when this ends
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:
            pass
    lock = threading.Lock()  # guards ``host`` and the pipe's sending end
    state: dict = {"host": None, "newest": 0}

    def send(message) -> None:
        with lock:
            conn.send(message)

    def load(model_id: int, spec: str, device: str) -> None:
        try:
            host = ModelHost.open(model_id, spec, device)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            send(("load_failed", LoadFailure(model_id, spec, device, one_line(exc, "loading the model"))))
            return
        with lock:
            if model_id != state["newest"]:
                return  # a newer load was asked for meanwhile
            state["host"] = host
            conn.send(("loaded", host.info))  # before any image made with it

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        kind = message[0]
        if kind == "stop":
            break
        if kind == "load":
            _, model_id, spec, device = message
            with lock:
                state["newest"] = model_id
            threading.Thread(target=load, args=(model_id, spec, device), daemon=True).start()
        elif kind == "render":
            _, serial, labels, seed = message
            with lock:
                host = state["host"]
            if host is None:
                send(("render_failed", serial, 0, "no model is loaded yet"))
                continue
            try:
                image, note, elapsed = host.render(labels, seed)
            except Exception as exc:  # noqa: BLE001
                send(("render_failed", serial, host.info.model_id, one_line(exc, "synthesis")))
            else:
                send(("image", serial, host.info.model_id, image, note, elapsed))
    try:
        conn.close()
    except OSError:
        pass
