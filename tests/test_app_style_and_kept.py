"""The variation strength (style scale) in the studio, and key frames keeping their last image."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from cardigan_app.panels.style_control import StyleControl
from cardigan_app.state import StudioState
from cardigan_app.synthesis import live as live_module
from cardigan_app.synthesis.backends import Backend
from cardigan_app.synthesis.jobs import ModelInfo, RenderedImage
from cardigan_app.testing import close_window, make_model_file, open_window


class CountingBackend(Backend):
    """Answers at once (queued, as a real backend's signals are) with an image made from the
    mask, the seed and the style scale; keeps every job it was given."""

    name = "counting"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.jobs, self.loops, self.model_id = [], [], 0

    def load(self, model_id: int, spec: str, device: str) -> None:
        from engine.models import open_model

        self.model_id = model_id
        info = ModelInfo(model_id, spec, device, "fake", True, open_model("simulator").summary(),
                         own_style_scale=0.4, runs_on="cpu")
        QTimer.singleShot(0, lambda: self.modelLoaded.emit(info))

    def submit(self, job) -> None:
        self.jobs.append(job)
        QTimer.singleShot(0, lambda: self._answer(job))

    def _answer(self, job) -> None:
        for index, seed in job.seeds_to_render():
            style = 0.4 if job.style_scale is None else job.style_scale
            image = np.clip(job.labels.astype(int) * 50 + seed % 37 + round(style * 20), 0, 255).astype(np.uint8)
            self.report(job, index, RenderedImage(job.serial, self.model_id, image, "", 0.001))

    def submit_cine(self, request) -> None:
        self.loops.append(request)

    def stop(self) -> None:
        pass

    def main_images(self) -> int:
        return sum(job.main for job in self.jobs)


@pytest.fixture
def counted(qtbot, tmp_path, monkeypatch):
    monkeypatch.setitem(live_module.BACKENDS, "counting", CountingBackend)
    window = open_window(qtbot, tmp_path, "simulator", backend="counting")
    yield window
    close_window(window)


def thumbnails_filled(window) -> bool:
    return all(not button.icon().isNull() for button in window.synthesis_panel.thumbs)


def test_switching_back_to_a_key_frame_shows_its_image_at_once_and_asks_only_after_a_change(counted, qtbot):
    window, live = counted, counted.live
    backend = live.backend
    qtbot.waitUntil(lambda: thumbnails_filled(window), timeout=5_000)
    ed_image = live.last_result.image
    window.commands["key_frame"].trigger()  # ES: another mask, so another image
    es = window.document
    qtbot.waitUntil(lambda: live.up_to_date() and live.last_result.document == es.id and thumbnails_filled(window),
                    timeout=5_000)
    es_image, asked = live.last_result.image, len(backend.jobs)

    window.commands["key_frame"].trigger()  # back to ED: its image and variations at once, nothing asked
    assert window.echo_view.image is ed_image and window.echo_view.placeholder == ""
    assert thumbnails_filled(window) and window.workspace.busy.text() == "" and live.up_to_date()
    window.commands["key_frame"].trigger()
    assert window.echo_view.image is es_image and len(backend.jobs) == asked

    es.fill(1, 1, 2)  # an edit of ES: its new image is kept; ED, unchanged, still needs none
    qtbot.waitUntil(lambda: live.up_to_date() and len(backend.jobs) == asked + 1, timeout=5_000)
    window.commands["key_frame"].trigger()
    window.commands["key_frame"].trigger()
    assert window.state.key_frame == "ES" and len(backend.jobs) == asked + 1

    window.commands["key_frame"].trigger()  # ED edited: ES takes its far field from ED, so it is made again
    window.document.fill(1, 1, 2)
    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    made = backend.main_images()
    window.commands["key_frame"].trigger()
    assert backend.main_images() == made + 1 and np.array_equal(backend.jobs[-1].anchor, window.key_frames.ed.labels)

    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    window.state.set("seed", 9)  # another seed or strength: the other key frame's image is out of date too
    window.state.set("style_scale", 0.7)
    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    made = backend.main_images()
    window.commands["key_frame"].trigger()
    assert backend.main_images() == made + 1
    assert (backend.jobs[-1].seed, backend.jobs[-1].style_scale) == (9, 0.7)


def kept_variations_back_on_ed(window, qtbot) -> dict:
    """The ED frame's variations shown, ES drawn, ED on screen again: its kept variations."""
    live = window.live
    qtbot.waitUntil(lambda: thumbnails_filled(window), timeout=5_000)
    window.commands["key_frame"].trigger()
    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    window.commands["key_frame"].trigger()
    return live.kept._kept[window.document.id].variations


def test_a_key_frame_switched_back_to_before_its_variations_came_asks_for_those_only(counted, qtbot):
    window, live = counted, counted.live
    backend = live.backend
    kept_variations_back_on_ed(window, qtbot).clear()  # as if ED was left before they came
    window.commands["key_frame"].trigger()
    window.commands["key_frame"].trigger()
    assert not backend.jobs[-1].main and backend.jobs[-1].variation_seeds == live.current_variation_seeds()
    qtbot.waitUntil(lambda: thumbnails_filled(window), timeout=5_000)


def test_a_key_frame_switched_back_to_with_some_variations_kept_draws_only_the_missing_ones(counted, qtbot):
    window, live = counted, counted.live
    backend = live.backend
    kept = kept_variations_back_on_ed(window, qtbot)
    seeds = live.current_variation_seeds()
    del kept[seeds[1]], kept[seeds[4]]  # as if ED was left after four of them came
    window.commands["key_frame"].trigger()
    asked = len(backend.jobs)
    window.commands["key_frame"].trigger()
    assert len(backend.jobs) == asked + 1
    assert backend.jobs[-1].seeds_to_render() == [(1, seeds[1]), (4, seeds[4])]  # two pictures made, not six
    qtbot.waitUntil(lambda: thumbnails_filled(window), timeout=5_000)
    assert set(live.kept._kept[window.document.id].variations) == set(seeds)


def test_the_variation_strength_is_hidden_for_models_it_does_not_change():
    control = StyleControl()
    control.set_model(0.4, True, "Noisy")
    assert not control.isHidden()
    assert control.slider.isEnabled() and control.slider.mark == 40 and control.shown.text() == "0.4 (own)"
    assert not control.reset.isEnabled() and "0.4" in control.reset.toolTip()
    control.set_value(0.7)
    assert control.slider.value() == 70 and control.shown.text() == "0.7" and control.reset.isEnabled()
    given = []
    control.styleChanged.connect(given.append)
    control.reset.click()
    control.slider.setValue(25)
    assert given == [0.0, 0.25]
    control.set_model(None, False, "Tiny")
    assert control.isHidden() and not control.slider.isEnabled() and not control.reset.isEnabled()
    assert control.slider.toolTip().startswith("Tiny is deterministic: the seed does not change its output")
    control.set_model(None, True, "Simulator")
    assert control.isHidden() and control.slider.toolTip().startswith("Simulator has no style channels")
    control.set_model(0.4, True, "Noisy")
    assert not control.isHidden()


def test_the_state_keeps_a_style_scale_between_0_and_1_and_refuses_nan():
    state = StudioState()
    assert state.style_scale == 0.0 and "style_scale" in state.preferences()
    state.set("style_scale", 1.5)
    assert state.style_scale == 1.0
    with pytest.raises(ValueError):
        state.set("style_scale", math.nan)
    assert state.restore({"style_scale": "0.35"}) == [] and state.style_scale == 0.35


def test_the_variation_strength_reaches_the_image_variations_loop_exports_and_settings(qtbot, tmp_path, monkeypatch):
    """The studio draws at the strength chosen what the synthesizer (``cardigan synthesize
    --style-scale``) draws, pixel for pixel, and so do its variations; the loop is asked at it,
    File › Export records it as the command line does, the batch export starts from it, and it
    is there again next time."""
    import SimpleITK as sitk
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    from cardigan_app.settings import AppSettings
    from cardigan_app.synthesis.host import render
    from engine.fileio import sha256_file
    from engine.provenance import read_synthesis_record, synthesizer_record
    from engine.synthesizer import Synthesizer

    model = make_model_file(tmp_path / "noisy.safetensors", noise_nc=8, style_scale=0.4)
    window = open_window(qtbot, tmp_path, str(model), backend="thread")  # the pipe's requests: see below
    try:
        live, control = window.live, window.synthesis_panel.style
        qtbot.waitUntil(lambda: control.slider.isEnabled(), timeout=10_000)
        assert control.slider.mark == 40 and control.shown.text() == "0.4 (own)"
        variations = []
        live.variationShown.connect(variations.append)
        window.state.set("seed", 5)
        with qtbot.waitSignal(window.synthesisShown, timeout=20_000,
                              check_params_cb=lambda r: (r.seed, r.style_scale) == (5, 0.7)):
            control.slider.setValue(70)
        assert window.state.style_scale == 0.7 and control.shown.text() == "0.7"
        shown, labels = live.last_result, window.document.labels.copy()
        synth = Synthesizer(str(model), device="cpu", style_scale=0.7)  # as cardigan synthesize makes it
        assert np.array_equal(shown.image, render(synth, labels, 5)[0])
        qtbot.waitUntil(lambda: any(v.serial == shown.serial for v in variations), timeout=20_000)
        variation = next(v for v in variations if v.serial == shown.serial)
        assert np.array_equal(variation.image, render(synth, labels, variation.seed)[0])

        loops = []
        monkeypatch.setattr(live.backend, "submit_cine", loops.append)
        window.request_loop()
        assert loops[-1].style_scale == 0.7 and loops[-1].seed == 5
        assert live._job().request(3).style_scale == 0.7  # what goes to the synthesis process

        for name in ("export.png", "export.nii.gz"):
            monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, n=name: (str(tmp_path / n), "")))
            assert window.exporter.export_image()
        record = read_synthesis_record(tmp_path / "export.png")
        assert record == synthesizer_record(synth, 5)
        assert np.array_equal(np.asarray(Image.open(tmp_path / "export.png")), shown.image)
        assert (record["model_sha256"], record["seed"], record["style_scale"]) == (sha256_file(model), 5, 0.7)
        assert "seed 5; style 0.7; cpu" in sitk.ReadImage(str(tmp_path / "export.nii.gz")).GetMetaData("descrip")

        dialog = window.data_tools.show_export()
        assert dialog.chosen_style_scale() == 0.7
        dialog.close()

        panel = window.synthesis_panel  # a model without style channels: the control hidden, no room left
        with qtbot.waitSignal(live.modelLoaded, timeout=20_000):
            window.load_model("simulator")
        assert control.isHidden() and "no style channels" in control.slider.toolTip()
        qtbot.waitUntil(lambda: panel.height() == panel.layout().heightForWidth(panel.width()), timeout=5_000)
    finally:
        close_window(window)
    assert float(AppSettings(tmp_path / "settings.ini").stored_preferences()["style_scale"]) == 0.7


def test_a_loop_made_at_the_strength_before_is_neither_shown_nor_exported(counted, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from cardigan_app.synthesis.jobs import CineFrames

    window, live = counted, counted.live
    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    said = []
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *a: said.append(a[2])))

    def made(request) -> CineFrames:
        images = np.zeros((4, *window.document.shape), np.uint8)
        return CineFrames(request.serial, live.generation, images, images, np.linspace(0, 1, 4), 50.0, 25.0, 0.1)

    window.request_loop()
    live.backend.cineReady.emit(made(live.backend.loops[-1]))
    assert window.timeline.frames is not None and not window.timeline.stale
    window.request_loop()
    late = live.backend.loops[-1]
    window.state.set("style_scale", 0.7)  # the loop shown, and the one being made, are of the strength before
    live.backend.cineReady.emit(made(late))
    assert window.timeline.stale and not window.exporter.export_cine(tmp_path / "loop.gif") and said
    window.request_loop()
    assert live.backend.loops[-1].style_scale == 0.7


def test_an_image_kept_for_a_key_frame_is_not_shown_after_another_model_loads(counted, qtbot):
    window, live = counted, counted.live
    backend = live.backend
    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    window.commands["key_frame"].trigger()
    qtbot.waitUntil(lambda: live.up_to_date() and live.last_result.document == window.document.id, timeout=5_000)
    with qtbot.waitSignal(live.modelLoaded, timeout=5_000):
        live.load("simulator")
    qtbot.waitUntil(live.up_to_date, timeout=5_000)
    made = backend.main_images()
    window.commands["key_frame"].trigger()  # ED's kept image was the model before's
    assert backend.main_images() == made + 1 and not live.up_to_date()


def test_an_export_at_the_models_own_strength_records_what_the_command_line_records(tmp_path):
    """The state's 0 (the model's own) is recorded as the model's own scale, as cardigan
    synthesize without --style-scale records it; a model without style channels records none."""
    import dataclasses

    from cardigan_app.export_provenance import image_record
    from cardigan_app.synthesis.host import ModelHost
    from cardigan_app.synthesis.jobs import SynthesisResult
    from engine.provenance import synthesizer_record

    model = make_model_file(tmp_path / "noisy.safetensors", noise_nc=8, style_scale=0.4)
    host = ModelHost.open(1, str(model), "cpu")  # its synthesizer as cardigan synthesize makes it
    result = SynthesisResult(1, 1, 1, 0, 5, np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), 0.0)
    record = image_record(host.info, result)
    assert record == synthesizer_record(host.synthesizer, 5) and record["style_scale"] == 0.4
    plain = dataclasses.replace(host.info, own_style_scale=None)  # as a model without style channels loads
    assert image_record(plain, dataclasses.replace(result, style_scale=0.7))["style_scale"] is None
