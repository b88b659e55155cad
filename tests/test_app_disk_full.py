"""The studio's writers on a full disk or in a read-only folder: one message naming the file
and the cause, the file saved before kept whole, nothing half-written beside it, and the
mask still marked unsaved until a later Save succeeds."""

from __future__ import annotations

import errno
import pathlib

import PIL.Image
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

import engine.fileio as fileio


@pytest.fixture
def warned(monkeypatch):
    """The warnings shown (their texts); every question is answered Save (or Yes)."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text, *a: shown.append(text)))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, *a, **k: QMessageBox.StandardButton.Save if title == "Unsaved changes"
        else QMessageBox.StandardButton.Yes))
    return shown


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def failing_on_call(real, number: int, fault=no_space):
    """``real``, except that its call ``number`` (from 1) meets ``fault``."""
    calls = []

    def call(*args, **kwargs):
        calls.append(1)
        return fault(*args, **kwargs) if len(calls) == number else real(*args, **kwargs)
    return call


def files_in(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize("fault", ["full disk", "read-only folder"])
def test_a_failed_save_keeps_the_saved_mask_and_the_edits_unsaved(window, tmp_path, monkeypatch, warned, fault):
    folder = tmp_path / "masks"
    folder.mkdir()
    path = folder / "m.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    assert window.files.save_as()
    saved = files_in(folder)
    window.document.fill(30, 30, 2)
    with monkeypatch.context() as broken:
        if fault == "full disk":
            broken.setattr(PIL.Image.Image, "save", no_space)
            line = f"no space left on the device while writing {path}"
        else:  # root writes anywhere: the refusal a folder without write permission gives
            def refused(*args, dir=None, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            broken.setattr(fileio.tempfile, "mkstemp", refused)
            line = f"{path}: not writable (permission denied)"
        assert not window.files.save()
        assert warned == [line]
        assert window.statusBar().currentMessage() == line  # not the earlier save's "Saved"
        assert files_in(folder) == saved  # the saved mask whole, nothing beside it
        assert window.document.modified and "*" in window.windowTitle()
        assert not window.files.confirm_discard("closing")  # Save in the prompt failed: closing stops
    assert window.files.save() and not window.document.modified  # space back: Save works
    assert files_in(folder)[path.name] != saved[path.name]


@pytest.mark.parametrize("name, fails", [("p.png", "mask"), ("p.nii.gz", "workspace")])
def test_a_pair_export_that_fills_the_disk_part_way_keeps_the_earlier_pair(window, qtbot, tmp_path, monkeypatch,
                                                                           warned, name, fails):
    """The image was put in place before its mask failed: a new image beside the old mask."""
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(folder / name), "")))
    assert window.exporter.export_pair()
    before = files_in(folder)
    window.document.fill(30, 30, 2)
    qtbot.waitUntil(lambda: window.live.up_to_date() and window.live.last_result.document == window.document.id,
                    timeout=20_000)
    with monkeypatch.context() as broken:
        if fails == "mask":  # the image's PNG is written, the mask's meets the full disk
            broken.setattr(PIL.Image.Image, "save", failing_on_call(PIL.Image.Image.save, 2))
            failed = folder / "p_gt.png"
        else:
            def full(path, *args, **kwargs):
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            broken.setattr(pathlib.Path, "write_text", full)
            failed = folder / "p.itksnap"
        assert not window.exporter.export_pair()
    assert warned == [f"no space left on the device while writing {failed}"]
    assert files_in(folder) == before  # the earlier pair whole, no staging folder left
    assert window.exporter.export_pair()
    after = files_in(folder)
    assert after.keys() == before.keys() and after != before


def test_an_autosave_on_a_full_disk_keeps_the_last_and_is_said_once(window, monkeypatch):
    window.recovery._timer.stop()
    said = []
    window.statusBar().messageChanged.connect(lambda text: text.startswith("Autosave") and said.append(text))
    window.document.fill(2, 2, 1)
    assert window.autosave_now()
    folder = window.autosaver.folder
    last = files_in(folder)
    with monkeypatch.context() as broken:
        broken.setattr(PIL.Image.Image, "save", no_space)
        for x in (3, 4, 5):  # each edit autosaved again, and failing again
            window.document.fill(x, 3, 2)
            assert not window.autosave_now()
    assert said == [f"Autosave failed: no space left on the device while writing {folder / 'mask-2.png'}"]
    assert files_in(folder) == last  # the last autosave in force, nothing half-written beside it
    window.document.fill(9, 9, 2)
    assert window.autosave_now() and window.autosaver.mask_path.name == "mask-2.png"


def test_settings_that_cannot_be_written_are_said_at_start(qtbot, tmp_path, tiny_model, monkeypatch):
    from cardigan_app.testing import close_window, open_window

    (tmp_path / "config").write_text("a file where the settings folder should be")
    window = open_window(qtbot, tmp_path / "config" / "studio", str(tiny_model), wait=False)
    try:
        line = window.statusBar().currentMessage()
        assert line.startswith(f"Settings are not kept: {tmp_path / 'config' / 'studio' / 'settings.ini'}: ")
        assert line.endswith("; preferences, recent files and the window layout last until the studio closes")
        monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: pytest.fail("said twice")))
    finally:
        close_window(window)  # saving the settings at close fails without a word: it was said
    assert (tmp_path / "config").read_text() == "a file where the settings folder should be"


def test_settings_that_cannot_be_saved_at_close_are_said_before_the_window_goes(qtbot, tmp_path, tiny_model,
                                                                                monkeypatch, warned):
    """Writable at start, the settings file meets a full disk later: closing says so in a dialog."""
    from PySide6.QtCore import QSettings

    import cardigan_app.settings as settings
    from cardigan_app.testing import close_window, open_window

    window = open_window(qtbot, tmp_path, str(tiny_model), wait=False)
    file = tmp_path / "settings.ini"
    shown_while = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a: (warned.append(text), shown_while.append(parent.isVisible()))))
    monkeypatch.setattr(QSettings, "status", lambda self: QSettings.Status.AccessError)
    monkeypatch.setattr(settings.tempfile, "TemporaryFile", no_space)
    close_window(window)
    assert warned == [f"Settings were not saved: no space left on the device while writing {file}; this "
                      "session's preferences, recent files and window layout are lost"]
    assert shown_while == [True]  # said before the window goes


def test_settings_written_at_close_after_a_write_that_failed_for_a_while_are_not_said_lost(tmp_path):
    """QSettings keeps its first error for good; the settings are said lost only when the
    last write fails too."""
    from cardigan_app.settings import AppSettings

    folder = tmp_path / "config"
    folder.mkdir()
    settings = AppSettings(folder / "settings.ini")
    assert settings.unwritable() is None
    folder.rename(tmp_path / "aside")
    folder.write_text("a file where the settings folder was, for a while")
    settings.add_recent_file(tmp_path / "a.png")
    settings.qsettings.sync()  # as the event loop syncs it: the write fails
    assert settings.not_saved().startswith(f"Settings were not saved: {folder / 'settings.ini'}: ")
    folder.unlink()
    (tmp_path / "aside").rename(folder)
    settings.add_recent_file(tmp_path / "b.png")
    settings.qsettings.sync()  # at close: written
    assert settings.not_saved() is None
    assert AppSettings(folder / "settings.ini").recent_files() == [str(tmp_path / "b.png"), str(tmp_path / "a.png")]
