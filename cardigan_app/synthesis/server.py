"""The synthesis child process: holds the model and renders masks sent over a pipe.

Running the model in its own process keeps it off the GUI thread *and* off the GUI
process's interpreter lock, so painting stays smooth while the CPU works on an image, and
a model that crashes or runs out of memory takes down only this process. No Qt here.

Messages in: :class:`LoadRequest`, :class:`RenderRequest`, :class:`CineRequest`,
:class:`StopRequest`. Messages out: :class:`ModelInfo`, :class:`LoadFailure`,
:class:`RenderedImage`, :class:`CineFrames`, :class:`RenderFailure` (all in :mod:`.jobs`).

A load runs on a thread of its own, so the previous model keeps rendering until the new one
is ready; a load that finishes after a newer one was asked for is discarded.
"""

from __future__ import annotations

import os
import signal
import threading

from engine.errors import one_line

from .host import ModelHost
from .jobs import (CineRequest, LoadFailure, LoadRequest, RenderedImage, RenderFailure, RenderRequest,
                   StopRequest)

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
            send(LoadFailure(model_id, spec, device, one_line(exc, "loading the model")))
            return
        with lock:
            if model_id != state["newest"]:
                return  # a newer load was asked for meanwhile
            state["host"] = host
            conn.send(host.info)  # before any image made with it

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if isinstance(message, StopRequest):
            break
        if isinstance(message, LoadRequest):
            with lock:
                state["newest"] = message.model_id
            threading.Thread(target=load, args=(message.model_id, message.spec, message.device),
                             daemon=True).start()
        elif isinstance(message, (RenderRequest, CineRequest)):
            with lock:
                host = state["host"]
            if host is None:
                send(RenderFailure(message.serial, 0, "no model is loaded yet"))
                continue
            if isinstance(message, CineRequest):
                try:
                    send(host.render_cine(message))
                except Exception as exc:  # noqa: BLE001
                    send(RenderFailure(message.serial, host.info.model_id, one_line(exc, "the cine loop")))
                continue
            try:
                image, note, elapsed = host.render(message.labels, message.seed, message.fan, message.anchor)
            except Exception as exc:  # noqa: BLE001
                send(RenderFailure(message.serial, host.info.model_id, one_line(exc, "synthesis")))
            else:
                send(RenderedImage(message.serial, host.info.model_id, image, note, elapsed))

    try:
        conn.close()
    except OSError:
        pass
