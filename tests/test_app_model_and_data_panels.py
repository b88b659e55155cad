"""The model panel, the dataset browser and the settings they remember, driven as a user would."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cardigan_app.panels.dataset_browser import DatasetBrowser
from engine.units import format_bytes


def tiny_split(root: Path, count: int, split: str = "train") -> None:
    """``count`` 4 x 4 label maps (no images) in ``root/split``, and an empty ``test`` split."""
    labels = root / split / "label"
    labels.mkdir(parents=True)
    (root / "test" / "label").mkdir(parents=True)
    mask = np.zeros((4, 4), np.uint8)
    mask[1:3, 1:3] = 1
    for i in range(count):
        Image.fromarray(mask).save(labels / f"patient{i:04d}_4CH_ED.png")


def test_leaving_a_huge_split_with_most_of_it_filtered_out_clears_no_hidden_rows(qtbot, tmp_path):
    tiny_split(tmp_path / "data", 3000)
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    browser.show()
    assert browser.open_folder(tmp_path / "data") and browser.list.count() == 3000
    browser.filter.setText("patient0042")
    assert sum(not browser.list.item(i).isHidden() for i in range(3000)) == 1
    # Qt removes hidden rows one by one, going through all of them each time (seconds for
    # thousands): the list is cleared with none hidden
    hidden_when_cleared = []
    clear = browser.list.clear

    def counting_clear():
        hidden_when_cleared.append(sum(browser.list.item(i).isHidden() for i in range(browser.list.count())))
        clear()

    browser.list.clear = counting_clear
    browser.split.setCurrentText("test")
    assert hidden_when_cleared == [0] and browser.list.count() == 0
    browser.split.setCurrentText("train")
    assert browser.list.count() == 3000
    assert [i for i in range(3000) if not browser.list.item(i).isHidden()] == [42]  # the filter still applies
    browser.shutdown()


# -- the model picker and its recent models ---------------------------------------------------
def test_the_picker_lists_only_recent_models_still_on_disk_and_no_more_than_it_keeps(qtbot, tmp_path, tiny_model):
    from cardigan_app.settings import MAX_RECENT_MODELS, AppSettings
    from cardigan_app.testing import close_window, open_window

    gone = tmp_path / "deleted" / "model.safetensors"
    others = []
    for i in range(MAX_RECENT_MODELS + 4):  # a settings file written by hand, or by another version
        others.append(tmp_path / f"m{i}.safetensors")
        others[-1].write_bytes(tiny_model.read_bytes())
    settings = AppSettings(tmp_path / "settings.ini")
    settings.qsettings.setValue("recent/models", json.dumps([str(gone)] + [str(p) for p in others]))
    settings.qsettings.sync()
    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        files = [spec for spec in window.model_panel.model_specs() if spec not in ("demo", "simulator")]
        assert str(gone) not in files
        assert str(tiny_model) in files and len(files) <= MAX_RECENT_MODELS + 1  # the recent ones and the loaded one
        assert len(window.settings.recent_models()) <= MAX_RECENT_MODELS
        others[0].unlink()  # a listed model deleted while the studio runs, then chosen
        with qtbot.waitSignal(window.live.modelFailed, timeout=20_000):
            window.load_model(str(others[0]))
        assert str(others[0]) not in window.model_panel.model_specs()
        assert window.model_panel.model_combo.currentData() == str(tiny_model)  # the model in use
        said = window.statusBar().currentMessage()  # in the studio's words, and forgotten
        assert said == (f"{others[0].name} is no longer in {tmp_path} (moved or deleted), "
                        "so it was taken off the recent models")
        assert str(others[0]) not in window.settings.recent_models()
        others[1].rename(tmp_path / "moved.safetensors")  # moved away while the list was shut
        combo = window.model_panel.model_combo
        assert str(others[1]) in window.model_panel.model_specs()
        combo.showPopup()  # the list opened is up to date, and still on the model in use
        assert str(others[1]) not in window.model_panel.model_specs()
        assert combo.currentData() == str(tiny_model)
        combo.hidePopup()
    finally:
        close_window(window)


def test_a_model_opened_by_a_relative_path_is_remembered_by_its_full_path(qtbot, tmp_path, tiny_model, monkeypatch):
    from cardigan_app.testing import close_window, open_window

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.safetensors").write_bytes(tiny_model.read_bytes())
    window = open_window(qtbot, tmp_path, str(tiny_model))
    try:
        monkeypatch.chdir(tmp_path)  # as `cardigan run/model.safetensors` typed in that folder
        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000):
            window.open_paths([Path("run/model.safetensors")])
        full = str(tmp_path / "run" / "model.safetensors")
        assert window.live.model_spec == full and window.state.model == full
        assert window.settings.recent_models()[0] == full
    finally:
        close_window(window)


def test_model_folders_open_from_the_model_menu_and_the_picker_and_reopen_from_recent_models(
        qtbot, tmp_path, tiny_model, monkeypatch):
    """Folders the command line takes as models are chosen in a folder dialog of their own: a
    training run is drawn with (and remembered as) its model file, an NVlabs checkpoints
    folder is remembered as the folder and opens again from the picker."""
    import torch
    from PySide6.QtWidgets import QFileDialog

    from cardigan_app.panels.model_panel import OPEN_FOLDER_ITEM
    from cardigan_app.testing import close_window, open_window
    from engine.nets import GeneratorConfig, SPADEGenerator

    nvlabs_folder = tmp_path / "spade" / "checkpoints" / "camus"  # an NVlabs run's folder, no opt.txt
    nvlabs_folder.mkdir(parents=True)
    torch.save(SPADEGenerator(GeneratorConfig(ngf=4, output_nc=3, image_size=64)).state_dict(),
               nvlabs_folder / "latest_net_G.pth")
    (tmp_path / "runs" / "lite" / "checkpoints").mkdir(parents=True)
    run_model = tmp_path / "runs" / "lite" / "model.safetensors"
    run_model.write_bytes(tiny_model.read_bytes())
    chosen = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: chosen.pop(0))
    window = open_window(qtbot, tmp_path, "simulator")
    try:
        model_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Model")
        folder_entry = next(a for a in model_menu.actions() if a.text().startswith("Open model &folder"))
        chosen.append(str(tmp_path / "runs" / "lite"))
        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000) as loaded:
            folder_entry.trigger()
        assert loaded.args[0].spec == str(run_model) and window.models.watch.path == run_model
        assert window.settings.recent_models()[0] == str(run_model)

        combo = window.model_panel.model_combo
        chosen.append(str(nvlabs_folder))
        with qtbot.waitSignal(window.live.modelLoaded, timeout=30_000) as loaded:
            combo.activated.emit(combo.findData(OPEN_FOLDER_ITEM))
        assert loaded.args[0].spec == str(nvlabs_folder)
        assert window.settings.recent_models()[:2] == [str(nvlabs_folder), str(run_model)]
        assert window.state.model == str(nvlabs_folder)

        with qtbot.waitSignal(window.live.modelLoaded, timeout=20_000):
            window.load_model("simulator")
        assert str(nvlabs_folder) in window.model_panel.model_specs()  # a folder stays a recent model
        with qtbot.waitSignal(window.live.modelLoaded, timeout=30_000) as loaded:
            combo.activated.emit(combo.findData(str(nvlabs_folder)))
        assert loaded.args[0].spec == str(nvlabs_folder)
    finally:
        close_window(window)


def test_a_chosen_folder_that_holds_no_model_is_refused_in_one_line_and_the_model_stays(
        qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from cardigan_app.testing import close_window, open_window

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no model here")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(tmp_path / "notes"))
    window = open_window(qtbot, tmp_path, "simulator")
    try:
        with qtbot.waitSignal(window.live.modelFailed, timeout=20_000) as failed:
            window.models.open_folder_dialog()
        message = failed.args[1]
        assert "\n" not in message and "no model in this folder" in message
        assert "model.safetensors" in message and "_net_G.pth" in message
        assert window.model_panel.status.text() == message
        assert window.live.model_spec == "simulator" and window.state.model == "simulator"
        assert str(tmp_path / "notes") not in window.settings.recent_models()
    finally:
        close_window(window)


# -- devices ------------------------------------------------------------------------------------
MISSING_DEVICE = "cuda:99"  # no machine running the tests has it


def test_a_device_that_fails_is_not_kept_as_the_choice(window, qtbot):
    live = window.live
    device, model = live.model.device, live.model
    loads = []
    live.modelLoading.connect(loads.append)
    with qtbot.waitSignal(live.modelFailed, timeout=20_000) as failed:
        window.set_device(MISSING_DEVICE)
    assert "cuda:99" in failed.args[1] and "\n" not in failed.args[1]
    assert live.model is model and window.state.device == device  # the model and its device stay chosen
    assert window.model_panel.device_combo.currentData() == device
    assert loads == [window.live.model_spec]  # the failed try only: the model in use is not loaded again
    shown = window.model_panel.status.text()
    assert "cuda:99" in shown and "--device" not in shown  # the app's words, not the command line's
    window.settings.save_state(window.state)
    assert window.settings.stored_preferences()["device"] == device


def test_a_saved_device_this_machine_lacks_falls_back_to_auto_and_keeps_the_model(qtbot, tmp_path, tiny_model):
    from cardigan_app.main_window import MainWindow
    from cardigan_app.settings import AppSettings
    from cardigan_app.testing import close_window

    settings = AppSettings(tmp_path / "settings.ini")  # written on a machine with more GPUs
    settings.qsettings.setValue("prefs/device", MISSING_DEVICE)
    settings.qsettings.setValue("prefs/model", str(tiny_model))
    settings.qsettings.sync()
    messages = []
    window = MainWindow(settings=AppSettings(tmp_path / "settings.ini"), autosave_dir=tmp_path / "autosave")
    window.statusBar().messageChanged.connect(lambda text: text and messages.append(text))
    window.show()
    try:
        qtbot.waitUntil(lambda: window.live.last_result is not None, timeout=30_000)
        assert window.live.model_spec == str(tiny_model) and window.state.model == str(tiny_model)
        assert window.state.device == "auto" and window.model_panel.device_combo.currentData() == "auto"
        assert any(MISSING_DEVICE in text for text in messages)  # the user is told why
    finally:
        close_window(window)


def test_an_empty_split_and_a_filter_matching_nothing_say_so(qtbot, tmp_path):
    tiny_split(tmp_path / "data", 3)  # no manifest: the counts come from the folder
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    assert browser.open_folder(tmp_path / "data")
    assert browser.info.text() == "train: 3, test: 0"
    assert browser.hint.text().startswith("Double-click")
    browser.filter.setText("4CH_ES")
    assert browser.hint.text() == "No pair's name contains \u201c4CH_ES\u201d"
    browser.filter.setText("0001")
    browser.list.setCurrentRow(1)
    assert browser.hint.text().startswith("Double-click patient0001")
    browser.split.setCurrentText("test")
    assert browser.list.count() == 0 and browser.hint.text().startswith("No pairs in test")
    browser.shutdown()


def test_the_filter_takes_names_as_the_files_spell_them(qtbot, tmp_path):
    tiny_split(tmp_path / "data", 3)
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    assert browser.open_folder(tmp_path / "data")
    shown = lambda: [browser.list.item(i).text() for i in range(browser.list.count())  # noqa: E731
                     if not browser.list.item(i).isHidden()]
    example = browser.filter.placeholderText().split("e.g. ")[1]
    browser.filter.setText(example)  # the example the field gives, with its underscore
    assert len(shown()) == 3
    browser.filter.setText("patient0001_4ch")
    assert shown() == ["patient0001 4CH ED"]
    browser.filter.setText("0002 4CH")  # as the list shows them
    assert shown() == ["patient0002 4CH ED"]
    browser.shutdown()


# -- the synthesis process dying ----------------------------------------------------------------
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_the_synthesis_process_dying_while_a_new_model_loads_brings_back_the_model_in_use(window, qtbot, tmp_path,
                                                                                         tiny_model):
    """The model being loaded may be what killed the process (out of memory, a crash in its
    code): it is reported and the model that worked is loaded again, not the suspect."""
    live = window.live
    assert live.backend.name == "process"
    suspect = tmp_path / "suspect.safetensors"
    suspect.write_bytes(tiny_model.read_bytes())
    loaded, failed = [], []
    live.modelLoaded.connect(lambda info: loaded.append(info.spec))
    live.modelFailed.connect(lambda spec, message: failed.append((spec, message)))
    window.load_model(str(suspect))
    os.kill(live.backend.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(loaded), timeout=30_000)
    assert loaded == [str(tiny_model)] and live.model_spec == str(tiny_model)
    assert [spec for spec, _ in failed] == [str(suspect)]
    assert "suspect.safetensors" in failed[0][1] and "stopped" in failed[0][1] and "\n" not in failed[0][1]
    assert window.model_panel.model_combo.currentData() == str(tiny_model)
    window.document.fill(1, 1, 2)
    qtbot.waitUntil(live.up_to_date, timeout=20_000)  # nothing frozen: it draws again


def test_a_remembered_model_that_is_gone_gives_way_to_the_bundled_demo(qtbot, tmp_path, tiny_model, bundle_demo):
    from cardigan_app.main_window import MainWindow
    from cardigan_app.settings import AppSettings
    from cardigan_app.testing import close_window

    bundle_demo(tiny_model)
    settings = AppSettings(tmp_path / "settings.ini")
    settings.qsettings.setValue("prefs/model", str(tmp_path / "deleted_run" / "model.safetensors"))
    settings.qsettings.sync()
    window = MainWindow(settings=AppSettings(tmp_path / "settings.ini"), autosave_dir=tmp_path / "autosave",
                        backend="thread")  # the demo as this test bundles it
    window.show()
    try:
        qtbot.waitUntil(lambda: window.live.last_result is not None, timeout=30_000)
        assert window.live.model_spec == "demo"  # what a first start draws with, not the simulator
        assert window.state.model == ""
        assert "deleted_run" in window.statusBar().currentMessage()  # and why it is not the one chosen
    finally:
        close_window(window)


# -- what the model panel says about a model ----------------------------------------------------
def shown_rows(panel) -> dict[str, str]:
    """The panel's table as the user reads it: {key: value} (lines of a value joined by newlines)."""
    from PySide6.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(panel.info.text())
    table = document.rootFrame().childFrames()[0]
    rows = {}
    for row in range(table.rows()):
        key, value = (table.cellAt(row, column).firstCursorPosition() for column in (0, 1))
        key.movePosition(key.MoveOperation.EndOfBlock, key.MoveMode.KeepAnchor)
        cell = table.cellAt(row, 1)
        value.setPosition(cell.lastCursorPosition().position(), value.MoveMode.KeepAnchor)
        rows[key.selectedText()] = value.selectedText().replace("\u2029", "\n").replace("\u2028", "\n")
    return rows


def loaded_panel(qtbot, spec: str):
    from cardigan_app.panels.model_panel import ModelPanel
    from engine.models.registry import open_model

    panel = ModelPanel()
    qtbot.addWidget(panel)
    panel.resize(260, 700)
    panel.show()
    panel.set_loaded(spec, open_model(spec).summary(), "CPU")
    return panel


def test_the_bundled_model_reads_at_a_glance_and_its_output_settings_open_on_demand(qtbot):
    from PySide6.QtWidgets import QApplication

    from engine.resources import demo_model_path

    if demo_model_path() is None:
        pytest.skip("no bundled model in this installation")
    panel = loaded_panel(qtbot, "demo")
    rows = shown_rows(panel)
    assert "Architecture" not in rows  # no comma-separated run of every setting
    assert rows["Network"] == "CLADE \u00b7 ngf 10 \u00b7 syncbatch norm"
    size = format_bytes(demo_model_path().stat().st_size).replace(" ", "\u00a0")
    assert rows["Size"] == f"1.7\u00a0M parameters \u00b7 {size} file" and size.endswith("\u00a0MB")
    assert rows["Inputs"] == "mask \u00b7 the fan \u00b7 noise 8 ch (style scale 0.4)"
    assert rows["Output settings"] == "12 \u00b7 show"  # a count until asked for
    assert "speckle" not in panel.info.text() and "ring-down" not in panel.info.text()
    panel.info.linkActivated.emit("#output-settings")  # the user clicks "show"
    listed = shown_rows(panel)["Output settings"].split("\n")
    assert listed[0] == "\u2022 bilinear upsampling" and listed[-1] == "hide" and len(listed) == 12 + 1
    assert "\u2022 ring-down per seed (16 directions)" in listed
    panel.info.linkActivated.emit("#output-settings")
    assert shown_rows(panel)["Output settings"] == "12 \u00b7 show"
    panel.copy_button.click()  # all of it, the settings listed, as text
    copied = QApplication.clipboard().text()
    assert "Network: CLADE \u00b7 ngf 10 \u00b7 syncbatch norm" in copied
    assert "  - ring-down per seed (16 directions)" in copied and f"Path: {demo_model_path()}" in copied


def test_an_nvlabs_checkpoint_shows_its_network_and_size_and_no_empty_settings(qtbot, nvlabs_fixture):
    panel = loaded_panel(qtbot, str(nvlabs_fixture))
    rows = shown_rows(panel)
    size = format_bytes((nvlabs_fixture / "latest_net_G.pth").stat().st_size).replace(" ", "\u00a0")
    assert rows["Kind"] == "NVlabs SPADE checkpoint"
    assert rows["Network"] == "SPADE \u00b7 ngf 8 \u00b7 syncbatch norm"
    assert rows["Size"] == f"4.3\u00a0M parameters \u00b7 {size} file" and size.endswith("\u00a0MB")
    assert rows["Inputs"] == "mask" and rows["Output"] == "3 channels"
    assert "Output settings" not in rows and "Source" not in rows  # nothing to list; the kind said once
    assert "Output settings" not in panel.details_text()


def test_the_simulator_is_described_by_its_method(qtbot):
    panel = loaded_panel(qtbot, "simulator")
    rows = shown_rows(panel)
    assert rows["Kind"] == "built in" and rows["Method"].startswith("ultrasound simulator")
    assert not {"Network", "Size", "Inputs", "Output settings", "Source"} & set(rows)
    assert rows["Output"] == "1 channel" and panel.copy_button.isVisibleTo(panel)


def test_the_model_panel_measures_its_table_again_only_when_its_content_or_font_changes(qtbot, tiny_model,
                                                                                        monkeypatch):
    """Every pixel of a drag measured every word of the summary and laid the table out again;
    now the width is only compared with the table's least width, measured once per content."""
    from PySide6.QtWidgets import QApplication

    from cardigan_app.panels import model_panel

    panel = loaded_panel(qtbot, str(tiny_model))
    calls = {"measure": 0, "lay out": 0}

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return call

    least = model_panel.table_least_width(panel._summary, panel._size_bytes, False, panel.info.fontMetrics())
    monkeypatch.setattr(model_panel, "table_least_width", counted("measure", model_panel.table_least_width))
    monkeypatch.setattr(model_panel, "summary_html", counted("lay out", model_panel.summary_html))

    def info_width_at(panel_width: int) -> int:
        panel.resize(panel_width, panel.height())
        QApplication.processEvents()
        return panel.info.contentsRect().width()

    beside = panel.width() - panel.info.contentsRect().width() + least  # the panel's least width for the table
    widths = [info_width_at(beside + 5 + step) for step in range(50)]
    assert min(widths) >= least and len(set(widths)) == 50 and not panel.stacked
    assert calls == {"measure": 0, "lay out": 0}
    assert info_width_at(beside - 20) < least and panel.stacked  # narrower than the table: keys above values
    assert info_width_at(beside + 20) >= least and not panel.stacked
    assert calls == {"measure": 0, "lay out": 2}
    font = panel.info.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    panel.info.setFont(font)  # wider words: measured again, and no longer beside their keys
    assert calls["measure"] == 1 and panel.stacked
