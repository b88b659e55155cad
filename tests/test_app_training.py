"""Training from the app: wizard pages, the child process, the progress panel, closing."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QWizard

from cardigan_app.testing import close_window, open_window
from cardigan_app.training import TrainingPanel, TrainingWizard
from cardigan_app.training import menu as training_menu
from cardigan_app.training.command import TrainCommand
from cardigan_app.training.loss_plot import LossPlot, smoothed
from cardigan_app.training.process import TrainingExit
from engine.data.phantom import write_phantom
from engine.training.config import resolve_config
from engine.training.events import CheckpointSaved, Started
from engine.training.state import load_newest_state

TIMEOUT = 90_000
TINY = dict(ngf="4", ndf="8", image_size="64", n_layers_d="3")


@pytest.fixture(autouse=True)
def quiet_threads(monkeypatch):
    """One compute thread per process: tiny networks gain nothing from more, and spinning
    threads of two processes on a busy machine slow both by an order of magnitude."""
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # inherited by the training child
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "phantom"
    write_phantom(folder, count=6, size=64, seed=0)
    return folder


@pytest.fixture
def wizard(qtbot):
    wiz = TrainingWizard()
    qtbot.addWidget(wiz)
    wiz.show()
    return wiz


def next_enabled(wiz: QWizard) -> bool:
    return wiz.button(QWizard.WizardButton.NextButton).isEnabled()


def choose_data(qtbot, wiz: TrainingWizard, folder) -> tuple[bool, str]:
    with qtbot.waitSignal(wiz.data_page.checked, timeout=TIMEOUT) as checked:
        wiz.data_page.folder.set_path(folder)
    return checked.args[0], checked.args[1]


def to_run_page(qtbot, wiz: TrainingWizard, data):
    """The wizard walked to its run page: ``data`` chosen, the preset as it is, the CPU."""
    choose_data(qtbot, wiz, data)
    wiz.next()
    fill_preset(wiz)
    wiz.next()
    wiz.device_page.device.setCurrentIndex(wiz.device_page.device.findData("cpu"))
    wiz.next()
    return wiz.run_page


def fill_preset(wiz: TrainingWizard, **values: str) -> None:
    wiz.preset_page.set_preset("lite")
    for name, text in {**TINY, **values}.items():
        wiz.preset_page.table.set_text(name, text)


# -- wizard pages --------------------------------------------------------------------------
def test_data_page_refuses_missing_and_damaged_folders(qtbot, tmp_path, wizard, phantom):
    page = wizard.data_page
    ok, message = choose_data(qtbot, wizard, tmp_path / "missing")
    assert not ok and "no such folder" in message and message in page.status.text()
    assert not page.isComplete() and not next_enabled(wizard)

    damaged = tmp_path / "damaged"
    shutil.copytree(phantom, damaged)
    bad = sorted((damaged / "train" / "label").glob("*.png"))[0]
    Image.fromarray(np.full((64, 64), 7, np.uint8)).save(bad)
    ok, message = choose_data(qtbot, wizard, damaged)
    assert not ok and bad.name in message and "value 7 is not a label (allowed: 0-3)" in message
    assert not wizard.validateCurrentPage()

    ok, message = choose_data(qtbot, wizard, phantom)
    assert ok and "training pairs" in message and "64 \u00d7 64" in message
    assert next_enabled(wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.preset_page and wizard.state.data_dir == phantom

    wizard.back()  # a raw source needs a detected format and a new or empty folder to prepare into
    page.use_raw.setChecked(True)
    assert not page.isComplete() and not page.validatePage()
    source = tmp_path / "seed.hdf5"
    write_phantom(source, count=3, size=64, seed=0, format="hdf5")
    with qtbot.waitSignal(page.raw_form.formatDetected, timeout=TIMEOUT):
        page.raw_form.source.set_path(source)
    page.raw_out.set_path(phantom)
    assert not page.validatePage() and "not empty" in page.status.text()
    page.raw_out.set_path(tmp_path / "prepared")
    assert page.isComplete() and page.validatePage()
    assert wizard.state.prepare.source == source and wizard.state.data_dir == tmp_path / "prepared"


def test_a_folder_that_is_no_dataset_is_refused_with_the_studio_s_way_to_make_one(qtbot, tmp_path, wizard,
                                                                                   capsys):
    from engine.cli.main import main

    (tmp_path / "photos").mkdir()
    ok, message = choose_data(qtbot, wizard, tmp_path / "photos")
    assert not ok and message.endswith("(not a prepared dataset; make one with Data \u203a Prepare dataset\u2026 "
                                       "or Data \u203a New phantom dataset\u2026)")
    assert "cardigan" not in message
    assert main(["train", "--data", str(tmp_path / "photos"), "--run", str(tmp_path / "run"), "--iters", "1"]) == 1
    assert "make one with `cardigan prepare` or `cardigan phantom`" in capsys.readouterr().err


def test_a_raw_source_chosen_while_the_folder_is_checked_hears_nothing_of_the_check(qtbot, wizard, phantom):
    """The prepared folder's check, still on its way when the raw source was chosen, wrote
    "1600 training pairs" under the raw source's form, as if it were that source's."""
    page = wizard.data_page
    answers = []
    answer = page._checked
    page._checked = lambda *args: (answers.append(args), answer(*args))
    page.folder.set_path(phantom)  # the check waits for typing to pause, then runs in the background
    page.check_now()
    page.use_raw.setChecked(True)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=TIMEOUT)
    assert page.status.text() == "" and not page.isComplete()
    with qtbot.waitSignal(page.checked, timeout=TIMEOUT) as checked:
        page.use_prepared.setChecked(True)  # chosen again: checked again
    assert checked.args[0] and page.status.text() == checked.args[1] and page.isComplete()


def test_a_16_bit_dataset_is_refused_with_the_studio_s_way_to_an_8_bit_copy(qtbot, tmp_path, wizard, phantom,
                                                                             capsys):
    from engine.cli.main import main
    from engine.data.sources import detect_format

    deep = tmp_path / "deep"
    shutil.copytree(phantom, deep)
    image = sorted((deep / "train" / "img").glob("*.png"))[0]
    Image.fromarray(np.asarray(Image.open(image)).astype(np.uint16) * 200).save(image)
    ok, message = choose_data(qtbot, wizard, deep)
    assert not ok and message.endswith(f"img/{image.name}: not an 8-bit image (mode I;16); Data \u203a Prepare "
                                       "dataset\u2026 with this folder as the source makes an 8-bit copy")
    assert "cardigan prepare" not in wizard.data_page.status.text()
    assert detect_format(deep) == "folders"  # what the studio's advice relies on: it is a source to prepare
    assert main(["train", "--data", str(deep), "--run", str(tmp_path / "run"), "--iters", "1"]) == 1
    assert (f"not an 8-bit image (mode I;16); `cardigan prepare --source {deep} --out NEW_FOLDER` makes an "
            "8-bit copy") in capsys.readouterr().err


def test_pictures_as_label_maps_are_refused_in_one_line_pointing_at_the_raw_source_choice(qtbot, tmp_path, wizard,
                                                                                          phantom, capsys):
    from engine.cli.main import main

    photos = tmp_path / "photos"
    shutil.copytree(phantom, photos)
    for label in (photos / "train" / "label").glob("*.png"):
        shutil.copy(photos / "train" / "img" / label.name, label)
    ok, message = choose_data(qtbot, wizard, photos)
    assert not ok and message.count("label/") == 1 and "a picture, not a label map" in message
    assert message.endswith("in their place (for a CAMUS source, whose masks are the *_gt files, choose "
                            "\u201cA raw CAMUS source, prepared first\u201d)")
    assert main(["train", "--data", str(photos), "--run", str(tmp_path / "run"), "--iters", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("label/") == 1 and err.rstrip().endswith("`cardigan prepare` makes them from a CAMUS source, "
                                                             "whose masks are the *_gt files)")


def test_the_wizard_defaults_to_the_preset_that_fits_the_device_and_says_why(wizard):
    import torch

    page = wizard.preset_page
    if torch.cuda.is_available():
        assert page.preset_name() == "quality"
    else:
        assert page.preset_name() == "lite" and "No CUDA GPU" in page.hint.text()


def test_every_meaning_can_be_read_whole_and_names_the_table_s_rows(wizard):
    table = wizard.preset_page.table
    for row, field in enumerate(table.fields):
        meaning = table.item(row, table.MEANING)
        assert meaning.toolTip() == meaning.text()  # a meaning wider than its column is cut short
        assert "--" not in meaning.text(), (field.name, meaning.text())  # no option of the command line
    niter = table.item(table.row_of("niter"), table.MEANING).text()
    assert "with iters or epochs" in niter


def test_the_current_row_s_whole_meaning_shows_under_the_table_at_one_height(qtbot, wizard, phantom):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QApplication

    from cardigan_app.training.hyperparams import table_words
    from engine.training.config import TrainConfig

    choose_data(qtbot, wizard, phantom)
    wizard.next()
    page, table = wizard.preset_page, wizard.preset_page.table
    description = page.description
    help_of = {f.name: table_words(f.metadata.get("help", "")) for f in dataclasses.fields(TrainConfig)}

    def shown() -> str:
        document = QTextDocument()
        document.setHtml(description.text())
        return document.toPlainText()

    longest = max(table.fields, key=lambda field: len(help_of[field.name])).name
    row = table.row_of(longest)
    assert table.fontMetrics().horizontalAdvance(help_of[longest]) > table.columnWidth(table.MEANING)  # cut short
    table.scrollToItem(table.item(row, table.NAME))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualItemRect(table.item(row, table.NAME)).center())
    assert table.currentRow() == row
    assert f"<b>{longest}</b>" in description.text()
    assert shown() == f"{longest} \u2014 {help_of[longest]}"  # whole, and no preset's value: the row holds it
    QApplication.processEvents()  # the layout answers any change of the description's height
    tall = description.height()

    qtbot.keyClick(table, Qt.Key.Key_Up)
    above = table.fields[row - 1].name
    assert table.currentRow() == row - 1 and f"<b>{above}</b>" in description.text()
    shortest = min(table.fields, key=lambda field: len(help_of[field.name])).name
    table.setCurrentCell(table.row_of(shortest), table.VALUE)
    table.set_text(shortest, "a value not the preset's" if table.fields[table.row_of(shortest)].kind is str else "7")
    preset_value = table.item(table.row_of(shortest), table.PRESET).text() or "empty"
    assert shown() == f"{shortest} \u2014 {help_of[shortest]}\nThe lite preset's value: {preset_value}"
    QApplication.processEvents()
    assert description.height() == tall  # the note and buttons below do not move from row to row
    for row in range(table.rowCount()):  # and no description is cut short at that height
        table.setCurrentCell(row, table.VALUE)
        assert description.heightForWidth(description.width()) <= description.height(), table.fields[row].name


def test_preset_page_shows_the_preset_and_refuses_bad_values(qtbot, wizard, phantom):
    choose_data(qtbot, wizard, phantom)
    wizard.next()
    page, table = wizard.preset_page, wizard.preset_page.table
    page.set_preset("lite")
    assert table.text("ngf") == str(resolve_config("lite").ngf) and table.text("modulation") == "clade"
    table.set_text("lr", "-1")
    assert not wizard.validateCurrentPage() and "learning rate must be positive" in page.message.text()
    table.set_text("lr", "0.0002")
    table.set_text("ngf", "four")
    assert not wizard.validateCurrentPage() and "ngf: 'four' is not a whole number" in page.message.text()
    table.set_text("ngf", "4")
    table.set_text("image_size", "70")
    assert not wizard.validateCurrentPage() and "multiple of 32" in page.message.text()
    fill_preset(wizard, iters="50")
    # n_layers_d is lite's own, and image_size 64 its size on this 64-pixel data
    assert set(table.changed_fields()) == {"ngf", "ndf", "iters"}
    assert table.item(table.row_of("ngf"), table.VALUE).font().bold()
    assert wizard.validateCurrentPage()
    assert wizard.state.config.ngf == 4 and wizard.state.config.iters == 50 and wizard.state.config.preset == "lite"


def test_the_image_size_follows_smaller_data_and_the_command_gives_it_only_when_changed(qtbot, wizard, phantom):
    choose_data(qtbot, wizard, phantom)
    wizard.next()
    page, table = wizard.preset_page, wizard.preset_page.table
    page.set_preset("lite")
    assert table.text("image_size") == "64" and "image_size" not in table.changed_fields()
    assert "Trains at 64 px, the data's size (the lite preset's is 256); set image_size to change." in page.hint.text()
    assert wizard.validateCurrentPage()
    command = TrainCommand.new_run(phantom, "/r", wizard.state.config, data_side=wizard.state.data_side())
    assert "--size" not in command.arguments()  # the engine takes the data's size itself
    table.set_text("image_size", "256")  # the preset's own size, asked for: given
    assert "image_size" in table.changed_fields() and "resized to image_size 256" in page.hint.text()
    assert wizard.validateCurrentPage()
    command = TrainCommand.new_run(phantom, "/r", wizard.state.config, data_side=wizard.state.data_side())
    assert command.arguments()[-2:] == ["--image-size", "256"]
    wizard.state.data_size = (512, 512)  # other data, chosen on the first page: the size left as set
    page.initializePage()
    assert table.text("image_size") == "256" and table.item(table.row_of("image_size"), table.PRESET).text() == "256"


def test_pairs_of_several_sizes_are_taken_as_training_takes_them_and_said_so(qtbot, tmp_path, wizard, phantom):
    data = tmp_path / "mixed"
    shutil.copytree(phantom, data)
    stem = sorted((data / "train" / "img").iterdir())[0].name
    for folder, kind in (("img", Image.Resampling.BILINEAR), ("label", Image.Resampling.NEAREST)):
        with Image.open(data / "train" / folder / stem) as picture:
            picture.resize((96, 96), kind).save(data / "train" / folder / stem)
    ok, message = choose_data(qtbot, wizard, data)
    assert ok and message.endswith("training pairs of 2 sizes, 64 \u00d7 64 to 96 \u00d7 96 px (each is resized "
                                   "to the run's image size while training)")
    assert wizard.state.data_side() == 96
    wizard.next()
    page, table = wizard.preset_page, wizard.preset_page.table
    page.set_preset("lite")
    assert table.text("image_size") == "96"  # as `cardigan train` chooses it: the largest side
    assert "Trains at 96 px, the data's largest side" in page.hint.text()
    table.set_text("image_size", "128")
    assert "The data's pairs come in 2 sizes; each is resized to image_size 128 while training." in page.hint.text()


def test_the_image_size_follows_the_upsampling_as_the_engine_chooses_it(qtbot, wizard, phantom):
    """On 64-px data, upsampling "most" kept 64 in the table and the page refused it, while
    the command line took 128 itself."""
    choose_data(qtbot, wizard, phantom)
    wizard.next()
    page, table = wizard.preset_page, wizard.preset_page.table
    page.set_preset("lite")
    table.set_text("upsampling", "most")
    assert table.text("image_size") == "128" and "image_size" not in table.changed_fields()
    assert "Trains at 128 px" in page.hint.text() and wizard.validateCurrentPage()
    command = TrainCommand.new_run(phantom, "/r", wizard.state.config, data_side=wizard.state.data_side())
    assert "--size" not in command.arguments() and "--image-size" not in command.arguments()
    table.set_text("upsampling", "normal")
    assert table.text("image_size") == "64" and wizard.validateCurrentPage()
    table.set_text("image_size", "256")  # asked for: kept whatever the upsampling
    table.set_text("upsampling", "more")
    assert table.text("image_size") == "256" and "image_size" in table.changed_fields()


def test_the_preset_page_names_an_option_as_its_table_does(qtbot, wizard, phantom, monkeypatch):
    """A problem with a hyper-parameter was shown in the command line's words (--lr), which
    the table of the page does not use."""
    from cardigan_app.training import page_preset
    from engine.errors import CardiganError, Message, option

    def refuse(*args, **kwargs):
        raise CardiganError(Message("invalid training configuration: ", option("lr"), " is too large"))

    choose_data(qtbot, wizard, phantom)
    wizard.next()
    monkeypatch.setattr(page_preset, "resolve_config", refuse)
    page = wizard.preset_page
    page.table.set_text("lr", "0.5")  # the page checks as it is edited
    assert page.message.text() == "invalid training configuration: lr is too large"
    page.message.setText("")
    assert not wizard.validateCurrentPage()
    assert page.message.text() == "invalid training configuration: lr is too large"


def test_device_page_refuses_batch_size_zero_and_estimates_memory(qtbot, wizard, phantom):
    choose_data(qtbot, wizard, phantom)
    wizard.next()
    fill_preset(wizard)
    wizard.next()
    page = wizard.device_page
    assert page.batch.value() == resolve_config("lite").batch_size
    qtbot.waitUntil(lambda: "estimated" in page.memory.text(), timeout=TIMEOUT)
    small = page.memory.text()
    page.batch.setValue(64)
    assert page.memory.text() != small and "batch 64" in page.memory.text()
    page.batch.setValue(0)
    assert not wizard.validateCurrentPage() and "batch size must be at least 1" in page.message.text()
    pairs = wizard.state.data_pairs
    page.batch.setValue(pairs + 1)  # not one whole batch in an epoch: the run could not start
    assert not wizard.validateCurrentPage()
    assert f"more than the {pairs} training pairs" in page.message.text()
    page.batch.setValue(pairs)
    assert wizard.validateCurrentPage()
    page.batch.setValue(2)
    page.device.setCurrentIndex(page.device.findData("cpu"))
    assert wizard.validateCurrentPage()
    assert (wizard.state.device, wizard.state.batch_size) == ("cpu", 2)


def test_the_memory_estimate_never_holds_the_wizard_and_a_late_one_is_dropped(qtbot, wizard, phantom):
    """A slow estimate says what it does and lets the wizard go on; its result, once the
    preset has changed, is not shown for the new one; a failure says so in one line."""
    import threading

    from engine.training.memory import NetworkFootprint

    release = threading.Event()

    def slow(config):
        release.wait(30)
        return NetworkFootprint(1_000_000, 10, 10)

    choose_data(qtbot, wizard, phantom)
    wizard.next()
    fill_preset(wizard)
    page = wizard.device_page
    page.estimator = slow
    page._slow.setInterval(1)
    wizard.next()
    qtbot.waitUntil(lambda: "building the networks" in page.memory.text(), timeout=TIMEOUT)
    assert page.memory.text().startswith("estimating\u2026") and next_enabled(wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.run_page  # not held by the estimate
    wizard.back()
    wizard.back()
    fill_preset(wizard, ngf="6")  # other networks
    page.estimator = lambda config: NetworkFootprint(7_000_000, 10, 10)
    wizard.next()
    qtbot.waitUntil(lambda: "7.0 M parameters" in page.memory.text(), timeout=TIMEOUT)
    release.set()  # the first estimate ends late, for networks no longer chosen
    qtbot.waitUntil(lambda: not any(t.name == "memory estimate" for t in threading.enumerate()), timeout=TIMEOUT)
    qtbot.wait(50)  # its queued result delivered
    page.batch.setValue(3)
    assert "7.0 M parameters" in page.memory.text() and "at batch 3" in page.memory.text()

    def fails(config):
        raise RuntimeError("no meta device")

    wizard.back()
    fill_preset(wizard, ngf="8")
    page.estimator = fails
    wizard.next()
    qtbot.waitUntil(lambda: page.memory.text().startswith("no estimate"), timeout=TIMEOUT)
    assert page.memory.text() == ("no estimate: the memory estimate failed (RuntimeError: no meta device); "
                                  "the run does not need one")
    assert wizard.validateCurrentPage()


def test_run_page_refuses_used_unwritable_and_unresumable_folders(qtbot, tmp_path, wizard, phantom):
    page = to_run_page(qtbot, wizard, phantom)
    assert wizard.currentPage() is page
    page.folder.set_path(None)
    assert not wizard.validateCurrentPage() and "choose a run folder" in page.message.text()

    used = tmp_path / "used"
    (used / "checkpoints").mkdir(parents=True)
    (used / "config.json").write_text(json.dumps(resolve_config("lite").to_dict()))
    page.folder.set_path(used)
    assert not wizard.validateCurrentPage() and "already holds a training run" in page.message.text()
    assert "--" not in page.message.text()  # the wizard's choices, not the command line's options
    assert "holds a run" in page.info.text()
    assert not page.resume.isEnabled() and "saved no training state" in page.resume.toolTip()  # none to resume

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    page.new_run.setChecked(True)
    page.folder.set_path(a_file / "run")
    assert not wizard.validateCurrentPage() and "is a file, not a folder" in page.message.text()
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        page.folder.set_path(locked / "run")
        assert not wizard.validateCurrentPage() and "no permission" in page.message.text()

    page.folder.set_path(tmp_path / "runs" / "new")
    assert "--preset lite" in page.command.text() and "--ngf 4" in page.command.text()
    assert wizard.validateCurrentPage()
    command = wizard.request().command
    assert not command.resume and command.overrides["device"] == "cpu" and command.run == tmp_path / "runs" / "new"
    assert command.time_limit is None and "--time-limit" not in page.command.text()
    assert not page.hours.isEnabled()
    page.limited.setChecked(True)  # "Stop after 1.5 h"
    page.hours.setValue(1.5)
    assert page.hours.isEnabled() and "--time-limit 1h30m" in page.command.text()
    assert wizard.validateCurrentPage()
    command = wizard.request().command
    assert command.time_limit == 5400
    assert command.arguments()[command.arguments().index("--time-limit") + 1] == "1h30m"


def test_a_resume_on_smaller_data_says_its_size_as_the_command_line_does(qtbot, tmp_path, wizard, phantom):
    from engine.training.data_size import resumed_on_smaller_data

    page = to_run_page(qtbot, wizard, phantom)
    stored = resolve_config("lite")  # 256 px, on the 64-px phantom
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(stored.to_dict()))
    (run / "checkpoints" / "state_00000010.pt").write_bytes(b"")
    page.folder.set_path(run)
    page.resume.setChecked(True)
    assert "It resumes at 256 px, the run's size: the data's 64-px pairs are resized to it." in page.info.text()
    assert resumed_on_smaller_data(stored, 64) in page.info.text()
    assert resumed_on_smaller_data(stored, 256) is None
    (run / "config.json").write_text(json.dumps(dict(stored.to_dict(), image_size=64)))
    page.folder.set_path(None)
    page.folder.set_path(run)
    page.resume.setChecked(True)
    assert page.resume.isChecked() and "It resumes" not in page.info.text()  # the run's size is the data's


@pytest.mark.parametrize("case", ["earlier run", "user files", "a file", "inside the data", "nothing to resume"])
def test_the_wizard_refuses_what_train_refuses_in_its_words(case, phantom, tmp_path, capsys, monkeypatch):
    """Which folder may start a run is decided once (RunFolder.start_problem); the wizard says
    its advice as its own choices, whatever the command line's words for it."""
    from cardigan_app.training.run_folders import run_folder_problem
    from engine.cli.main import main
    from engine.errors import Advice
    from engine.training import run_folder

    run, resume = tmp_path / "run", case == "nothing to resume"
    if case == "earlier run":
        (run / "checkpoints").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps(resolve_config("lite").to_dict()))
    elif case == "user files":
        run.mkdir()
        (run / "thesis.txt").write_text("mine")
    elif case == "a file":
        (tmp_path / "file.txt").write_text("x")
        run = tmp_path / "file.txt" / "run"
    elif case == "inside the data":
        run = phantom / "run"
    args = ["train", "--data", str(phantom), "--run", str(run), "--preset", "lite", "--iters", "1",
            "--device", "cpu"] + (["--resume"] if resume else [])
    assert main(args) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cardigan")]
    for name in ("RESUME_RUN", "REPLACE_RUN"):
        advice = getattr(run_folder, name)
        monkeypatch.setattr(run_folder, name, Advice(advice.key, f"(reworded {advice.cli})"))
    refused = run_folder_problem(run, resume, phantom)
    assert refused and "--" not in refused and "reworded" not in refused
    if case == "earlier run":  # the command line names its options, the wizard its choices
        assert err[0].endswith("already holds a training run: resume it (--resume), replace it (--overwrite) "
                               "or choose a new run folder")
        assert refused == f"{run} already holds a training run: resume it, replace it or choose a new run folder"
    else:
        assert len(err) == 1 and err[0].endswith(refused), (err, refused)
    assert not (phantom / "run").exists()


# -- a real (tiny) run ---------------------------------------------------------------------
def start_from_the_ui(qtbot, window, data, run, **values: str) -> TrainingPanel:
    window.commands["new_training"].trigger()
    wiz = window.training.wizard
    assert wiz is not None and wiz.isVisible()
    choose_data(qtbot, wiz, data)
    wiz.next()
    fill_preset(wiz, **values)
    wiz.next()
    wiz.device_page.device.setCurrentIndex(wiz.device_page.device.findData("cpu"))
    wiz.device_page.batch.setValue(2)
    wiz.next()
    wiz.run_page.folder.set_path(run)
    wiz.button(QWizard.WizardButton.FinishButton).click()
    panel = window.training.panel
    assert window.training.dock.isVisible() and panel.running
    return panel


def events_of(panel: TrainingPanel) -> list:
    seen: list = []
    panel.process.event.connect(seen.append)
    return seen


@pytest.mark.slow
def test_a_run_started_from_the_ui_streams_progress_stops_resumes_and_closes(qtbot, tmp_path, phantom,
                                                                           tiny_model, monkeypatch):
    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    run = tmp_path / "run"
    panel = window.training.panel
    try:
        start_from_the_ui(qtbot, window, phantom, run, iters="2000", log_every="1", sample_every="3")
        seen = events_of(panel)
        qtbot.waitUntil(lambda: panel.preview.iteration >= 3 and panel.plot.point_count("G_GAN") >= 3
                        and panel.iter_bar.value() >= 3, timeout=TIMEOUT)
        assert panel.iter_bar.maximum() == 2000
        assert panel.epoch_bar.maximum() == 2000 and panel.epoch_bar.value() == panel.iter_bar.value()
        assert panel.epoch_bar.format().startswith("epoch 1 / ") and "images/s" in panel.speed.text()
        assert {"G_GAN", "G_feat", "D_real", "D_fake"} <= set(panel.plot.series)
        assert panel.preview.pixmap is not None and panel.state == "running"

        with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as stopped:
            panel.stop_button.click()
        result: TrainingExit = stopped.args[0]
        assert result.ok and result.stopped_early and panel.state == "stopped"
        first = result.iteration
        assert first >= 3 and (run / "model.safetensors").is_file()
        assert panel.resume_button.isEnabled() and panel.model_button.isEnabled()

        panel.model_button.click()  # "Open model in studio"
        qtbot.waitUntil(lambda: window.live.model_spec == str(run / "model.safetensors"), timeout=TIMEOUT)
        assert window.model_panel.model_combo.currentData() == str(run / "model.safetensors")

        seen.clear()
        panel.resume_button.click()
        assert panel.running and not panel.resume_button.isEnabled()
        qtbot.waitUntil(lambda: panel.process.iteration > first + 2, timeout=TIMEOUT)
        started = [e for e in seen if isinstance(e, Started)]
        assert started and started[0].start_iter == first  # continues where it stopped
        assert "resuming from iteration" in panel.log_view.toPlainText()

        asked = []
        monkeypatch.setattr(training_menu, "ask_stop_for_close", lambda parent: asked.append(1) or False)
        window.close()
        assert asked and window.isVisible() and panel.running  # declined: nothing stopped
        monkeypatch.setattr(training_menu, "ask_stop_for_close", lambda parent: True)
        window.document.mark_saved()
        window.close()  # stops gracefully: the child saves its state before the app goes
        assert not panel.running and panel.last_exit is not None
        assert panel.last_exit.ok and panel.last_exit.stopped_early and panel.last_exit.iteration > first
        states = sorted((run / "checkpoints").glob("state_*.pt"))
        assert states and int(states[-1].stem.split("_")[1]) == panel.last_exit.iteration
    finally:
        panel.process.kill()
        panel.process.wait_for_exit(10_000)
        close_window(window)


def shown_panel(qtbot) -> TrainingPanel:
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.show()
    return panel


def tiny_lite(**schedule):
    """A lite config small enough for a child process to train in seconds on the CPU."""
    return resolve_config("lite", ngf=4, ndf=8, image_size=64, n_layers_d=3, batch_size=2, device="cpu",
                          log_every=1, **schedule)


def test_a_killed_child_is_reported_and_the_run_stays_resumable(qtbot, tmp_path, phantom):
    panel = shown_panel(qtbot)
    run = tmp_path / "run"
    config = tiny_lite(iters=5000, checkpoint_every=2, sample_every=1000)
    seen = events_of(panel)
    panel.start(TrainCommand.new_run(phantom, run, config))
    qtbot.waitUntil(lambda: any(isinstance(e, CheckpointSaved) for e in seen), timeout=TIMEOUT)
    saved = max(e.iteration for e in seen if isinstance(e, CheckpointSaved))
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        os.kill(panel.process.pid, signal.SIGKILL)
    result: TrainingExit = ended.args[0]
    assert result.crashed and result.code == signal.SIGKILL and not result.ok
    assert panel.state == "failed"
    assert "killed (SIGKILL 9)" in panel.status.text() and "Resume" in panel.status.text()
    newest = load_newest_state(run / "checkpoints")[1]["iteration"]
    assert f"state saved at iteration {newest} is intact" in panel.status.text()
    assert panel.eta.text() == "ETA \u2014"  # no time left to count for a process that is gone
    assert panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    found = load_newest_state(run / "checkpoints")  # what Resume continues from
    assert found is not None and found[1]["iteration"] >= saved
    assert TrainCommand.resume_run(phantom, run).arguments()[-1] == "--resume"


@pytest.mark.parametrize("killed_at, lost", [(27, " (the 7 iterations after it are trained again)."),
                                              (21, " (the iteration after it is trained again)."), (20, ".")])
def test_a_killed_run_says_how_many_iterations_resume_trains_again(qtbot, tmp_path, killed_at, lost):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_lite(iters=60).to_dict()))
    (run / "checkpoints" / "state_00000020.pt").write_bytes(b"")  # (named, not written: only its number counts)
    panel = shown_panel(qtbot)
    panel.command = TrainCommand.new_run(tmp_path / "data", run, tiny_lite(iters=60))
    panel._exited(TrainingExit(code=int(signal.SIGKILL), crashed=True, finished=False, stopped_early=False,
                               iteration=killed_at))
    assert panel.status.text().endswith("The state saved at iteration 20 is intact: Resume continues from there"
                                        + lost)


def test_a_run_at_its_time_limit_is_stopped_not_failed_and_resumes_with_the_same_limit(qtbot, tmp_path, phantom,
                                                                                     monkeypatch):
    panel = shown_panel(qtbot)
    run = tmp_path / "run"
    config = tiny_lite(iters=100000, checkpoint_every=100000, sample_every=100000)
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(dataclasses.replace(TrainCommand.new_run(phantom, run, config), time_limit=1.0))
    result: TrainingExit = ended.args[0]
    assert result.code == 75 and result.timed_out and result.ok and result.stopped_early
    assert panel.state == "stopped" and "within its time limit" in panel.status.text()
    assert "continue with --resume" not in panel.log_view.toPlainText()  # the panel offers Resume
    assert load_newest_state(run / "checkpoints")[1]["iteration"] == result.iteration >= 1
    assert panel.resume_button.isEnabled()
    started = []
    monkeypatch.setattr(panel, "start", started.append)
    panel.resume_button.click()
    assert started[0].resume and started[0].time_limit == 1.0


def test_only_a_finished_child_with_the_time_limits_code_counts_as_timed_out():
    def ended(code=75, crashed=False, finished=True, stopped=True):
        return TrainingExit(code, crashed, finished, stopped, 12)

    assert ended().timed_out and ended().ok
    assert not ended(finished=False).timed_out and not ended(finished=False).ok  # died before saying it stopped
    assert not ended(code=0).timed_out and ended(code=0).ok  # a Stop button press
    assert not ended(code=3).ok and "exited with code 3" in ended(code=3).describe()


class ScriptCommand(TrainCommand):
    """A stand-in child: runs a Python snippet instead of the trainer (no torch to import)."""

    def arguments(self) -> list[str]:
        return ["-c", self.overrides["script"]]

    def display(self) -> str:
        return "python -c <script>"


FAILING_CHILD = """
import json, sys
print(json.dumps({"type": "Notice", "message": "checking the data"}), flush=True)
print(json.dumps({"type": "Failed", "message": "/x: no such data folder"}), flush=True)
print("cardigan: /x: no such data folder", file=sys.stderr)
sys.exit(2)
"""


def test_a_failed_run_shows_the_engine_message(qtbot, tmp_path):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(ScriptCommand(tmp_path / "x", tmp_path / "run", overrides={"script": FAILING_CHILD}))
    result: TrainingExit = ended.args[0]
    assert not result.ok and result.code == 2 and not result.crashed
    assert result.failure == "/x: no such data folder" and result.stderr_tail[-1].endswith("no such data folder")
    assert panel.status.text().startswith("Training failed: /x: no such data folder")
    assert "checking the data" in panel.log_view.toPlainText() and not panel.resume_button.isEnabled()


def held_run(folder):
    """A folder that holds an earlier run (its config and a checkpoints folder)."""
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(resolve_config("lite").to_dict()))
    return folder


@pytest.mark.parametrize("case", ["held run", "no such device"])
def test_a_child_s_advice_is_said_in_the_studio_s_words_and_its_stderr_in_the_command_line_s(
        case, qtbot, tmp_path, phantom):
    """The child refuses a folder that holds a run (the training's own check) or a device the
    machine lacks (before the training starts): the panel says how to fix it with the studio's
    controls, while the command, as a terminal shows it, names its options."""
    from engine.devices import mps_available

    if case == "no such device" and mps_available():
        pytest.skip("this machine has the device")
    panel = shown_panel(qtbot)
    run = held_run(tmp_path / "run") if case == "held run" else tmp_path / "run"
    config = dataclasses.replace(tiny_lite(iters=2), device="mps" if case == "no such device" else "cpu")
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(TrainCommand.new_run(phantom, run, config))
    result: TrainingExit = ended.args[0]
    cli = next(line for line in result.stderr_tail if line.startswith("cardigan: error:"))
    if case == "held run":
        assert cli == (f"cardigan: error: {run} already holds a training run: resume it (--resume), "
                       "replace it (--overwrite) or choose a new run folder")
        assert result.failure == (f"{run} already holds a training run: resume it (Resume), replace it "
                                  '(New training run\u2026, "Replace the run in this folder") or choose a new '
                                  "run folder")
    else:
        assert cli == "cardigan: error: device 'mps' is not available on this machine (use --device cpu or auto)"
        assert result.failure == "device 'mps' is not available on this machine (choose CPU or Auto as the device)"
    assert panel.state == "failed" and panel.status.text().startswith(f"Training failed: {result.failure}")
    assert "--" not in panel.status.text()
    assert f"failed: {result.failure}" in panel.log_view.toPlainText()
    assert "cardigan: error" not in panel.log_view.toPlainText()  # said once, in the studio's words
    # refused before it trained: nothing was lost, and the message's advice is the way on
    assert panel.status.text() == f"Training failed: {result.failure}."


# -- small pieces --------------------------------------------------------------------------
def test_command_lists_only_what_differs_from_the_preset():
    config = resolve_config("lite", ngf=4, ttur=False, augment=False, lr=0.001, iters=20, device="cpu")
    args = TrainCommand.new_run("/d", "/r", config).arguments()
    assert args[:3] == ["-m", "engine", "train"] and "--events-jsonl" in args
    joined = " ".join(args)
    assert "--preset lite --ngf 4 --iters 20 --lr 0.001 --no-ttur --no-augment --device cpu" in joined
    assert "--ndf" not in joined  # the preset's own value
    resume = TrainCommand.resume_run("/d", "/r", device="cpu", amp=None).arguments()
    assert "--resume" in resume and "--preset" not in resume and "--amp" not in resume


def test_loss_plot_keeps_one_curve_per_loss_and_replaces_repeated_iterations(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    for i in range(1, 11):
        plot.add(i, {"G_GAN": float(i), "D_real": 1.0 / i, "bad": float("nan")})
    plot.add(6, {"G_GAN": 60.0})  # a resumed run logs iteration 6 again
    assert plot.series["G_GAN"][0] == [1, 2, 3, 4, 5, 6] and plot.series["G_GAN"][1][-1] == 60.0
    assert "bad" not in plot.series and len(plot.cells()) == 2
    plot.resize(500, 300)
    image = plot.grab().toImage()
    assert image.width() == 500
    assert smoothed([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])



def test_the_bars_end_where_the_run_ended(qtbot):
    from engine.training.events import Finished, ProgressUpdate

    panel = shown_panel(qtbot)
    panel._event(Started("run", 400, 12, 0, "cpu", {}))
    panel._event(ProgressUpdate(23, 400, 2, 34, 20.0, 30.0))
    panel._event(Finished(24, "run/model.safetensors", True))  # stopped before its next report
    assert panel.iter_bar.value() == 24 and panel.epoch_bar.value() == 24


def test_the_bars_never_show_fewer_iterations_than_the_curves_and_the_preview(qtbot, tmp_path):
    from engine.training.events import ProgressUpdate, SamplePreview, Scalars

    panel = shown_panel(qtbot)
    panel._event(Started("run", 60, 12, 0, "cpu", {}))
    panel._event(ProgressUpdate(10, 60, 1, 5, 20.0, 30.0))
    for iteration in (11, 12, 13):  # logged each step, between two progress reports
        panel._event(Scalars(iteration, iteration // 12, {"Loss/G_GAN": 1.0}))
    assert panel.plot.series["G_GAN"][0][-1] == 13
    assert panel.iter_bar.value() == 13 and panel.iter_bar.text() == "iteration 13 / 60"
    assert panel.epoch_bar.value() == 13 and panel.epoch_bar.text() == "epoch 2 / 5"
    Image.new("L", (8, 8)).save(tmp_path / "iter_00000014.png")
    panel._event(SamplePreview(14, str(tmp_path / "iter_00000014.png")))
    assert panel.iter_bar.value() == 14
    panel._event(Scalars(12, 1, {"Loss/G_GAN": 1.0}))  # an older step does not move them back
    assert panel.iter_bar.value() == 14


def test_the_bars_moved_by_a_logged_step_name_the_epoch_it_belongs_to(qtbot, tmp_path):
    # an epoch's last iteration is of that epoch, as the progress reports and the terminal say
    from engine.training.events import SamplePreview, Scalars

    panel = shown_panel(qtbot)
    panel._event(Started("run", 60, 12, 0, "cpu", {}))
    panel._event(Scalars(12, 1, {"Loss/G_GAN": 1.0}))
    assert panel.iter_bar.value() == 12 and panel.epoch_bar.text() == "epoch 1 / 5"
    Image.new("L", (8, 8)).save(tmp_path / "iter_00000024.png")
    panel._event(SamplePreview(24, str(tmp_path / "iter_00000024.png")))
    assert panel.epoch_bar.text() == "epoch 2 / 5"
    panel._event(Scalars(25, 3, {"Loss/G_GAN": 1.0}))
    assert panel.epoch_bar.text() == "epoch 3 / 5"


def test_the_status_and_the_log_name_the_device_as_the_device_choice_does(qtbot):
    panel = shown_panel(qtbot)
    for device, said in (("cpu", "CPU"), ("cuda:1", "CUDA 1"), ("mps", "MPS")):
        panel._event(Started("run", 400, 12, 0, device, {}))
        assert panel.status.text() == f"Training on {said} from scratch"
        last = panel.log_view.toPlainText().splitlines()[-1]
        assert last == f"training on {said}: 400 iterations (12 per epoch), from scratch"


def test_each_loss_curve_says_what_it_measures(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.add(1, {"G_GAN": 1.0, "G_feat": 9.0, "G_coarse": 0.2, "D_real": 0.9})
    said = {name: plot.tooltip_at(cell.center()) for name, cell in plot.cells()}
    assert said["G_GAN"].startswith("G_GAN: the generator's adversarial loss")
    assert said["G_feat"].startswith("G_feat: feature matching:") and "lambda_feat" in said["G_feat"]
    assert said["G_coarse"].startswith("G_coarse: an L1 loss between coarse") and "lambda_coarse" in said["G_coarse"]
    assert said["D_real"].startswith("D_real: the discriminators' loss on real images")
    assert all("sample previews" in text for text in said.values())  # how to read them, beside each


def test_a_finished_preparation_is_logged_with_its_counts(qtbot, monkeypatch):
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    launched = []
    monkeypatch.setattr(panel, "_launch", launched.append)
    panel._prepared({"counts": {"train": 8, "valid": 1, "test": 1, "odd": 3}}, "the command")
    assert "prepared: train 8, valid 1, test 1" in panel.log_view.toPlainText()
    assert launched == ["the command"]


@pytest.mark.parametrize("name", ["init_from", "init_disc_from"])
def test_a_warm_start_that_cannot_be_used_is_named_as_the_wizard_s_table_names_it(name, phantom, tmp_path):
    from cardigan_app.training.process import TRAINING_WORDS
    from engine.errors import CardiganError
    from engine.training.events import Failed, TrainCallbacks
    from engine.training.loop import train

    spec = "simulator" if name == "init_from" else str(tmp_path / "nowhere")
    seen: list = []
    with pytest.raises(CardiganError) as refused:
        train(dataclasses.replace(tiny_lite(iters=2), **{name: spec}), phantom, tmp_path / "run",
              TrainCallbacks(seen.append))
    failed = [event for event in seen if isinstance(event, Failed)]
    assert len(failed) == 1 and failed[0].message == str(refused.value)
    assert str(refused.value).startswith("--" + name.replace("_", "-") + f" {spec}: ")
    assert failed[0].said(TRAINING_WORDS) == f"{name} {spec}: " + str(refused.value).split(f" {spec}: ", 1)[1]


def test_a_notice_names_a_hyper_parameter_as_the_wizard_s_table_does(qtbot, tmp_path, monkeypatch):
    import sys

    from engine.training.events import Notice, event_from_dict, event_to_dict
    from engine.training.loop import open_tensorboard
    from engine.training.run_folder import RunFolder

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed
    seen: list = []
    assert open_tensorboard(RunFolder(tmp_path / "run"), tiny_lite(tensorboard=True), seen.append) is None
    assert len(seen) == 1 and seen[0].message.startswith("--tensorboard: the tensorboard package is not installed")
    panel = shown_panel(qtbot)
    panel._event(event_from_dict(json.loads(json.dumps(event_to_dict(seen[0])))))  # as the child sends it
    assert panel.log_view.toPlainText() == "tensorboard" + seen[0].message.removeprefix("--tensorboard")
    assert isinstance(seen[0], Notice)


def test_a_preparation_on_the_way_that_fails_says_the_format_as_the_wizard_detected_it(qtbot, tmp_path):
    from engine.data.prepare import PrepareOptions

    panel = shown_panel(qtbot)
    source = tmp_path / "seed.hdf5"
    source.mkdir()  # detected as the HDF5 file, a folder by the time the run starts
    options = PrepareOptions(source, "hdf5", ("4CH",), ("ED", "ES"), 64, 0)
    with qtbot.waitSignal(panel.stateChanged, timeout=TIMEOUT, check_params_cb=lambda state: state == "failed"):
        panel.start(TrainCommand.new_run(tmp_path / "data", tmp_path / "run", tiny_lite(iters=2)), options)
    assert panel.status.text() == ("Preparing the data failed: "
                                   f"{source}: the detected format hdf5 needs the HDF5 file, this is a folder")


def test_the_pooled_critics_gap_shows_beside_the_speed_and_is_not_plotted_as_a_loss(qtbot, tmp_path, monkeypatch):
    from engine.training.events import Scalars

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel._event(Scalars(5, 0, {"Loss/G_GAN": 0.3, "Loss/D_real": 1.1, "Diag/D_pooled_gap": 0.834}))
    assert panel.critic.text() == "critic gap 0.83"
    assert set(panel.plot.series) == {"G_GAN", "D_real"}
    panel._event(Scalars(6, 0, {"Loss/G_GAN": 0.2}))  # a run without a pooled critic says nothing new
    assert panel.critic.text() == "critic gap 0.83"
    # a run being resumed shows its last logged gap from stats.jsonl
    run = tmp_path / "run"
    run.mkdir()
    (run / "stats.jsonl").write_text("\n".join(json.dumps(r) for r in (
        {"iter": 50, "epoch": 0, "Loss/G_GAN": 0.5, "Diag/D_pooled_gap": 0.2},
        {"iter": 100, "epoch": 0, "Loss/G_GAN": 0.4, "Diag/D_pooled_gap": 1.46})) + "\n")
    launched = []
    monkeypatch.setattr(panel, "_launch", launched.append)
    panel.start(TrainCommand.resume_run(tmp_path / "data", run))
    assert launched and panel.critic.text() == "critic gap 1.46"
    assert "D_pooled_gap" not in panel.plot.series and panel.plot.point_count("G_GAN") == 2
    # another run, without a critic: the last run's gap does not stay on show
    other = tmp_path / "other"
    other.mkdir()
    panel.start(TrainCommand.resume_run(tmp_path / "data", other))
    assert panel.critic.text() == ""


def test_closing_waits_for_the_save_however_long_unless_told_to_quit_without_it(qtbot, tmp_path, tiny_model,
                                                                             monkeypatch):
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QProgressDialog, QPushButton

    from cardigan_app.training import progress_panel

    class SlowChild(QObject):
        exited = Signal()

        def __init__(self):
            super().__init__()
            self.running, self.killed = True, False

        def kill(self):
            self.killed, self.running = True, False

        def wait_for_exit(self, timeout_ms):
            return True

    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    panel = window.training.panel
    real = panel.process
    try:
        child = SlowChild()
        panel.process, panel.stop = child, lambda: None

        def saved():
            child.running = False
            child.exited.emit()

        class DeadlinesPassAtOnce:
            """Any deadline stop_and_wait sets itself runs out at once (it used to kill the
            child after 120 s): only a wait with no deadline outlasts the save below."""

            @staticmethod
            def singleShot(ms, slot):
                QTimer.singleShot(0, slot)

        monkeypatch.setattr(progress_panel, "QTimer", DeadlinesPassAtOnce)
        QTimer.singleShot(500, saved)  # a save that takes a while: it is waited for, not cut short
        assert panel.stop_and_wait() and not child.killed
        monkeypatch.undo()
        child = SlowChild()
        panel.process = child

        seen = []

        def quit_without_saving():  # the dialog's button, clicked
            dialogs = [d for d in window.findChildren(QProgressDialog) if d.isVisible()]
            buttons = [b for d in dialogs for b in d.findChildren(QPushButton) if b.text() == "Quit without saving"]
            seen.extend(b.text() for b in buttons)
            for button in buttons:
                button.click()
            if not buttons:
                child.exited.emit()  # (ends the wait; the assertion below then fails)

        QTimer.singleShot(800, quit_without_saving)
        assert not panel.stop_and_wait() and child.killed and seen
    finally:
        panel.process = real
        close_window(window)


def test_a_resume_from_the_wizard_keeps_the_runs_batch_size_unless_it_was_changed(qtbot, tmp_path):
    from engine.training.config import resolve_config

    wizard = TrainingWizard()
    qtbot.addWidget(wizard)
    state = wizard.state
    state.data_dir, state.run_dir, state.resume = tmp_path / "data", tmp_path / "run", True
    state.config, state.device, state.amp = resolve_config("quality"), "cpu", "off"
    state.batch_size = state.config.batch_size  # the device page as it came: the preset's 16
    assert "batch_size" not in wizard.request().command.overrides  # the run's own is kept
    state.batch_size = 2  # lowered by hand (after running out of memory)
    assert wizard.request().command.overrides["batch_size"] == 2


def test_one_wizard_at_a_time_and_no_second_run_from_a_wizard_left_open(qtbot, tmp_path, tiny_model, monkeypatch):
    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    told = []
    monkeypatch.setattr(training_menu.QMessageBox, "information", lambda *args: told.append(args[2]))
    control = window.training
    try:
        first = control.new_run()
        assert control.new_run() is first and first.isVisible()  # Ctrl+T again raises the open wizard
        first.reject()
        qtbot.waitUntil(lambda: control.wizard is None)
        second = control.new_run()
        assert second is not None and second is not first
        started = []
        monkeypatch.setattr(control.panel, "start", lambda *args: started.append(args))
        monkeypatch.setattr(TrainingPanel, "running", property(lambda self: True))  # Resume clicked meanwhile
        control.start(training_menu.TrainingRequest(TrainCommand(tmp_path / "data", tmp_path / "run")))
        assert not started and told and "in progress" in told[-1]
    finally:
        monkeypatch.undo()
        close_window(window)


def test_a_run_killed_before_its_first_state_can_be_started_again_in_its_folder(qtbot, tmp_path, wizard, phantom):
    run = tmp_path / "run"  # what a new run killed before its first checkpoint leaves behind
    (run / "samples").mkdir(parents=True)
    (run / "checkpoints").mkdir()
    (run / "config.json").write_text(json.dumps(tiny_lite(iters=2).to_dict()))
    (run / "stats.jsonl").write_text(json.dumps({"iter": 1, "epoch": 0, "Loss/G_GAN": 9.0}) + "\n")
    choose_data(qtbot, wizard, phantom)
    wizard.next()
    fill_preset(wizard, iters="2", log_every="1")
    wizard.next()
    wizard.device_page.device.setCurrentIndex(wizard.device_page.device.findData("cpu"))
    wizard.device_page.batch.setValue(2)
    wizard.next()
    page = wizard.run_page
    page.folder.set_path(tmp_path / "new")
    assert not page.replace.isEnabled()  # nothing to replace in a new folder
    page.folder.set_path(run)
    assert not wizard.validateCurrentPage() and "already holds a training run" in page.message.text()
    assert not page.resume.isEnabled()  # no training state to resume from
    assert page.replace.isEnabled()
    page.replace.setChecked(True)
    assert "--overwrite" in page.command.text() and "deletes the earlier one" in page.info.text()
    assert wizard.validateCurrentPage()
    command = wizard.request().command
    assert command.overwrite and not command.resume

    panel = shown_panel(qtbot)
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(command)
    assert ended.args[0].ok, panel.status.text()
    assert panel.plot.series["G_GAN"][0] == [1, 2]  # the replaced run's curve is gone, here and on disk
    assert [json.loads(line)["iter"] for line in (run / "stats.jsonl").read_text().splitlines()] == [1, 2]
    assert (run / "model.safetensors").is_file()


def test_the_panel_shows_the_learning_rate_as_it_decays(qtbot, tmp_path, phantom, monkeypatch):
    panel = shown_panel(qtbot)
    run = tmp_path / "run"
    config = tiny_lite(iters=4, niter=1, niter_decay=1)  # the rate decays over the second half
    seen = events_of(panel)
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(TrainCommand.new_run(phantom, run, config))
    assert ended.args[0].ok, panel.status.text()
    logged = [json.loads(line)["Progress/lr_g"] for line in (run / "stats.jsonl").read_text().splitlines()]
    assert logged[-1] < logged[0]
    scalars = [e for e in seen if type(e).__name__ == "Scalars"]
    assert [e.values["Progress/lr_g"] for e in scalars] == logged  # the event carries what stats.jsonl holds
    assert panel.lr.text() == f"lr {logged[-1]:.3g}"
    assert "lr_g" not in panel.plot.series and "img_per_s" not in panel.plot.series  # not a loss

    other = shown_panel(qtbot)  # a run opened again shows its last rate before the child reports
    monkeypatch.setattr(other, "_launch", lambda command: None)
    other.start(TrainCommand.resume_run(phantom, run))
    assert other.lr.text() == f"lr {logged[-1]:.3g}"


def test_the_train_menu_drives_a_run_from_the_keyboard(qtbot, tmp_path, tiny_model, monkeypatch):
    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    panel, commands = window.training.panel, window.commands
    names = ("stop_training", "resume_training", "open_trained_model", "open_run_folder")
    try:
        assert not any(commands[name].isEnabled() for name in names)  # no run yet
        assert {a.text() for a in window.training.menu.actions()} >= {"&Stop training", "&Resume training"}
        run = tmp_path / "run"  # a run stopped at iteration 10
        (run / "checkpoints").mkdir(parents=True)
        (run / "checkpoints" / "state_00000010.pt").write_bytes(b"state")
        shutil.copy(tiny_model, run / "model.safetensors")
        panel.command = TrainCommand.resume_run(tmp_path / "data", run)
        panel._set_state("stopped", "Stopped at iteration 10")
        assert [commands[name].isEnabled() for name in names] == [False, True, True, True]
        resumed = []
        monkeypatch.setattr(panel, "start", lambda command: resumed.append(command))
        commands["resume_training"].trigger()
        assert resumed and resumed[0].resume and resumed[0].run == run
        commands["open_trained_model"].trigger()
        qtbot.waitUntil(lambda: window.live.model_spec == str(run / "model.safetensors"), timeout=TIMEOUT)
    finally:
        close_window(window)


def test_a_run_left_unfinished_when_the_studio_closed_is_offered_back_on_reopening(qtbot, tmp_path, tiny_model,
                                                                                  monkeypatch):
    from cardigan_app.settings import AppSettings

    run, data = tmp_path / "run", tmp_path / "data"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_lite(iters=60).to_dict()))
    (run / "checkpoints" / "state_00000029.pt").write_bytes(b"")  # (named, not written: only its number counts)
    (run / "stats.jsonl").write_text("".join(json.dumps({"iter": i, "epoch": 0, "Loss/G_GAN": 1.0}) + "\n"
                                             for i in range(1, 30)))
    settings = AppSettings(tmp_path / "settings.ini")  # the file open_window gives the studio
    settings.set_last_training_run(run, data, 7200.0)
    assert AppSettings(tmp_path / "settings.ini").last_training_run() == (run, data, 7200.0)

    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    control, panel = window.training, window.training.panel
    try:
        assert window.commands["resume_training"].isEnabled() and panel.state == "stopped"
        assert "saved at iteration 29" in panel.status.text() and panel.iter_bar.text() == "iteration 29 / 60"
        assert panel.plot.series["G_GAN"][0][-1] == 29  # its curves so far
        assert panel.epoch_bar.isHidden() and panel.speed.text() == ""  # nothing measured yet
        resumed = []
        monkeypatch.setattr(panel.process, "start", resumed.append)
        window.commands["resume_training"].trigger()
        assert resumed[0].resume and (resumed[0].run, resumed[0].data, resumed[0].time_limit) == (run, data, 7200.0)
        panel.process.exited.emit(TrainingExit(0, False, True, True, 30))

        other = tmp_path / "other"  # a run started here is the one offered next time
        monkeypatch.setattr(panel, "_load_history", lambda run: None)
        panel.start(TrainCommand.new_run(data, other, tiny_lite(iters=60)))
        assert window.settings.last_training_run() == (other, data, None)
        panel.process.exited.emit(TrainingExit(0, False, True, True, 0))

        (run / "checkpoints" / "state_00000060.pt").write_bytes(b"")  # finished: nothing to offer
        window.settings.set_last_training_run(run, data, None)
        panel.command = None
        control.offer_last_run()
        assert panel.command is None
        window.settings.qsettings.setValue("training/last_run", "[1, 2]")  # not an entry: nothing offered
        assert window.settings.last_training_run() is None
    finally:
        close_window(window)


def test_a_run_of_epochs_that_finished_is_not_offered_back_on_reopening(qtbot, tmp_path, tiny_model, monkeypatch):
    # its folder alone does not tell that its newest state is its last (its length is in epochs)
    run, data = tmp_path / "run", tmp_path / "data"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(tiny_lite(epochs=2).to_dict()))
    window = open_window(qtbot, tmp_path, str(tiny_model), backend="thread")
    control, panel = window.training, window.training.panel
    try:
        monkeypatch.setattr(panel.process, "start", lambda command: None)
        monkeypatch.setattr(panel, "_load_history", lambda run: None)
        panel.start(TrainCommand.new_run(data, run, tiny_lite(epochs=2)))
        assert window.settings.last_training_run() == (run, data, None)
        (run / "checkpoints" / "state_00000040.pt").write_bytes(b"")  # (named, not written)
        panel.process.exited.emit(TrainingExit(0, False, True, False, 40))
        assert panel.state == "finished" and window.settings.last_training_run() is None
        panel.command = None
        control.offer_last_run()
        assert panel.command is None
    finally:
        close_window(window)


def test_the_log_keeps_its_newest_line_in_view_until_the_user_scrolls_up(qtbot):
    from PySide6.QtWidgets import QAbstractSlider

    panel = shown_panel(qtbot)
    panel.resize(700, 300)
    bar = panel.log_view.verticalScrollBar()
    for number in range(12):
        panel.log(f"line {number} " + "x" * 200)  # long lines: a horizontal bar takes room as well
        qtbot.wait(1)
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    assert shown_log_lines(panel)[-1].startswith("line 11")

    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)  # the user reads an earlier line
    panel.log("line 12")
    qtbot.wait(10)
    assert bar.value() == 0 < bar.maximum()
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)  # back at the end: it follows again
    panel.log("line 13")
    qtbot.waitUntil(lambda: shown_log_lines(panel)[-1] == "line 13", timeout=5_000)


def shown_log_lines(panel: TrainingPanel) -> list[str]:
    """The log's lines whose end is in view (a long one may wrap to more lines than it shows), oldest first."""
    view, shown = panel.log_view, []
    block = view.document().firstBlock()
    while block.isValid():
        box = view.blockBoundingGeometry(block).translated(view.contentOffset())
        if 0 < box.bottom() <= view.viewport().height() + 1:
            shown.append(block.text())
        block = block.next()
    return shown


STOPPING_CHILD = """
import json, sys
print(json.dumps({"type": "Started", "run_dir": "r", "total_iters": 40, "iters_per_epoch": 3,
                  "start_iter": 0, "device": "cpu", "config": {}}), flush=True)
sys.stdin.readline()
print("stopping after this iteration and saving the state", file=sys.stderr, flush=True)
print(json.dumps({"type": "Finished", "iteration": 3, "model_path": "r/model.safetensors",
                  "stopped_early": True}), flush=True)
"""


def test_the_log_is_readable_starts_with_what_the_run_does_and_says_stop_once(qtbot, tmp_path, phantom):
    panel = shown_panel(qtbot)
    panel.resize(700, 300)
    view = panel.log_view
    assert view.minimumHeight() >= 3 * view.fontMetrics().lineSpacing()
    command = TrainCommand.new_run(phantom, tmp_path / "run", tiny_lite(iters=400))
    assert command.headline() == f"New lite run in {tmp_path / 'run'}: 400 iterations on phantom"
    assert TrainCommand.resume_run(phantom, tmp_path / "run", iters=65).headline().endswith(", to iteration 65")
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT):
        panel.start(ScriptCommand(phantom, tmp_path / "run", overrides={"script": STOPPING_CHILD}))
        qtbot.waitUntil(lambda: panel.state == "running" and panel._trained, timeout=TIMEOUT)
        panel.stop()
    lines = view.toPlainText().splitlines()
    assert not any("--" in line for line in lines[:1])  # the command is behind Copy command, not in the log
    assert sum("stop" in line for line in lines) == 2, lines  # asked once, stopped once
    for number in range(4):
        panel.log(f"a long line {number} " + "with words " * 40)
    qtbot.waitUntil(lambda: [line[:13] for line in shown_log_lines(panel)[-1:]] == ["a long line 3"], timeout=5_000)
    assert not view.horizontalScrollBar().isVisible()  # long lines wrap
    panel.copy_button.click()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == "python -c <script>"  # (the stand-in's display())


def test_a_low_loss_plot_takes_a_column_more_to_keep_its_curves_readable(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(460, 165)  # under the canvases at 1280 x 800
    for step in range(1, 4):
        plot.add(step, {name: 1.0 / step for name in ("G_GAN", "G_feat", "G_spectrum", "D_real", "D_fake")})
    assert all(cell.height() >= 58 for _name, cell in plot.cells())  # a title, axis labels and a curve
    plot.resize(460, 600)  # a tall one keeps two columns
    assert len({cell.left() for _name, cell in plot.cells()}) == 2


# -- a finished run, trained longer ----------------------------------------------------------
def finished_run(folder, iters=40):
    """A run folder as a run of ``iters`` iterations leaves it (its state files named, not written)."""
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(tiny_lite(iters=iters).to_dict()))
    for iteration in (iters // 2, iters):
        (folder / "checkpoints" / f"state_{iteration:08d}.pt").write_bytes(b"")
    return folder


def test_a_run_summary_says_when_the_run_has_finished():
    from engine.training.run_folder import RunSummary

    by_iters = RunSummary(tiny_lite(iters=40).to_dict(), [20, 40])
    assert by_iters.planned_iters() == 40 and by_iters.finished()
    assert by_iters.describe().endswith("finished: all 40 iterations trained")
    halfway = RunSummary(tiny_lite(iters=40).to_dict(), [20])
    assert not halfway.finished() and halfway.describe().endswith("last saved at iteration 20 of 40")
    by_epochs = RunSummary(tiny_lite(epochs=3).to_dict(), [9])  # batch size 2: 6 pairs are 3 per epoch
    assert by_epochs.planned_iters() is None and not by_epochs.finished()  # the data's size is unknown
    assert by_epochs.planned_iters(6) == 9 and by_epochs.finished(6)


def test_a_finished_run_is_resumed_from_the_wizard_only_to_train_more(qtbot, tmp_path, wizard, phantom):
    run = finished_run(tmp_path / "run")
    page = to_run_page(qtbot, wizard, phantom)
    page.folder.set_path(run)
    assert "finished: all 40 iterations trained" in page.info.text()
    assert page.more_row.isHidden()  # (a choice of Resume)
    page.resume.setChecked(True)
    assert not page.more_row.isHidden() and page.more.isChecked() and not page.more.isEnabled()
    page.more_iters.setValue(25)
    assert "trains iterations 41 to 65" in page.info.text()
    assert "--resume" in page.command.text() and "--iters 65" in page.command.text()
    assert wizard.validateCurrentPage()
    command = wizard.request().command
    assert command.resume and command.overrides["iters"] == 65

    unfinished = tmp_path / "halfway"  # a run with iterations left may resume as it is, or go longer
    finished_run(unfinished)
    (unfinished / "checkpoints" / "state_00000040.pt").unlink()
    page.folder.set_path(unfinished)
    assert page.more.isEnabled() and not page.more.isChecked()
    assert "--iters" not in page.command.text() and "trains iterations 21 to 40" in page.info.text()
    page.more.setChecked(True)
    assert "--iters 60" in page.command.text()


ALREADY_FINISHED_CHILD = """
import json
print(json.dumps({"type": "Started", "run_dir": "r", "total_iters": 40, "iters_per_epoch": 3,
                  "start_iter": 40, "device": "cpu", "config": {}}), flush=True)
print(json.dumps({"type": "Finished", "iteration": 40, "model_path": "r/model.safetensors",
                  "stopped_early": False}), flush=True)
"""


def test_a_resume_with_nothing_to_train_says_so(qtbot, tmp_path):
    panel = shown_panel(qtbot)
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT):
        panel.start(ScriptCommand(tmp_path / "x", tmp_path / "run", resume=True,
                                  overrides={"script": ALREADY_FINISHED_CHILD}))
    assert panel.status.text().startswith("Nothing to train: the run had already finished at iteration 40")
    assert "Train N more iterations" in panel.status.text()
    assert "nothing to train" in panel.log_view.toPlainText()


def test_a_finished_run_trains_to_the_longer_length_it_is_given(qtbot, tmp_path, phantom):
    panel = shown_panel(qtbot)
    run = tmp_path / "run"
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(TrainCommand.new_run(phantom, run, tiny_lite(iters=2, checkpoint_every=2, sample_every=1000)))
    assert ended.args[0].ok and not panel.resume_button.isEnabled()  # finished
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT) as ended:
        panel.start(TrainCommand.resume_run(phantom, run, iters=4))
    assert ended.args[0].ok and ended.args[0].iteration == 4, panel.status.text()
    assert load_newest_state(run / "checkpoints")[1]["iteration"] == 4


def test_the_run_page_suggests_a_new_folder_and_offers_resume_only_for_a_resumable_run(
        qtbot, tmp_path, wizard, phantom, monkeypatch):
    from cardigan_app import folders
    from cardigan_app.training.run_folders import suggested_run_folder

    monkeypatch.setattr(folders, "_settings", None)
    monkeypatch.setattr(folders, "_memory", {})
    runs = tmp_path / "runs"
    earlier = finished_run(runs / "earlier")
    folders.remember("runs", earlier)  # the run folder chosen last: new ones go beside it
    (runs / "lite-2026-01-02").mkdir()
    assert suggested_run_folder("lite", today="2026-01-02") == runs / "lite-2026-01-02-2"
    page = to_run_page(qtbot, wizard, phantom)
    suggested = page.folder.path()
    assert suggested is not None and suggested.parent == runs and suggested.name.startswith("lite-")
    assert not suggested.exists() and page.new_run.isChecked() and wizard.validateCurrentPage()
    assert not page.resume.isEnabled() and "Nothing to resume" in page.resume.toolTip()

    page.folder.set_path(earlier)
    assert page.resume.isEnabled() and "newest saved state" in page.resume.toolTip()
    page.resume.setChecked(True)
    page.folder.set_path(tmp_path / "empty")  # a folder with nothing to resume takes Resume away
    assert not page.resume.isEnabled() and page.new_run.isChecked()


def test_the_run_page_says_how_long_a_new_run_is(qtbot, tmp_path, wizard, phantom):
    from cardigan_app.training.page_run import run_length

    page = to_run_page(qtbot, wizard, phantom)  # the lite preset: 30 epochs, batches of 4
    pairs = wizard.state.data_pairs
    assert page.new_run.isChecked() and page.info.text() == (
        f"A new run trains {30 * (pairs // 4)} iterations: 30 epochs of {pairs // 4} (batches of 4 from {pairs} "
        "training pairs).")
    assert run_length(tiny_lite(iters=60), pairs) == "A new run trains 60 iterations."
    assert run_length(tiny_lite(epochs=3), 0) == ("A new run trains 3 epochs; their iterations depend on the number "
                                                  "of training pairs.")


SLOW_STARTING_CHILD = """
import json, sys, time
sys.stdin.readline()  # loading the data and building the networks, until told to go on
print(json.dumps({"type": "Started", "run_dir": "r", "total_iters": 40, "iters_per_epoch": 3,
                  "start_iter": 0, "device": "cpu", "config": {}}), flush=True)
sys.stdin.readline()
print(json.dumps({"type": "ProgressUpdate", "iteration": 4, "total_iters": 40, "epoch": 2, "total_epochs": 14,
                  "img_per_s": 12.5, "eta_s": 30.0}), flush=True)
sys.stdin.readline()
"""


def test_the_panel_says_it_is_starting_until_the_run_trains(qtbot, tmp_path):
    from cardigan_app.training.progress_panel import STARTING

    panel = shown_panel(qtbot)
    panel.start(ScriptCommand(tmp_path / "x", tmp_path / "run", overrides={"script": SLOW_STARTING_CHILD}))
    assert panel.status.text() == STARTING == "Starting: loading the data and building the networks\u2026"
    assert panel.iter_bar.maximum() == 0  # busy, not an empty bar
    assert panel.eta.text() == "" and panel.speed.text() == "" and panel.epoch_bar.isHidden()
    panel.process.process.write(b"go\n")
    qtbot.waitUntil(lambda: panel.iter_bar.maximum() == 40, timeout=TIMEOUT)
    assert "from scratch" in panel.status.text() and panel.speed.text() == "measuring speed\u2026"
    panel.process.process.write(b"go\n")
    qtbot.waitUntil(lambda: panel.iter_bar.value() == 4, timeout=TIMEOUT)
    assert panel.speed.text() == "12.5 images/s" and panel.eta.text() == "ETA 30 s"
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT):
        panel.process.process.write(b"go\n")


def test_a_child_that_ends_while_starting_leaves_no_busy_bar(qtbot, tmp_path):
    panel = shown_panel(qtbot)
    with qtbot.waitSignal(panel.exited, timeout=TIMEOUT):
        panel.start(ScriptCommand(tmp_path / "x", tmp_path / "run", overrides={"script": FAILING_CHILD}))
    assert panel.iter_bar.maximum() > 0 and panel.state == "failed"


def test_the_table_puts_the_rows_a_newcomer_changes_first_and_keeps_every_row(wizard):
    import dataclasses as dc

    from cardigan_app.training.hyperparams import HIDDEN
    from engine.training.config import TrainConfig

    table = wizard.preset_page.table
    names = [table.item(row, table.NAME).text() for row in range(table.rowCount())]
    assert names[:7] == ["iters", "epochs", "lr", "log_every", "sample_every", "checkpoint_every",
                         "keep_checkpoints"]
    assert sorted(names) == sorted(f.name for f in dc.fields(TrainConfig) if f.name not in HIDDEN)
    assert names.index("ngf") > names.index("checkpoint_every")  # the networks' rows come after
    headers = [table.verticalHeaderItem(row).text() for row in range(table.rowCount())]
    assert headers[0] == "Common" and headers[names.index("ngf")] == "Advanced"
    assert [h for h in headers if h] == ["Common", "Advanced"] and not table.verticalHeader().isHidden()
    table.set_text("log_every", "7")  # the rows still edit their own fields
    assert table.values()[0]["log_every"] == 7 and table.changed_fields() == ["log_every"]
