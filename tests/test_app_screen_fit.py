"""The studio fits a laptop screen in every state: its least size stays within 1260 x 740, room
for a 1280 x 800 or 1366 x 768 screen's window frame and task bar, whatever is open (a real
image, a loop's frames with their slider, an ITK-SNAP workspace, the training panel, every
panel, a played loop on the timeline)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QDockWidget

from cardigan_app.contrast import Window
from cardigan_app.editing import LabelDocument
from cardigan_app.testing import close_window, open_window

FITS = (1260, 740)  # a 1280 x 800 screen less the window frame and a task bar


@pytest.fixture
def window(qtbot, tmp_path, tiny_model):
    win = open_window(qtbot, tmp_path, str(tiny_model))
    yield win
    close_window(win)


def least_size(window) -> tuple[int, int]:
    QApplication.processEvents()
    hint, set_ = window.minimumSizeHint(), window.minimumSize()
    return max(hint.width(), set_.width()), max(hint.height(), set_.height())


def echo_loop(count: int = 20, size: int = 64) -> np.ndarray:
    """A made-up loop: a bright band that moves frame by frame (no real pixels)."""
    frames = np.zeros((count, size, size), np.uint8)
    for t in range(count):
        frames[t, :, (t * 3) % size:(t * 3) % size + 8] = 200
    return frames


def traced_over_a_loop(window, qtbot, tmp_path=None) -> None:
    """A mask over a loop's real frames, both key frames, the contrast chosen, blending, busy."""
    document = LabelDocument(window.document.labels.copy(), origin="traced over a test loop")
    window.set_document(document, frames=echo_loop(), source="loop.nii.gz")
    window.state.set("key_frame", "ES")  # the mask pane names the key frame edited
    window.set_reference_contrast(Window(123.5, 64.25))  # the header says the window/level
    window.state.set("echo_mode", "blend")  # the blend slider shows too
    window.live.busyChanged.emit(True)


def fresh_start(window, qtbot, tmp_path) -> None:
    pass


def dataset_pair(window, qtbot, tmp_path) -> None:
    window.set_document(LabelDocument(window.document.labels.copy(), origin="a dataset pair"),
                        reference=np.full(window.document.shape, 90, np.uint8))
    window.show_dataset_panel()


def itksnap_workspace(window, qtbot, tmp_path) -> None:
    from engine.itksnap_workspace import write_workspace
    from engine.maskio import write_nifti

    write_nifti(tmp_path / "loop.nii.gz", echo_loop(7))
    write_nifti(tmp_path / "loop_seg.nii.gz", window.document.labels)
    write_workspace(tmp_path / "case.itksnap", tmp_path / "loop.nii.gz", tmp_path / "loop_seg.nii.gz")
    window.document.mark_saved()
    assert window.open_any(tmp_path / "case.itksnap")
    qtbot.waitUntil(lambda: window.workspace.reference_frame.isVisibleTo(window), timeout=10_000)


def training_panel(window, qtbot, tmp_path) -> None:
    window.training.dock.show()


def every_panel(window, qtbot, tmp_path) -> None:
    traced_over_a_loop(window, qtbot)
    for dock in window.findChildren(QDockWidget):
        dock.show()


def mask_alone(window, qtbot, tmp_path) -> None:
    traced_over_a_loop(window, qtbot)
    window.state.set("side_by_side", False)


def played_loop(window, qtbot, tmp_path=None) -> None:
    traced_over_a_loop(window, qtbot)
    window.live.busyChanged.emit(False)
    window.state.set("cine_fps", 10)
    window.timeline.play_button.setChecked(True)
    qtbot.waitUntil(lambda: window.timeline.frames is not None, timeout=60_000)
    window.timeline.play_button.setChecked(False)


STATES = {"fresh start": fresh_start, "a dataset pair": dataset_pair, "a loop's real frames": traced_over_a_loop,
          "an ITK-SNAP workspace": itksnap_workspace, "the training panel": training_panel,
          "every panel over a loop": every_panel, "the mask alone over a loop": mask_alone,
          "a played loop": played_loop}


@pytest.mark.parametrize("state", list(STATES))
def test_the_window_fits_a_laptop_screen(window, qtbot, tmp_path, state):
    STATES[state](window, qtbot, tmp_path)
    width, height = least_size(window)
    assert width <= FITS[0] and height <= FITS[1], f"{state}: at least {width} x {height}"

