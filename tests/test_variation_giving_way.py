"""A variation being made gives way to an edit's image: stopped between the network's layers,
never reported, on both backends (the process backend's dispatcher and server run here on a
thread, with a model host whose variations of one mask take until they are stopped)."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
import types

import numpy as np
import pytest

from cardigan_app.synthesis import backends, server
from cardigan_app.synthesis.host import Rendering
from cardigan_app.synthesis.jobs import (CancelRequest, LoadRequest, ModelInfo, RenderCancelled, RenderedImage,
                                         RenderRequest, StopRequest, SynthesisJob)
from engine.progress import Cancelled

SLOW = 1  # a mask whose first pixel is this: its variations run until they are stopped


class SlowVariations:
    """A model host: a variation of a SLOW mask asks ``should_stop`` until it says True (or 30 s)."""

    started = threading.Event()

    def __init__(self, info: ModelInfo) -> None:
        self.info = info

    @classmethod
    def open(cls, model_id: int, spec: str, device: str) -> "SlowVariations":
        return cls(ModelInfo(model_id, spec, device, "fake", True))

    def render(self, labels, seed, fan=None, anchor=None, style_scale=None, should_stop=None) -> Rendering:
        if should_stop is not None and labels[0, 0] == SLOW:
            type(self).started.set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if should_stop():
                    raise Cancelled("stopped")
                time.sleep(0.002)
        return Rendering(np.full(labels.shape, seed, np.uint8), "", 0.0, False)


def start_server_thread(backend) -> None:
    """ProcessBackend._start_child, with the server on a thread of this process."""
    backend._conn, child_end = multiprocessing.Pipe()
    backend._child = threading.Thread(target=server.serve, args=(child_end,), kwargs={"niceness": 0}, daemon=True)
    backend._child.start()


@pytest.fixture
def slow_host(monkeypatch):
    SlowVariations.started.clear()
    monkeypatch.setattr(server, "ModelHost", SlowVariations)
    monkeypatch.setattr(backends, "ModelHost", SlowVariations)
    monkeypatch.setattr(backends.ProcessBackend, "_start_child", start_server_thread)
    # the server, on a thread here, leaves this process's signals as they are
    monkeypatch.setattr(server, "signal", types.SimpleNamespace(signal=lambda *_: None, SIGINT=signal.SIGINT,
                                                                SIG_IGN=signal.SIG_IGN))


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_an_edit_stops_the_variation_being_made_and_its_image_comes_next(qtbot, slow_host, kind):
    backend = {"process": backends.ProcessBackend, "thread": backends.ThreadBackend}[kind]()
    answers: list = []
    backend.imageReady.connect(lambda r: answers.append((r.serial, "image")))
    backend.variationReady.connect(lambda v: answers.append((v.serial, v.index)))
    try:
        with qtbot.waitSignal(backend.modelLoaded, timeout=10_000):
            backend.load(1, "fake", "cpu")
        backend.submit(SynthesisJob(1, 1, 1, np.full((8, 8), SLOW, np.uint8), 0, (1, 2)))
        qtbot.waitUntil(SlowVariations.started.is_set, timeout=10_000)
        backend.submit(SynthesisJob(2, 1, 2, np.zeros((8, 8), np.uint8), 0, (1, 2)))
        qtbot.waitUntil(lambda: len(answers) == 4, timeout=10_000)
        qtbot.wait(20)  # nothing more comes
        assert answers == [(1, "image"), (2, "image"), (2, 0), (2, 1)]
    finally:
        backend.stop()


def test_the_server_answers_a_cancelled_variation_and_ignores_a_cancel_that_comes_late(slow_host):
    app_end, child_end = multiprocessing.Pipe()
    thread = threading.Thread(target=server.serve, args=(child_end,), kwargs={"niceness": 0}, daemon=True)
    thread.start()
    try:
        app_end.send(LoadRequest(1, "fake", "cpu"))
        assert isinstance(app_end.recv(), ModelInfo)
        slow, other = np.full((8, 8), SLOW, np.uint8), np.zeros((8, 8), np.uint8)
        app_end.send(RenderRequest(1, other, 3, variation=True))
        assert isinstance(app_end.recv(), RenderedImage)
        app_end.send(CancelRequest())  # too late: nothing is being made
        app_end.send(RenderRequest(2, slow, 4))  # a main image is never stopped
        assert app_end.recv().serial == 2
        app_end.send(RenderRequest(3, slow, 5, variation=True))
        app_end.send(CancelRequest())
        assert app_end.recv() == RenderCancelled(3, 1)
        app_end.send(StopRequest())
        thread.join(5)
        assert not thread.is_alive()
    finally:
        app_end.close()
