"""The studio reloads the model file it draws with when the file is rewritten on disk."""

from __future__ import annotations

import os

import numpy as np

from cardigan_app.testing import close_window, make_model_file, open_window


def rewrite(model, tmp_path, seed):
    """Replace ``model`` as a training checkpoint does: a whole new file renamed over it."""
    fresh = make_model_file(tmp_path / f"fresh{seed}.safetensors", seed=seed)
    os.replace(fresh, model)


def test_a_rewritten_model_file_is_reloaded_and_drawn_with(qtbot, tmp_path):
    (tmp_path / "run").mkdir()
    model = make_model_file(tmp_path / "run" / "model.safetensors", seed=0)
    typed = os.path.join(str(tmp_path), "run", ".", "model.safetensors")  # a spec as a user may type it
    window = open_window(qtbot, tmp_path, typed)
    try:
        assert window.models.watch.path == model
        before = window.live.last_result.image.copy()
        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000) as loaded:
            rewrite(model, tmp_path, seed=1)
        assert loaded.args[0].spec == typed
        qtbot.waitUntil(lambda: window.live.last_result is not None
                        and not np.array_equal(window.live.last_result.image, before), timeout=20_000)
        after = window.live.last_result.image.copy()
        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000):  # and again: the watch survived
            rewrite(model, tmp_path, seed=2)
        qtbot.waitUntil(lambda: not np.array_equal(window.live.last_result.image, after), timeout=20_000)
        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000):
            window.load_model("simulator")
        assert window.models.watch.path is None  # a built-in model is not a file to watch
    finally:
        close_window(window)


def test_a_model_file_rewritten_while_it_loads_is_loaded_again(qtbot, tmp_path, monkeypatch):
    """The weights read are the old ones: the file seen once the load is done must not count
    as the one loaded."""
    import threading

    from cardigan_app.synthesis.host import ModelHost

    (tmp_path / "run").mkdir()
    model = make_model_file(tmp_path / "run" / "model.safetensors", seed=0)
    window = open_window(qtbot, tmp_path, "simulator", backend="thread")
    try:
        opened = ModelHost.open.__func__
        read, rewritten = threading.Event(), threading.Event()

        def slow_open(cls, model_id, spec, device):
            host = opened(cls, model_id, spec, device)
            if spec == str(model) and not read.is_set():
                read.set()
                rewritten.wait(10)  # the checkpoint is replaced before the load is done
            return host

        monkeypatch.setattr(ModelHost, "open", classmethod(slow_open))
        loads = []
        window.live.modelLoaded.connect(lambda info: loads.append(info.spec))
        window.load_model(str(model))
        qtbot.waitUntil(read.is_set, timeout=20_000)
        rewrite(model, tmp_path, seed=1)
        rewritten.set()
        qtbot.waitUntil(lambda: loads.count(str(model)) >= 2, timeout=20_000)  # and again, with the new weights
        expected = window.live.model.model_id
        qtbot.waitUntil(lambda: window.live.last_result.model_id == expected, timeout=20_000)
        assert window.models.watch.path == model
    finally:
        close_window(window)


def test_a_dropped_training_run_folder_draws_with_its_model_and_watches_it(qtbot, tmp_path):
    """A run folder dropped on the window is the run's model file: drawn with, and watched
    for the run's newer weights."""
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    model = make_model_file(tmp_path / "run" / "model.safetensors", seed=0)
    window = open_window(qtbot, tmp_path, "simulator")
    try:
        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000) as loaded:
            assert window.open_any(tmp_path / "run")
        assert loaded.args[0].spec == str(model)
        assert window.models.watch.path == model
    finally:
        close_window(window)
