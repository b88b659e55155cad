"""Live synthesis in the window: first image, coalescing, models, seeds and variations."""

from __future__ import annotations

import contextlib
import os
import signal
import threading

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt

from cardigan_app.synthesis.host import render
from cardigan_app.synthesis.jobs import VariationResult
from cardigan_app.synthesis.latency import format_duration
from cardigan_app.testing import close_window, drag, make_model_file, open_window, send_mouse
from engine.synthesizer import Synthesizer


@pytest.fixture(scope="module")
def vae_model_file(tmp_path_factory):
    return make_model_file(tmp_path_factory.mktemp("models") / "tiny_vae.safetensors", use_vae=True, seed=1)


@pytest.fixture(params=["process", "thread"])
def any_backend_window(request, qtbot, tmp_path, tiny_model):
    win = open_window(qtbot, tmp_path, str(tiny_model), backend=request.param)
    assert win.live.backend.name == request.param
    yield win
    close_window(win)


def expected_image(tiny_model, labels, seed=0):
    return Synthesizer(str(tiny_model), device="cpu").preview(labels, seed)


@contextlib.contextmanager
def renderer_held(live):
    """Hold the backend's renderer while the block runs: the child process is stopped
    (SIGSTOP), the rendering thread waits at a gate. What was submitted meanwhile is rendered
    after the block, with no timing involved."""
    if live.backend.name == "process":
        os.kill(live.backend.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(live.backend.pid, signal.SIGCONT)
        return
    gate, host = threading.Event(), live.backend._host
    render = host.render
    host.render = lambda *args, **kwargs: gate.wait() and render(*args, **kwargs)
    try:
        yield
    finally:
        gate.set()


def test_the_first_synthesis_arrives_and_matches_the_mask(any_backend_window, tiny_model):
    window = any_backend_window
    result = window.live.last_result
    assert result is not None and result.document == window.document.id
    assert result.image.shape == window.document.shape == (64, 64) and result.image.dtype == np.uint8
    assert np.abs(result.image.astype(int) - expected_image(tiny_model, window.document.labels)).max() <= 1
    assert window.echo_view.image is result.image
    assert "ms" in window.status_widgets.time.text() and window.status_widgets.device.text().startswith("CPU")


def test_a_burst_of_edits_coalesces_and_the_final_image_matches_the_final_mask(any_backend_window, tiny_model,
                                                                               qtbot):
    window = any_backend_window
    canvas, live = window.canvas, window.live
    window.clear_mask()  # every segment of the stroke below then paints new pixels
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    before, start = live.synthesis_count, window.document.revision
    # 20 edits, each asking for a synthesis, while the renderer is held: the one it may have
    # started on and the newest are all it makes
    points = [(6 + 2.5 * i, 10 + 2 * i) for i in range(20)]
    with renderer_held(live):
        drag(canvas, points)
    assert window.document.revision >= start + 20
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    computed = live.synthesis_count - before
    assert 1 <= computed <= 2, f"{computed} syntheses for 20 edits"
    shown = live.last_result
    assert (shown.labels == window.document.labels).all()
    expected = expected_image(tiny_model, window.document.labels)
    assert np.abs(window.echo_view.image.astype(int) - expected).max() <= 1


def test_results_for_an_older_mask_do_not_replace_a_newer_image(window, qtbot):
    live = window.live
    doc = window.document
    shown = live.last_result
    stale = type(shown)(shown.serial - 1, shown.model_id, shown.document, shown.revision, shown.seed,
                        np.zeros_like(shown.image), shown.labels, 0.0)
    live._on_result(stale)
    assert live.last_result is shown
    other_doc = type(shown)(shown.serial + 100, shown.model_id, doc.id + 1000, 0, shown.seed,
                            np.zeros_like(shown.image), shown.labels, 0.0)
    live._on_result(other_doc)
    assert live.last_result is shown


def test_requests_are_sent_during_a_stroke(window, qtbot):
    live, canvas = window.live, window.canvas
    serial = live._serial
    pos = canvas.to_widget(QPointF(10, 10))
    send_mouse(canvas, QEvent.Type.MouseButtonPress, pos)
    send_mouse(canvas, QEvent.Type.MouseMove, canvas.to_widget(QPointF(30, 30)), Qt.MouseButton.NoButton,
               Qt.MouseButton.LeftButton)
    assert window.document.in_stroke and live._serial > serial
    qtbot.waitUntil(lambda: live.last_result.serial > serial, timeout=10_000)
    assert window.document.in_stroke  # an image arrived while the button is still down
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, canvas.to_widget(QPointF(30, 30)))


def test_a_failed_model_load_keeps_the_current_model(window, qtbot, tmp_path, tiny_model):
    live = window.live
    model, generation = live.model, live.generation
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with qtbot.waitSignal(live.modelFailed, timeout=10_000) as blocker:
        window.load_model(str(broken))
    spec, message = blocker.args
    assert spec == str(broken) and "broken.safetensors" in message and "\n" not in message
    assert live.model is model and live.generation == generation
    assert live.model_spec == str(tiny_model)
    assert message in window.model_panel.status.text()
    assert window.model_panel.model_combo.currentData() == str(tiny_model)
    # and synthesis still works with it
    with qtbot.waitSignal(window.synthesisShown, timeout=10_000):
        window.document.fill(1, 1, 3)


def test_switching_models_drops_results_of_the_old_one(window, qtbot, vae_model_file):
    live = window.live
    with qtbot.waitSignal(window.synthesisShown, timeout=20_000,
                          check_params_cb=lambda r: r.model_id == live.generation
                          and live.model_spec == str(vae_model_file)):
        window.load_model(str(vae_model_file))
        window.document.fill(1, 1, 3)  # an edit in flight while the new model loads
    assert live.last_result.model_id == live.generation
    assert window.model_panel.model_combo.currentData() == str(vae_model_file)
    assert str(vae_model_file) in window.settings.recent_models()


def test_a_stochastic_model_offers_seeds_and_variations(qtbot, tmp_path, vae_model_file):
    window = open_window(qtbot, tmp_path, str(vae_model_file))
    try:
        panel, live = window.synthesis_panel, window.live
        assert live.stochastic and panel.seed.isEnabled() and panel.strip.isVisibleTo(panel)
        qtbot.waitUntil(lambda: all(not b.icon().isNull() for b in panel.thumbs), timeout=20_000)
        assert panel.thumb_seeds == list(range(1, 7)) and not panel.waiting.isVisibleTo(panel)
        first = live.last_result.image.copy()
        with qtbot.waitSignal(window.synthesisShown, timeout=10_000):
            panel.thumbs[2].click()
        assert live.seed == 3 and live.last_result.seed == 3
        assert not np.array_equal(first, live.last_result.image)
        expected = render(Synthesizer(str(vae_model_file), device="cpu"), window.document.labels, 3)[0]
        assert np.abs(live.last_result.image.astype(int) - expected).max() <= 1
        with qtbot.waitSignal(window.synthesisShown, timeout=10_000):
            window.commands["new_variation"].trigger()
        assert live.seed == panel.seed.value() == live.last_result.seed
        # an edit: the pictures of the mask before fade until theirs come, and one of them
        # that comes after the edit is not shown as the mask's now
        qtbot.waitUntil(lambda: all(not b.icon().isNull() for b in panel.thumbs), timeout=20_000)
        before, shown = live.last_result, []
        live.variationShown.connect(shown.append)
        window.document.fill(1, 1, 2)
        assert panel.thumb_stale == [True] * len(panel.thumbs)
        live._on_variation(VariationResult(before.serial, before.model_id, 0, 1, before.image))
        assert shown == [] and panel.thumb_stale[0]
        qtbot.waitUntil(lambda: not any(panel.thumb_stale), timeout=20_000)
        assert {v.serial for v in shown} == {live.last_result.serial} != {before.serial}
        # another model: the old one's pictures go at once, not when the new ones arrive
        other = tmp_path / "other_vae.safetensors"
        other.write_bytes(vae_model_file.read_bytes())
        shown_on_switch = []
        live.modelLoaded.connect(lambda _: shown_on_switch.append([not b.icon().isNull() for b in panel.thumbs]))
        with qtbot.waitSignal(live.modelLoaded, timeout=20_000):
            window.load_model(str(other))
        assert shown_on_switch == [[False] * len(panel.thumbs)]
    finally:
        close_window(window)


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_an_edit_is_drawn_before_the_variations_of_the_mask_before_which_are_dropped(qtbot, vae_model_file,
                                                                                        backend):
    """While the model is busy with an edit, the next edit's image is made as soon as it is
    free: before any variation of the edit before, which are never made; its own variations
    come after it. Each answer is recorded as (serial, main image or variation index)."""
    from cardigan_app.synthesis.live import LiveSynthesis

    live = LiveSynthesis(backend)
    try:
        with qtbot.waitSignal(live.modelLoaded, timeout=60_000):
            live.load(str(vae_model_file), "cpu")
        assert live.current_variation_seeds() == tuple(range(1, 7))
        answers: list[tuple[int, object]] = []
        live.backend.imageReady.connect(lambda r: answers.append((r.serial, "image")))
        live.backend.variationReady.connect(lambda v: answers.append((v.serial, v.index)))
        labels = np.zeros((64, 64), np.uint8)
        labels[20:40, 20:40] = 1
        with renderer_held(live):  # the first edit's image is taken and held; a second edit comes
            live.request(labels, 1, 1)
            if backend == "thread":  # the renderer took the first edit: it waits at the gate
                qtbot.waitUntil(lambda: live.backend._renderer._pending is None, timeout=10_000)
            else:  # the dispatcher sent it to the stopped process
                qtbot.waitUntil(lambda: live.backend._job is None, timeout=10_000)
            first = live._serial
            labels[30:34, 30:34] = 2
            live.request(labels, 1, 2)
            second = live._serial
        qtbot.waitUntil(lambda: len(answers) == 8, timeout=30_000)
        qtbot.wait(100)  # nothing more comes
        assert answers == [(first, "image"), (second, "image")] + [(second, i) for i in range(6)]
    finally:
        live.shutdown()


def test_the_empty_variations_strip_says_its_pictures_are_being_made(qtbot):
    """The strip showed six empty slots under a ticked "Variations" while its pictures were
    made (seconds at first start), with no word; it says so until the first arrives, and not
    once the synthesis failed (none will come) or with no strip shown."""
    from cardigan_app import theme
    from cardigan_app.panels.synthesis_panel import MAKING, SynthesisPanel

    panel = SynthesisPanel()
    qtbot.addWidget(panel)
    waiting = panel.waiting
    assert waiting.isVisibleTo(panel) and waiting.text() == MAKING == "making variations\u2026"
    assert not any(thumb.isVisibleTo(panel) for thumb in panel.thumbs)  # the note in their place
    assert theme.MUTED in waiting.styleSheet()
    panel.set_variation_seeds(tuple(range(1, 7)))
    assert waiting.isVisibleTo(panel)
    panel.set_variation(0, 1, np.full((16, 16), 128, np.uint8))
    assert not waiting.isVisibleTo(panel)  # the first picture is there
    assert all(thumb.isVisibleTo(panel) for thumb in panel.thumbs)
    panel.clear_variations()  # another mask: its pictures are on their way
    assert waiting.isVisibleTo(panel)
    panel.stop_waiting()  # its synthesis failed
    assert not waiting.isVisibleTo(panel)
    panel.set_variation_seeds(tuple(range(7, 13)))  # other seeds asked for
    assert waiting.isVisibleTo(panel)
    panel.set_stochastic(False)
    assert not waiting.isVisibleTo(panel)


def test_an_edit_fades_the_variations_until_their_new_pictures_come(qtbot):
    """After an edit the strip showed the mask before's pictures as if they were the mask
    now's; they are faded (and say so) until each one's new picture comes."""
    from cardigan_app.panels.synthesis_panel import MOST_THUMB, SynthesisPanel

    panel = SynthesisPanel(count=2)
    qtbot.addWidget(panel)

    def opacity(index):
        return panel.thumbs[index].icon().pixmap(MOST_THUMB, MOST_THUMB).toImage().pixelColor(10, 10).alpha()

    panel.set_variation_seeds((1, 2))
    panel.mark_stale()  # no pictures yet: nothing to fade
    assert panel.thumb_stale == [False, False]
    grey = np.full((16, 16), 200, np.uint8)
    panel.set_variation(0, 1, grey)
    assert opacity(0) == 255
    panel.mark_stale()
    panel.mark_stale()  # faded once, however many edits
    assert panel.thumb_stale == [True, False] and 60 < opacity(0) < 120
    assert "before the last edit" in panel.thumbs[0].toolTip()
    panel.set_variation(0, 1, grey)  # its new picture
    assert panel.thumb_stale == [False, False] and opacity(0) == 255
    assert panel.thumbs[0].toolTip() == "Seed 1: click to use it"


def test_a_deterministic_model_says_so(window):
    panel = window.synthesis_panel
    assert not window.live.stochastic
    assert not panel.seed.isEnabled() and not panel.strip.isVisibleTo(panel)
    assert "deterministic" in panel.note.text()
    assert not panel.style.slider.isEnabled() and not panel.style.reset.isEnabled()
    assert "the seed does not change its output" in panel.style.slider.toolTip()


def test_the_simulator_synthesizes_live(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "simulator")
    try:
        assert window.live.model_spec == "simulator" and window.live.stochastic
        image = window.live.last_result.image
        assert image.shape == (64, 64) and image.std() > 5
        names = [window.model_panel.model_combo.itemText(i) for i in range(window.model_panel.model_combo.count())]
        assert any("simulator" in n.lower() for n in names) and any("Open" in n for n in names)
    finally:
        close_window(window)


def test_masks_the_model_cannot_take_are_resampled(window, qtbot):
    from cardigan_app.editing import LabelDocument

    labels = np.zeros((70, 90), np.uint8)
    labels[20:50, 30:60] = 1
    with qtbot.waitSignal(window.synthesisShown, timeout=10_000) as blocker:
        window.set_document(LabelDocument(labels))
    result = blocker.args[0]
    assert result.image.shape == (70, 90) and "resized" in result.note


@pytest.mark.parametrize("backend", ["process", "thread"])
def test_the_studio_and_cardigan_synthesize_draw_the_same_image_of_an_odd_size_mask(qtbot, tmp_path, tiny_model,
                                                                                    backend):
    """One resampler: a 70 x 90 mask for a 64 px model gives the studio the pixels the CLI writes."""
    from PIL import Image

    from cardigan_app.editing import LabelDocument
    from engine.cli.main import main
    from engine.maskio import write_label_png

    labels = np.zeros((70, 90), np.uint8)
    labels[12:60, 20:70] = 2
    labels[20:50, 30:60] = 1
    labels[50:66, 35:55] = 3
    write_label_png(tmp_path / "odd.png", labels)
    assert main(["synthesize", "--model", str(tiny_model), "--mask", str(tmp_path / "odd.png"),
                 "--out", str(tmp_path / "odd_echo.png"), "--device", "cpu"]) == 0
    written = np.asarray(Image.open(tmp_path / "odd_echo.png"))
    window = open_window(qtbot, tmp_path, str(tiny_model), backend=backend)
    try:
        with qtbot.waitSignal(window.synthesisShown, timeout=20_000,
                              check_params_cb=lambda r: r.labels.shape == (70, 90)) as blocker:
            window.set_document(LabelDocument(labels))
        shown = blocker.args[0].image
        assert shown.shape == written.shape == (70, 90)
        assert np.array_equal(shown, written), np.abs(shown.astype(int) - written).max()
    finally:
        close_window(window)


def test_model_picker_lists_builtins_and_hides_a_missing_demo(window, bundle_demo, tiny_model):
    bundle_demo(None)
    window.model_panel.set_models([], window.live.model_spec)
    specs = window.model_panel.model_specs()
    assert "simulator" in specs and "demo" not in specs
    bundle_demo(tiny_model)
    window.model_panel.set_models([], window.live.model_spec)
    assert window.model_panel.model_specs()[:2] == ["demo", "simulator"]
    devices = [window.model_panel.device_combo.itemData(i) for i in range(window.model_panel.device_combo.count())]
    assert devices[:2] == ["auto", "cpu"] and "mps" in devices


def test_the_model_ready_line_reads_as_a_sentence(window, qtbot, tiny_model):
    """It read "Model tiny.safetensors ready on CPU (2 threads) (0.1 s to load)": two brackets
    in a row."""
    with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000) as loaded:
        window.load_model("simulator")
    line, info = window.statusBar().currentMessage(), loaded.args[0]
    assert line == f"Model Simulator (built in) ready on {info.device_label}, loaded in {info.load_s:.1f} s"


def test_the_model_box_names_the_model_in_use_and_gives_its_file_in_its_tooltip(window, qtbot, bundle_demo,
                                                                                 tiny_model):
    """The bundled model opened by its path read "demo.safetens\u2026" in the Model box, whose
    tooltip named another entry: the box names the model as the panel does elsewhere, with its
    file in the tooltip, and the bundled model's file is the demo model, listed once."""
    combo = window.model_panel.model_combo
    assert combo.currentText() == "tiny.safetensors" and str(tiny_model) in combo.toolTip().splitlines()
    bundle_demo(tiny_model)
    with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000) as loaded:
        window.load_model(str(tiny_model))
    assert loaded.args[0].spec == "demo" and combo.currentText() == combo.shown_text() == "Demo model"
    assert combo.toolTip().splitlines()[:2] == ["Demo model (bundled)", str(tiny_model)]
    assert "tiny.safetensors" not in [combo.itemText(i) for i in range(combo.count())]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_the_synthesis_process_is_restarted_after_a_crash(window, qtbot, tiny_model):
    live = window.live
    assert live.backend.name == "process"
    old_pid = live.backend.pid
    crashes, messages = [], []
    live.synthesisFailed.connect(crashes.append)
    window.statusBar().messageChanged.connect(lambda text: text and messages.append(text))
    with qtbot.waitSignals([live.synthesisFailed, live.modelLoaded], order="strict", timeout=30_000):
        os.kill(old_pid, signal.SIGKILL)
    assert len(crashes) == 1 and "stopped unexpectedly" in crashes[0] and "restarted" in crashes[0]
    assert any("stopped unexpectedly" in text for text in messages)  # the user was told
    assert live.backend.pid != old_pid and live.model_spec == str(tiny_model) and live.last_error == ""
    window.document.fill(1, 1, 2)
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    assert (live.last_result.labels == window.document.labels).all()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_an_image_waiting_when_the_synthesis_process_died_is_not_sent_to_the_new_one_before_its_model(window,
                                                                                                        qtbot):
    """The image asked for while the dead process was rendering went to the new process
    before any model: its "no model is loaded yet" replaced the crash's message."""
    live, backend = window.live, window.live.backend
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    failures = []
    live.synthesisFailed.connect(failures.append)
    os.kill(backend.pid, signal.SIGSTOP)  # the child takes the next image and never answers
    window.document.fill(1, 1, 2)
    qtbot.waitUntil(lambda: backend._rendering, timeout=10_000)
    window.document.fill(2, 2, 3)  # waits for that answer
    with qtbot.waitSignal(live.modelLoaded, timeout=30_000):
        os.kill(backend.pid, signal.SIGKILL)
    qtbot.waitUntil(live.up_to_date, timeout=20_000)
    assert (live.last_result.labels == window.document.labels).all()
    assert len(failures) == 1 and "stopped unexpectedly" in failures[0], failures


def test_the_synthesis_child_imports_no_qt_and_loads_a_model_with_what_its_server_preloaded(tiny_model):
    """The child holding the model never loads Qt; and a model's first load and image import no
    torch module the fork server has not imported already (each child forked from it would pay
    for such an import again: torch's compiler stack, imported when the spectral norm was
    initialised on the meta device, took seconds of every studio window's first image)."""
    import subprocess
    import sys

    code = ("import importlib, sys\n"
            "from cardigan_app.synthesis.server import PRELOAD\n"
            "for name in PRELOAD: importlib.import_module(name)\n"
            "qt = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'qtawesome')]\n"
            "before = set(sys.modules)\n"
            "from cardigan_app.synthesis.host import ModelHost\n"
            "from engine.anatomy import template_mask\n"
            f"host = ModelHost.open(1, {str(tiny_model)!r}, 'cpu')\n"
            "host.render(template_mask('4CH', 'ED', seed=1, size=64), 0)\n"
            "late = sorted(m for m in set(sys.modules) - before if m.split('.')[0] == 'torch')\n"
            "print('qt', qt, 'late', late[:8], len(late)); sys.exit(1 if qt or late else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_synthesis_process_leaves_a_core_to_the_window(monkeypatch):
    """torch in the synthesis process runs on every core but one where there are more than two:
    the window keeps a core while painting, and the model's threads never wait for one it took.
    On one or two cores it takes them all (one thread of two was slower on a quiet machine).
    $CARDIGAN_SYNTHESIS_THREADS, else $OMP_NUM_THREADS, decides instead."""
    from cardigan_app.synthesis.server import THREADS, synthesis_threads

    monkeypatch.delenv(THREADS, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert [synthesis_threads(cores) for cores in (1, 2, 3, 4, 16)] == [1, 2, 2, 3, 15]
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # a test worker's, or a shared machine's, share
    assert synthesis_threads(2) == 1 and synthesis_threads(16) == 1
    monkeypatch.setenv(THREADS, "3")
    assert synthesis_threads(2) == 3 and synthesis_threads(16) == 3


def test_a_thread_count_that_is_not_a_whole_number_is_said_in_one_line_and_the_cores_decide(monkeypatch, capsys):
    from cardigan_app.synthesis.server import THREADS, synthesis_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    for junk in ("four", "0", "-2", "2.5"):
        monkeypatch.setenv(THREADS, junk)
        assert synthesis_threads(4) == 3
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and f"{THREADS}={junk!r}" in message, message
    monkeypatch.setenv(THREADS, " ")  # blank: unset, nothing to say
    assert synthesis_threads(4) == 3 and capsys.readouterr().err == ""


def test_the_synthesis_process_runs_torch_on_the_threads_it_is_given(qtbot, tiny_model, monkeypatch):
    """The thread count the app picks reaches the child (which reports it with its device),
    whatever torch would pick there by itself."""
    from cardigan_app.synthesis.live import LiveSynthesis
    from cardigan_app.synthesis.server import THREADS

    monkeypatch.setenv(THREADS, "3")  # read here, in the app's process, as the child is started
    live = LiveSynthesis("process")
    try:
        with qtbot.waitSignal(live.modelLoaded, timeout=60_000):
            live.load(str(tiny_model), "cpu")
        assert live.device_label == "CPU (3 threads)"
    finally:
        live.shutdown()


def test_the_model_panel_names_the_fan_the_upsampling_and_the_style_scale():
    from cardigan_app.panels.model_summary import summary_text

    arch = {"ngf": 10, "modulation": "clade", "norm": "syncbatch", "upsampling": "normal", "noise_nc": 8}
    plain = summary_text({"kind": "native", "architecture": arch})
    assert "fan" not in plain and "bilinear" not in plain and "style scale" not in plain
    shown = summary_text({"kind": "native", "architecture": {**arch, "fan": True, "upsample": "bilinear",
                                                             "style_scale": 0.4}})
    assert "Inputs: mask \u00b7 the fan \u00b7 noise 8 ch (style scale 0.4)" in shown
    assert "  - bilinear upsampling" in shown
    assert "speckle" not in plain and "speckle" not in shown
    speckled = summary_text({"kind": "native", "architecture": {**arch, "texture": True, "beam": 2.0,
                                                                "grain": 2.5}})
    assert "speckle path" in speckled and "speckle along the arcs (2\u00b0)" in speckled
    assert "pixel grain (2.5 grey levels)" in speckled and "grain" not in shown
    untoned = summary_text({"kind": "native", "architecture": {**arch, "tone": 1.0}})
    assert "tone" not in speckled and "tone" not in untoned
    assert "output tone \u03b3 0.9" in summary_text({"kind": "native", "architecture": {**arch, "tone": 0.9}})
    gained = summary_text({"kind": "native", "architecture": {**arch, "depth_gain": [0.84, 0.9, 1.06]}})
    assert "depth gain 0.84\u20131.06" in gained and "depth gain" not in untoned
    shaped = summary_text({"kind": "native", "architecture": {**arch, "speckle_shape": [[0.6, 0, 1.5], [0, 0.8, 1]]}})
    assert "speckle shaped by depth (2 points)" in shaped and "shaped" not in gained
    refined = summary_text({"kind": "native", "architecture": arch, "refiner_parameters": 12001})
    assert "texture refiner (12.0 k parameters)" in refined and "refiner" not in shaped
    near = summary_text({"kind": "native", "architecture": arch, "refiner_parameters": 12001, "refiner_near_field": 0.25})
    assert "texture refiner (12.0 k parameters, top 25% of the depth)" in near


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_loop_lost_with_the_synthesis_process_is_reported(window, qtbot):
    live, timeline, backend = window.live, window.timeline, window.live.backend
    assert backend.name == "process"
    os.kill(backend.pid, signal.SIGSTOP)  # the child takes the request and never answers
    timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: backend._cine is None, timeout=10_000)  # sent to the child
    with qtbot.waitSignal(live.modelLoaded, timeout=30_000):
        os.kill(backend.pid, signal.SIGKILL)
    assert "stopped while making the loop" in timeline.status.text()  # not "making the loop..." for ever
    timeline.play_button.setChecked(False)


@pytest.fixture
def gated_loop_window(qtbot, tmp_path, tiny_model, monkeypatch):
    """The studio on the process backend whose first loop stops after its first batch of
    frames at a gate (the test hook of :mod:`cardigan_app.synthesis.server`): it creates the
    window's ``loop_gate`` file there and waits for the app's next message."""
    from cardigan_app.synthesis.server import LOOP_GATE

    gate = tmp_path / "loop_gate"
    monkeypatch.setenv(LOOP_GATE, str(gate))
    win = open_window(qtbot, tmp_path, str(tiny_model), backend="process")
    win.loop_gate = gate
    yield win
    close_window(win)


def loop_answers(backend) -> list[tuple[int, str]]:
    """(serial, "made" or the failure's message) of every loop ``backend`` answers, in order."""
    answers: list[tuple[int, str]] = []
    backend.cineFailed.connect(lambda serial, message: answers.append((serial, message)))
    backend.cineReady.connect(lambda frames: answers.append((frames.serial, "made")))
    return answers


def test_the_synthesis_process_makes_images_while_it_makes_a_loop(gated_loop_window, qtbot):
    window = gated_loop_window
    live, timeline, backend = window.live, window.timeline, window.live.backend
    assert backend.name == "process"
    window.state.set("cine_bpm", 60)
    window.state.set("cine_fps", 12)  # 12 frames: two batches, the gate between them
    order: list[str] = []
    backend.cineReady.connect(lambda frames: order.append("loop"))
    backend.cineFailed.connect(lambda serial, message: order.append("failed: " + message))
    backend.imageReady.connect(lambda result: order.append("image"))
    timeline.play_button.setChecked(True)
    qtbot.waitUntil(window.loop_gate.exists, timeout=20_000)  # half made, waiting at the gate
    timeline.play_button.setChecked(False)
    window.document.fill(2, 2, 3)  # painting goes on: its image opens the gate
    try:
        qtbot.waitUntil(lambda: "loop" in order or any(o.startswith("failed") for o in order), timeout=30_000)
    except Exception:
        raise AssertionError(f"the loop is still at the gate: its image never reached it ({order})") from None
    assert order == ["image", "loop"]
    assert live.up_to_date() and (live.last_result.labels == window.document.labels).all()


def test_a_newer_loop_ends_the_one_being_made(gated_loop_window, qtbot):
    window = gated_loop_window
    live, backend, doc = window.live, window.live.backend, window.document
    answers = loop_answers(backend)
    first = live.request_cine(doc.labels, doc.labels, doc.id, doc.fan, 60.0, 12.0)  # 12 frames: two batches
    qtbot.waitUntil(window.loop_gate.exists, timeout=20_000)  # half made, waiting at the gate
    second = live.request_cine(doc.labels, doc.labels, doc.id, doc.fan, 65.0, 10.0)  # opens it
    try:
        qtbot.waitUntil(lambda: any(serial == second for serial, _ in answers), timeout=30_000)
    except Exception:
        raise AssertionError(f"no answer to loop {second}: {answers}, waiting {backend._cine}") from None
    assert answers == [(first, "a newer loop was asked for"), (second, "made")]


def test_without_the_hook_a_loop_is_made_without_waiting(window, qtbot, tmp_path):
    """The gate is shut only when asked for: a loop with nothing sent meanwhile is made at once."""
    live, backend, doc = window.live, window.live.backend, window.document
    answers = loop_answers(backend)
    serial = live.request_cine(doc.labels, doc.labels, doc.id, doc.fan, 60.0, 12.0)
    qtbot.waitUntil(lambda: bool(answers), timeout=20_000)  # far below the gate's limit
    assert answers == [(serial, "made")] and not list(tmp_path.glob("*gate*"))


def test_the_loop_gate_shuts_once_after_the_first_batch_of_the_first_loop(tmp_path, monkeypatch):
    """The test hook in the synthesis process itself, with a host that makes a loop of three
    batches: the gate file appears after the first batch (the second time the loop asks what
    came meanwhile), the loop waits there until a message comes, and no later batch or loop waits."""
    from multiprocessing import Pipe

    from cardigan_app.synthesis import server
    from cardigan_app.synthesis.host import Rendering
    from cardigan_app.synthesis.jobs import (CineRequest, LoadRequest, ModelInfo, RenderedImage, RenderRequest,
                                             StopRequest)

    gate = tmp_path / "loop_gate"

    class Host:
        info = ModelInfo(1, "fake", "cpu", "cpu", False)

        def render(self, labels, seed, fan, anchor, style_scale, should_stop=None):
            return Rendering(np.zeros((2, 2), np.uint8), "", 0.0, False)

        def render_cine(self, request, between_batches):  # (gave way, gate file there) per batch
            return [(between_batches(), gate.exists()) for _ in range(3)]

    monkeypatch.setattr(server.signal, "signal", lambda *args: None)  # serve ignores Ctrl+C: not here
    monkeypatch.setattr(server.ModelHost, "open", lambda *args: Host())
    app, child = Pipe()
    serving = threading.Thread(target=server.serve, args=(child, 0, str(gate)), daemon=True)
    serving.start()
    try:
        app.send(LoadRequest(1, "fake", "cpu"))
        assert isinstance(app.recv(), ModelInfo)
        labels = np.zeros((2, 2), np.uint8)
        app.send(CineRequest(1, 1, labels, labels, None, 0, 60.0, 12.0))
        for _ in range(200):
            if gate.exists():
                break
            threading.Event().wait(0.05)
        assert gate.exists() and not app.poll(0.3)  # at the gate, waiting for the app
        app.send(RenderRequest(2, labels, 0))
        assert isinstance(app.recv(), RenderedImage)  # made at the gate, which it opens
        assert app.recv() == [(False, False), (False, True), (False, True)]
        gate.unlink()
        app.send(CineRequest(3, 1, labels, labels, None, 0, 60.0, 12.0))
        assert app.poll(5.0) and app.recv() == [(False, False)] * 3  # the next loop does not wait
    finally:
        app.send(StopRequest())
        serving.join(5.0)
    assert not serving.is_alive()


# -- the synthesis time in the status bar ---------------------------------------------------------
def test_the_latency_log_sets_the_warm_up_apart_and_reports_the_median_of_recent_images():
    from cardigan_app.synthesis.latency import LatencyLog

    log = LatencyLog(recent=3)
    assert log.status() == ""
    log.record(1, 2.51, first=True)  # the first image of model 1: its warm-up
    assert log.status() == "Synthesis 2510 ms (warm-up)" and "2510 ms" in log.tooltip()
    for seconds in (0.040, 0.300, 0.044):
        log.record(1, seconds, first=False)
    assert log.status() == "Synthesis 44 ms"  # one slow image does not swing it
    assert "last 44 ms" in log.tooltip() and "40 ms\u2013300 ms" in log.tooltip() and "2510 ms" in log.tooltip()
    for seconds in (0.050, 0.052, 0.054):  # only the recent ones count
        log.record(1, seconds, first=False)
    assert log.status() == "Synthesis 52 ms"
    log.record(2, 12.5, first=True)  # another model (or the same one reloaded): a warm-up of its own
    assert log.status() == "Synthesis 12.5 s (warm-up)" and "median" not in log.tooltip().lower()


def test_the_latency_log_takes_a_models_first_image_shown_as_warm_when_it_was_not_its_first_made():
    """The first image a model made was dropped (made for a seed or mask no longer current):
    the first one shown is a warm one, and counts as such; it used to be called the warm-up."""
    from cardigan_app.synthesis.latency import LatencyLog

    log = LatencyLog(recent=3)
    log.record(1, 2.51, first=True)
    log.record(1, 0.040, first=False)
    log.record(2, 0.046, first=False)  # model 2's warm-up went into an image not shown
    assert log.status() == "Synthesis 46 ms" and "warm-up" not in log.status()
    assert "2510 ms" not in log.tooltip() and "not shown" in log.tooltip() and "last 46 ms" in log.tooltip()


def test_the_status_bar_marks_a_models_first_image_as_its_warm_up(window):
    from cardigan_app.synthesis.jobs import SynthesisResult

    time_label = window.status_widgets.time
    live, labels = window.live, window.document.labels.copy()
    image = np.zeros(labels.shape, np.uint8)

    def shown(model_id: int, seconds: float, first: bool = False) -> str:  # an image as a model answers it
        window._show_result(SynthesisResult(99, model_id, 0, 0, live.seed, image, labels, seconds, first=first))
        return time_label.text()

    newer = live.generation + 1  # the next model loaded
    assert shown(newer, 2.51, first=True) == "Synthesis 2510 ms (warm-up)"
    assert "warm-up" in time_label.toolTip()
    assert shown(newer, 0.040) == "Synthesis 40 ms"
    assert shown(newer, 0.046) == "Synthesis 43 ms"
    assert shown(newer, 0.900) == "Synthesis 46 ms" and "last 900 ms" in time_label.toolTip()
    assert shown(newer + 1, 0.050) == "Synthesis 50 ms"  # a model whose first image was not shown


def render_taken(backend) -> bool:
    """Whether the backend's renderer has taken the job submitted last (it is no longer
    waiting, where a newer job would replace it)."""
    if backend.name == "process":
        return backend._rendering
    return backend._renderer._pending is None


def test_a_models_first_image_dropped_leaves_the_next_one_shown_a_warm_one(any_backend_window, qtbot,
                                                                            tiny_model):
    """A model is loaded, its first image is asked for and the seed changes before it comes:
    that image (the warm-up) is dropped, and the next one is shown. The status bar called
    that one the warm-up, as the first image shown; the synthesis side now marks the image
    that was its model's first, and the status bar reports the one shown as a warm image."""
    window = any_backend_window
    live, backend = window.live, window.live.backend
    made: list = []
    backend.imageReady.connect(lambda result: made.append(result))
    held = contextlib.ExitStack()
    # the moment the model is in use, before its first image is asked for: hold the renderer
    live.modelLoaded.connect(lambda info: held.enter_context(renderer_held(live)))
    with held:
        with qtbot.waitSignal(live.modelLoaded, timeout=30_000):
            live.load(str(tiny_model))  # the same file again: a new model, with a warm-up of its own
        qtbot.waitUntil(lambda: render_taken(backend), timeout=10_000)  # its first image, being made
        window.set_seed(live.seed + 1)  # that image is for the old seed now

    def mine() -> list:
        return [result for result in made if result.model_id == live.generation]

    # the image shown and the test's own record of it may come by different routes (the
    # process backend's reader thread): wait for both
    qtbot.waitUntil(lambda: live.up_to_date() and live.last_result.model_id == live.generation
                    and len(mine()) >= 2, timeout=30_000)
    mine = mine()
    assert [(r.seed, r.first) for r in mine] == [(live.seed - 1, True), (live.seed, False)]
    shown = live.last_result
    assert shown is mine[1] and not shown.first
    text = window.status_widgets.time.text()
    assert "warm-up" not in text and text == f"Synthesis {format_duration(shown.elapsed_s)}", text
    assert "not shown" in window.status_widgets.time.toolTip()


def test_the_host_marks_the_first_use_of_its_model_only(tiny_model):
    """The first image a loaded model makes is marked as its warm-up, none after it; a loop
    made first took the warm-up, and the image after it is a warm one."""
    from cardigan_app.synthesis.host import ModelHost
    from cardigan_app.synthesis.jobs import CineRequest

    labels = np.zeros((32, 32), np.uint8)
    labels[8:24, 10:22] = 1
    host = ModelHost.open(1, str(tiny_model), "cpu")
    assert [host.render(labels, seed).first for seed in (0, 0, 1)] == [True, False, False]
    looped = ModelHost.open(2, str(tiny_model), "cpu")
    looped.render_cine(CineRequest(1, 1, labels, labels, None, 0, 60.0, 6.0))
    assert not looped.render(labels, 0).first


def test_another_mask_drops_the_last_masks_variations_at_once(qtbot, tmp_path, vae_model_file):
    """The strip never mixes pictures of the mask before with those of the one opened now."""
    from engine.anatomy import template_mask

    from cardigan_app.editing import LabelDocument

    window = open_window(qtbot, tmp_path, str(vae_model_file))
    try:
        panel = window.synthesis_panel
        qtbot.waitUntil(lambda: all(not b.icon().isNull() for b in panel.thumbs), timeout=20_000)
        window.set_document(LabelDocument(template_mask("2CH", "ES", seed=5, size=64), origin="test"))
        assert all(b.icon().isNull() for b in panel.thumbs)
        qtbot.waitUntil(lambda: all(not b.icon().isNull() for b in panel.thumbs), timeout=20_000)
    finally:
        close_window(window)
