"""The Data dialogs say an output they would have refused before Start is pressed: the
Prepare dialog's folder and the Phantom dialog's folder or HDF5 file, as the Export dialog
does (tests/test_app_data_tools.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardigan_app.data_tools import PrepareDialog
from cardigan_app.data_tools.phantom_dialog import PhantomDialog
from engine.data.phantom import write_phantom

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def seed_hdf5(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("src") / "seed.hdf5"
    write_phantom(path, count=3, size=32, seed=0, format="hdf5")
    return path


def a_folder_with_a_file(path: Path) -> Path:
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    return path


def shown(dialog) -> str:
    """The note under the output, '' while it is hidden."""
    return dialog.output_note.text() if dialog.output_note.isVisibleTo(dialog) else ""


def assert_refused_before_start(dialog, tick_text: str, fragment: str) -> None:
    assert fragment in shown(dialog) and f'tick "{tick_text}"' in shown(dialog)
    assert not dialog.start_button.isEnabled() and fragment in dialog.start_button.toolTip()
    dialog.start()
    assert not dialog.running and fragment in dialog.status.text()


# -- prepare ---------------------------------------------------------------------------------
def prepare_dialog(qtbot, source: Path) -> PrepareDialog:
    dialog = PrepareDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.form.formatDetected, timeout=TIMEOUT):
        dialog.form.source.set_path(source)
    return dialog


def test_prepare_says_a_non_empty_folder_before_start(qtbot, tmp_path, seed_hdf5):
    dialog = prepare_dialog(qtbot, seed_hdf5)
    dialog.output.set_path(tmp_path / "new")
    assert dialog.start_button.isEnabled() and shown(dialog) == ""

    out = a_folder_with_a_file(tmp_path / "mine")
    dialog.output.set_path(out)
    assert_refused_before_start(dialog, dialog.overwrite.text(), "output folder is not empty")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]

    dialog.overwrite.setChecked(True)  # the engine still refuses a folder that is no prepared dataset
    assert dialog.start_button.isEnabled()
    assert "replaced if it holds a prepared dataset (nothing else is ever replaced)" in shown(dialog)
    dialog.overwrite.setChecked(False)
    assert not dialog.start_button.isEnabled()
    dialog.output.set_path(tmp_path / "other")  # another folder
    assert dialog.start_button.isEnabled() and shown(dialog) == ""


def test_prepare_says_an_output_that_is_a_file_before_start(qtbot, tmp_path, seed_hdf5):
    dialog = prepare_dialog(qtbot, seed_hdf5)
    (tmp_path / "notes.txt").write_text("mine")
    dialog.overwrite.setChecked(True)
    dialog.output.set_path(tmp_path / "notes.txt")
    assert not dialog.start_button.isEnabled() and shown(dialog) == "The output is a file: choose a folder"


def test_prepare_says_an_output_named_as_a_file_before_start(qtbot, tmp_path, seed_hdf5):
    """The engine refuses a new folder named as a file (``new.png``): the note says so in its
    words as soon as the name is chosen, and Prepare stays off; a folder of that name that is
    there already is the engine's to judge, as it is."""
    dialog = prepare_dialog(qtbot, seed_hdf5)
    dialog.output.set_path(tmp_path / "new.png")
    assert shown(dialog) == "The output new.png: is named as a file, but it is a folder; name a new folder, such as new"
    assert not dialog.start_button.isEnabled() and "is named as a file" in dialog.start_button.toolTip()
    (tmp_path / "new.png").mkdir()
    dialog.output.set_path(tmp_path / "other")
    dialog.output.set_path(tmp_path / "new.png")
    assert dialog.start_button.isEnabled() and shown(dialog) == ""


# -- phantom ---------------------------------------------------------------------------------
def phantom_dialog(qtbot, fmt: str = "folders") -> PhantomDialog:
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.count.setValue(1)
    dialog.size.setValue(32)
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    return dialog


def test_phantom_says_a_non_empty_folder_before_start(qtbot, tmp_path):
    dialog = phantom_dialog(qtbot)
    out = a_folder_with_a_file(tmp_path / "mine")
    dialog.output.set_path(out)
    assert_refused_before_start(dialog, dialog.overwrite.text(), "output folder is not empty")
    dialog.overwrite.setChecked(True)
    assert dialog.start_button.isEnabled() and "replaced if it holds a phantom dataset" in shown(dialog)
    (tmp_path / "notes.txt").write_text("mine")
    dialog.output.set_path(tmp_path / "notes.txt")
    assert not dialog.start_button.isEnabled() and shown(dialog) == "The output is a file: choose a folder"


def test_phantom_says_an_hdf5_file_that_exists_before_start(qtbot, tmp_path):
    dialog = phantom_dialog(qtbot, "hdf5")
    target = tmp_path / "phantom.h5"
    dialog.output.set_path(target)
    assert dialog.start_button.isEnabled() and shown(dialog) == ""
    target.write_bytes(b"mine")
    dialog.output.set_path(tmp_path / "other.h5")
    dialog.output.set_path(target)
    assert_refused_before_start(dialog, dialog.overwrite.text(), "output file phantom.h5 exists")
    dialog.overwrite.setChecked(True)  # the engine replaces only a file it wrote
    assert dialog.start_button.isEnabled() and "replaced if cardiGAN Studio wrote it" in shown(dialog)
    assert target.read_bytes() == b"mine"

    dialog.format.setCurrentIndex(dialog.format.findData("folders"))  # the same output, now a folder's
    assert not dialog.start_button.isEnabled() and shown(dialog) == "The output is a file: choose a folder"


def test_phantom_hdf5_into_a_folder_is_judged_by_the_file_it_would_write(qtbot, tmp_path):
    """An HDF5 output that is a folder gets phantom.hdf5 in it: the folder's other files do
    not matter, a phantom.hdf5 already there does, and so does a file's missing folder."""
    dialog = phantom_dialog(qtbot, "hdf5")
    folder = a_folder_with_a_file(tmp_path / "mine")
    dialog.output.set_path(folder)
    assert dialog.start_button.isEnabled() and shown(dialog) == ""
    (folder / "phantom.hdf5").mkdir()
    dialog.overwrite.setChecked(True)
    assert not dialog.start_button.isEnabled() and "output file phantom.hdf5 is a folder" in shown(dialog)
    dialog.output.set_path(tmp_path / "gone" / "phantom.h5")
    assert not dialog.start_button.isEnabled() and "folder" in shown(dialog) and "does not exist" in shown(dialog)


def test_phantom_says_that_hdf5_needs_both_instants_before_start(qtbot, tmp_path):
    dialog = phantom_dialog(qtbot, "hdf5")
    dialog.output.set_path(tmp_path / "phantom.h5")
    dialog.phases["ES"].setChecked(False)
    assert not dialog.start_button.isEnabled() and "both instants" in dialog.start_button.toolTip()
    dialog.format.setCurrentIndex(dialog.format.findData("folders"))
    assert not dialog.start_button.isEnabled() and "named as an HDF5 file" in shown(dialog)
    dialog.output.set_path(tmp_path / "phantom")
    assert dialog.start_button.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    dialog.phases["ES"].setChecked(True)
    assert dialog.start_button.isEnabled()


def test_phantom_folders_named_as_an_hdf5_file_are_asked_about_before_start(qtbot, tmp_path):
    """Folders given x.h5 would quietly make a folder of that name: the note asks for the HDF5
    format or a folder name, and Make stays off until one is chosen."""
    dialog = phantom_dialog(qtbot)
    for name in ("x.h5", "x.HDF5"):
        dialog.output.set_path(tmp_path / name)
        assert not dialog.start_button.isEnabled()
        assert f"{name} is named as an HDF5 file" in shown(dialog) and "HDF5 file in the seed's layout" in shown(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    assert dialog.start_button.isEnabled() and shown(dialog) == ""
    dialog.format.setCurrentIndex(dialog.format.findData("folders"))
    dialog.output.set_path(tmp_path / "x")
    assert dialog.start_button.isEnabled() and shown(dialog) == ""
    assert not (tmp_path / "x.h5").exists()


def test_phantom_folders_named_as_another_file_are_refused_before_start_in_the_engines_words(qtbot, tmp_path):
    """Folders given x.png (any name the engine refuses for a folder, not only x.h5) are
    said under the output at once, in the engine's line, and Make stays off."""
    from engine.data.phantom import check_folders_name
    from engine.errors import DataError

    dialog = phantom_dialog(qtbot)
    for name in ("x.png", "x.NII.GZ", "x.npy"):
        dialog.output.set_path(tmp_path / name)
        with pytest.raises(DataError) as refused:
            check_folders_name(tmp_path / name)
        said = dialog.in_dialog_words(refused.value.message)
        assert shown(dialog) == "The output " + said.replace(str(tmp_path) + "/", "").replace("the output", "it")
        assert shown(dialog).startswith(f"The output {name}: is named as a file, but it is a folder for the folders")
        assert "name a new folder, such as x, or choose the format" in shown(dialog)
        assert not dialog.start_button.isEnabled() and "is named as a file" in dialog.start_button.toolTip()
        dialog.start()
        assert not dialog.running and "is named as a file" in dialog.status.text()
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    assert shown(dialog) == ""
    assert list(tmp_path.iterdir()) == []


def test_phantom_says_the_engine_refusal_of_an_hdf5_named_folder_in_its_own_words(qtbot, tmp_path):
    from engine.errors import DataError

    dialog = phantom_dialog(qtbot)
    with pytest.raises(DataError) as refused:
        write_phantom(tmp_path / "x.h5", count=1, size=32)
    said = dialog.in_dialog_words(refused.value.message)
    assert 'choose the format "one HDF5 file in the seed\'s layout"' in said and "--format" not in said


@pytest.fixture
def disk_looks(monkeypatch, tmp_path):
    """Every stat, folder listing and folder entry read of a path under ``tmp_path``: (call, name)."""
    import os

    looks = []

    class CountedEntries:
        def __init__(self, entries):
            self.entries = entries

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.entries.close()

        def __iter__(self):
            return self

        def __next__(self):
            entry = next(self.entries)
            looks.append(("entry", entry.name))
            return entry

        def close(self):
            self.entries.close()

    def counted(name, call, wrap=lambda result: result):
        def looking(path, *args, **kwargs):
            if str(path).startswith(str(tmp_path)):
                looks.append((name, Path(path).name))
            return wrap(call(path, *args, **kwargs))
        return looking

    for name in ("stat", "lstat", "listdir"):
        monkeypatch.setattr(os, name, counted(name, getattr(os, name)))
    monkeypatch.setattr(os, "scandir", counted("scandir", os.scandir, CountedEntries))
    return looks


def test_a_keystroke_in_the_output_looks_at_the_disk_once_and_a_full_folder_only_at_its_first_entry(
        qtbot, tmp_path, disk_looks):
    full = tmp_path / "full"
    full.mkdir()
    for k in range(200):
        (full / f"frame_{k:03d}.png").write_bytes(b"")
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    disk_looks.clear()
    dialog.output.edit.setText(str(full))  # one keystroke: the note, and Start's state from it
    # the output, its first entry and the folder it is made in (can it be written into?)
    assert sorted(disk_looks) == sorted([("lstat", "full"), ("scandir", "full"), ("entry", disk_looks[2][1]),
                                         ("stat", tmp_path.name)])
    assert "not empty" in shown(dialog) and not dialog.start_button.isEnabled()

    (tmp_path / "x.h5").write_bytes(b"")
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    disk_looks.clear()
    dialog.output.edit.setText(str(tmp_path / "x.h5"))  # a file: it, and its folder (twice: a folder? writable?)
    assert sorted(disk_looks) == [("lstat", tmp_path.name), ("lstat", "x.h5"), ("stat", tmp_path.name),
                                  ("stat", "x.h5")]
    assert "x.h5 exists" in shown(dialog) and not dialog.start_button.isEnabled()


@pytest.mark.parametrize("make", ["prepare", "phantom folders", "phantom hdf5", "export"])
def test_an_output_in_a_read_only_folder_is_said_before_start(qtbot, tmp_path, seed_hdf5, make):
    """Start was on and the job failed only once started ("not writable"): the folder the
    output would be made in is now looked at with the output."""
    from mounts import read_only_folder

    from cardigan_app.data_tools import ExportDialog

    if make == "prepare":
        dialog = prepare_dialog(qtbot, seed_hdf5)
    else:
        dialog = PhantomDialog() if make.startswith("phantom") else ExportDialog(current_model="simulator")
        qtbot.addWidget(dialog)
        if make == "phantom hdf5":
            dialog.format.setCurrentIndex(dialog.format.findData("hdf5"))
    with read_only_folder(tmp_path / "disk") as folder:
        name = "out.h5" if make == "phantom hdf5" else "new/out"  # a file; a folder two levels down
        dialog.output.set_path(folder / name)
        assert f"Nothing can be written in {folder}" in shown(dialog)
        assert not dialog.start_button.isEnabled() and "read-only" in dialog.start_button.toolTip()
    dialog.output.set_path(tmp_path / name)  # a folder that can be written into
    assert dialog.start_button.isEnabled() and shown(dialog) == ""


def test_start_looks_at_the_output_afresh(qtbot, tmp_path):
    """Files put into the output after it was chosen are seen when Start is pressed."""
    dialog = PhantomDialog()
    qtbot.addWidget(dialog)
    dialog.output.set_path(tmp_path / "out")
    assert dialog.start_button.isEnabled() and not shown(dialog)
    a_folder_with_a_file(tmp_path / "out")
    dialog.start()
    assert not dialog.running and "not empty" in dialog.status.text() and "not empty" in shown(dialog)


def form_labels(widget) -> list[str]:
    from PySide6.QtWidgets import QFormLayout, QLabel

    labels = []
    for form in widget.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel):
                labels.append(item.widget().text())
    return labels


def test_ed_and_es_are_called_instants_in_every_dialog_that_offers_them(qtbot, tmp_path, seed_hdf5):
    """The commands' option is --instants, as in CAMUS: the dialogs that offer ED and ES call
    them instants too, not phases."""
    from cardigan_app.dialogs.new_mask import NewMaskDialog

    phantom = phantom_dialog(qtbot)
    new_mask = NewMaskDialog("4CH", "ED", 0, 128)
    qtbot.addWidget(new_mask)
    prepare = prepare_dialog(qtbot, seed_hdf5)
    assert "Instants" in form_labels(phantom) and "Instants" in form_labels(prepare)
    assert "Instant" in form_labels(new_mask)
    for dialog in (phantom, new_mask, prepare):
        assert not any("phase" in label.lower() for label in form_labels(dialog)), form_labels(dialog)
    assert "instant" in phantom.count.toolTip() and "phase" not in phantom.count.toolTip()


@pytest.mark.parametrize("fmt", ["folders", "hdf5"])
def test_the_output_a_job_just_wrote_is_not_said_as_a_warning(qtbot, tmp_path, fmt):
    """After a job, its own output holds what it wrote: the note says so in the muted colour
    (Start still waits for Replace) until another output or format is chosen."""
    from cardigan_app import theme

    dialog = phantom_dialog(qtbot, fmt)
    dialog.count.setValue(3)
    out = tmp_path / ("out.h5" if fmt == "hdf5" else "out")
    dialog.output.set_path(out)
    with qtbot.waitSignal(dialog.made, timeout=TIMEOUT):
        dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=TIMEOUT)
    assert "Written by the last run" in shown(dialog) and dialog.overwrite.text() in shown(dialog)
    assert theme.WARNING not in dialog.output_note.styleSheet()
    assert not dialog.start_button.isEnabled()
    dialog.overwrite.setChecked(True)
    assert dialog.start_button.isEnabled() and "running again replaces" in shown(dialog)
    dialog.overwrite.setChecked(False)
    dialog.format.setCurrentIndex(dialog.format.findData("hdf5" if fmt == "folders" else "folders"))
    assert "Written by the last run" not in shown(dialog)


def test_a_typed_output_is_looked_at_once_the_typing_pauses_and_start_looks_again(qtbot, tmp_path, monkeypatch):
    """Each keystroke in the output field looked at the disk (a stat per folder up to one that
    exists, a folder's first entry): slow on a network share."""
    import cardigan_app.data_tools.output_note as output_note

    dialog = phantom_dialog(qtbot)
    out = a_folder_with_a_file(tmp_path / "xmine_typed")
    looks: list[Path] = []
    take = output_note.OutputLook.take
    monkeypatch.setattr(output_note.OutputLook, "take",
                        staticmethod(lambda path, target: looks.append(path) or take(path, target)))
    dialog.output.set_path(tmp_path / "x")  # as Browse… sets it: looked at at once
    assert looks == [tmp_path / "x"] and dialog.start_button.isEnabled()

    looks.clear()
    qtbot.keyClicks(dialog.output.edit, "mine_typed")  # ten edits
    assert dialog.output.path() == out and looks == []
    qtbot.waitUntil(lambda: looks != [], timeout=5_000)
    qtbot.wait(2 * output_note.SETTLE_MS)
    assert looks == [out]
    assert not dialog.start_button.isEnabled() and "output folder is not empty" in shown(dialog)

    dialog.output.set_path(tmp_path / "x")
    qtbot.keyClicks(dialog.output.edit, "mine_typed")
    assert dialog.start_button.isEnabled()  # the last look, at x, until the typing pauses
    dialog.start_button.click()  # Start looks at the output typed, at once
    assert not dialog.running and "output folder is not empty" in dialog.status.text()
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
