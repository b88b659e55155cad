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
        assert window.model_watch.path == model
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
        assert window.model_watch.path is None  # a built-in model is not a file to watch
    finally:
        close_window(window)
