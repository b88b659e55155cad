"""Engine advice reaches the studio in the studio's words and the command line in its own.

The engine's messages tell how to fix a problem in the command line's words ("use --device
cpu or auto"); the studio says the same of its own controls, looked up by the advice's key
(:mod:`engine.errors`, :mod:`cardigan_app.wording`). Each test goes through the code that
raises the message, and rewords the command line's advice to show that the studio's words do
not hang on the command line's text.
"""

from __future__ import annotations

import pickle

import pytest
import torch

from cardigan_app.testing import close_window, open_window
from engine.cli.main import main
from engine.errors import OTHER_DEVICE, USE_OVERWRITE, Advice, DataError, Message, one_line, option

TIMEOUT = 60_000


def reworded(advice: Advice) -> Advice:
    """The same advice (its key) in other command-line words."""
    return Advice(advice.key, f"(reworded {advice.cli})")


def cli_error(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cardigan")]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


# -- the message itself --------------------------------------------------------------------
def test_a_message_reads_as_the_command_line_says_it_and_as_a_front_end_asks():
    message = Message(option("style_scale"), " must be at most 1 (", USE_OVERWRITE, ")")
    assert message == "--style-scale must be at most 1 (use --overwrite)"
    words = {option("style_scale"): "Style scale", Advice(USE_OVERWRITE.key, "anything"): "tick it"}
    assert message.said(words) == "Style scale must be at most 1 (tick it)"  # found by key
    assert message.said({}) == str(message)
    error = DataError(Message("x: ", message))  # a message inside another keeps its advice
    assert str(error) == "x: " + message and error.said(words) == "x: Style scale must be at most 1 (tick it)"
    again = pickle.loads(pickle.dumps(error))  # as it crosses to the synthesis process and back
    assert again.said(words) == error.said(words)
    assert one_line(error) == str(error) and one_line(error, words=words) == error.said(words)
    assert DataError("plain").said(words) == "plain"


# -- a device the machine lacks ------------------------------------------------------------
def test_a_missing_device_is_advised_as_the_studio_s_device_choice(qtbot, tmp_path, tiny_model, no_cuda,
                                                                   monkeypatch):
    import engine.devices

    monkeypatch.setattr(engine.devices, "OTHER_DEVICE", reworded(OTHER_DEVICE))
    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    try:
        with qtbot.waitSignal(window.live.modelFailed, timeout=TIMEOUT):
            window.live.load(str(tiny_model), "cuda")
        shown = window.model_panel.status.text()
        assert "'cuda' is not available" in shown and shown.endswith("(choose CPU or Auto as the device)")
        assert "--" not in shown and "reworded" not in shown
        assert window.statusBar().currentMessage() == shown
    finally:
        close_window(window)


def test_the_command_line_advises_its_device_option(tmp_path, tiny_model, no_cuda, capsys):
    rc = main(["export", "--model", str(tiny_model), "--random", "1", "--size", "64", "--device", "cuda",
               "--out", str(tmp_path / "out")])
    assert rc == 1 and cli_error(capsys).endswith("has no CUDA GPU (use --device cpu or auto)")
    assert not (tmp_path / "out").exists()


# -- an output the user did not allow to be replaced ---------------------------------------
def test_a_dialog_says_its_overwrite_box_where_the_command_line_says_its_option(qtbot, tmp_path, capsys,
                                                                                 monkeypatch):
    from cardigan_app.data_tools.phantom_dialog import PhantomDialog
    import engine.errors

    out = tmp_path / "phantom"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["phantom", "--out", str(out), "--count", "1", "--size", "32"]) == 1
    assert cli_error(capsys) == (f"cardigan: error: {out}: already exists and is not empty (use --overwrite to "
                                 "replace a phantom dataset (cardigan phantom), or choose another folder)")

    monkeypatch.setattr(engine.errors, "USE_OVERWRITE", reworded(USE_OVERWRITE))
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.count.setValue(1)
    dialog.size.setValue(32)
    dialog.output.set_path(out)
    assert 'tick "Replace it if it is a phantom dataset"' in dialog.output_note.text()  # said before Start
    assert not dialog.start_button.isEnabled()
    # a folder that fills between the dialog's look and the job's start: the engine's refusal
    monkeypatch.setattr(dialog.output_note, "problem", lambda: None)
    dialog._update_buttons()
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert failed.args[0] == (f'{out}: already exists and is not empty (tick "Replace it if it is a '
                              'phantom dataset" to replace a phantom dataset (made with Data \u203a New phantom '
                              'dataset\u2026), or choose another folder)')
    assert "--" not in failed.args[0] and "reworded" not in failed.args[0] and "cardigan" not in failed.args[0]
    assert dialog.status.text() == failed.args[0]
    assert (out / "notes.txt").read_text() == "mine"


def test_a_dataset_of_another_kind_is_named_by_the_studio_s_menu_not_the_command(qtbot, tmp_path, tiny_model,
                                                                                  capsys, monkeypatch):
    """A refusal names the kind of dataset a folder holds and what makes it: the command line
    names its command, a dialog the Data menu's entry."""
    from cardigan_app.data_tools import ExportDialog
    from engine.data.phantom import write_phantom
    import engine.data.staging

    out = tmp_path / "phantom"
    write_phantom(out, count=1, size=32, seed=0)
    assert main(["export", "--model", str(tiny_model), "--random", "1", "--size", "64", "--overwrite",
                 "--out", str(out)]) == 1
    assert ("holds a phantom dataset (cardigan phantom), not a synthetic export (cardigan export); "
            "refusing to replace it") in cli_error(capsys)

    reworded_names = {origin: Message(name.parts[0], reworded(name.parts[1]), name.parts[2])
                      for origin, name in engine.data.staging.ORIGIN_NAMES.items()}
    monkeypatch.setattr(engine.data.staging, "ORIGIN_NAMES", reworded_names)
    dialog = ExportDialog(current_model=str(tiny_model), device="cpu")
    qtbot.addWidget(dialog)
    dialog.random_count.setValue(1)
    dialog.output.set_path(out)
    dialog.overwrite.setChecked(True)
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert failed.args[0] == (f"{out}: holds a phantom dataset (made with Data \u203a New phantom dataset\u2026), "
                              "not a synthetic export (made with Data \u203a Export batch\u2026); refusing to "
                              "replace it, choose another output folder")
    assert (out / "manifest.json").is_file()


# -- an export size the model cannot take --------------------------------------------------
def test_a_size_the_model_cannot_take_is_named_as_the_export_dialog_names_it(qtbot, tmp_path, tiny_model,
                                                                              capsys, monkeypatch):
    from cardigan_app.data_tools import ExportDialog
    import engine.export.run

    assert main(["export", "--model", str(tiny_model), "--random", "1", "--size", "100",
                 "--out", str(tmp_path / "cli")]) == 1
    assert "cardigan: error: --size 100: " in cli_error(capsys)

    monkeypatch.setattr(engine.export.run, "option", lambda name: reworded(option(name)))
    dialog = ExportDialog(current_model=str(tiny_model), device="cpu")
    qtbot.addWidget(dialog)
    dialog.random_count.setValue(1)
    dialog.size.setValue(100)
    dialog.output.set_path(tmp_path / "out")
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as failed:
        dialog.start_button.click()
    assert failed.args[0].startswith("Size 100: ") and "--" not in failed.args[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "cli").exists()
