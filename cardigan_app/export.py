"""Export the current pair: the synthesized image, the mask, both, or a side-by-side figure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.errors import CardiganError
from engine.fileio import atomic_path
from engine.maskio import write_grey_png, write_label_png

from . import folders
from .dialogs.prompts import confirm_overwrite, show_error
from .imaging import PALETTE, grey_to_rgb

if TYPE_CHECKING:
    from .main_window import MainWindow

PNG_FILTER = "PNG image (*.png)"
CINE_FILTER = ("Animated GIF (*.gif);;MP4 video (*.mp4);;NIfTI 2D+t, masks beside it (*.nii.gz);;"
               "HDF5 (*.h5);;PNG frames (a folder name) (*)")
GAP = 8


def side_by_side(labels: np.ndarray, image: np.ndarray, reference: np.ndarray | None = None,
                 gap: int = GAP) -> np.ndarray:
    """An RGB figure: coloured mask | synthesized image [| real image], white gaps between."""
    panels = [PALETTE[labels], grey_to_rgb(image)]
    if reference is not None and reference.shape == labels.shape:
        panels.append(grey_to_rgb(reference))
    height = labels.shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for panel in panels:
        parts += [panel, spacer]
    return np.concatenate(parts[:-1], axis=1)


def _png_path(name: str) -> Path:
    path = Path(name)
    return path if path.suffix.lower() == ".png" else path.with_name(path.name + ".png")


class Exporter:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def _stem(self) -> str:
        document = self.window.document
        if document.path is not None:
            name = document.path.name
            for suffix in (".nii.gz", ".nii", ".mhd", ".png"):
                if name.lower().endswith(suffix):
                    return name[: -len(suffix)]
        return "synthetic"

    def _current(self):
        """The shown synthesis if it matches the mask now on the canvas, else None (and say why)."""
        live = self.window.live
        result = live.last_result
        if result is None or not live.up_to_date() or result.document != self.window.document.id:
            QMessageBox.information(self.window, "Export",
                                    "The image is still being synthesized for the latest edit; "
                                    "export again when it has updated.")
            return None
        return result

    def _ask(self, title: str, suffix: str) -> Path | None:
        folder = Path(folders.start_folder("exports"))
        name, _ = QFileDialog.getSaveFileName(self.window, title, str(folder / f"{self._stem()}{suffix}.png"),
                                              PNG_FILTER)
        if not name:
            return None
        path = _png_path(name)
        folders.remember("exports", path)
        return path

    def _done(self, *paths: Path) -> None:
        self.window.statusBar().showMessage("Exported " + ", ".join(str(p) for p in paths), 8000)

    def export_image(self) -> bool:
        result = self._current()
        path = self._ask("Export synthesized image", "_synthetic") if result is not None else None
        return path is not None and self._write(lambda: write_grey_png(path, result.image), path)

    def export_mask(self) -> bool:
        path = self._ask("Export mask", "_mask")
        labels = self.window.document.labels.copy()
        return path is not None and self._write(lambda: write_label_png(path, labels), path)

    def export_pair(self) -> bool:
        """``<name>.png`` (image) and ``<name>_mask.png`` (label map), side by side on disk."""
        result = self._current()
        path = self._ask("Export image and mask", "") if result is not None else None
        if path is None:
            return False
        mask_path = path.with_name(path.stem + "_mask.png")
        if mask_path.exists() and not confirm_overwrite(self.window, [str(mask_path)]):
            return False
        return self._write(lambda: (write_grey_png(path, result.image), write_label_png(mask_path, result.labels)),
                           path, mask_path)

    def export_figure(self) -> bool:
        result = self._current()
        path = self._ask("Export side-by-side figure", "_figure") if result is not None else None
        if path is None:
            return False
        figure = side_by_side(result.labels, result.image, self.window.reference_image)

        def write() -> None:
            with atomic_path(path) as tmp:
                Image.fromarray(figure).save(tmp, format="PNG")

        return self._write(write, path)

    def _write(self, job, *paths: Path) -> bool:
        try:
            job()
        except CardiganError as exc:
            show_error(self.window, "Export failed", str(exc))
            return False
        except OSError as exc:
            show_error(self.window, "Export failed", f"{paths[0]}: {exc.strerror or exc}")
            return False
        self._done(*paths)
        return True

    def export_cine(self, path: Path | None = None) -> bool:
        """The loop on the timeline as a GIF, MP4, NIfTI (with its masks), HDF5 or PNG frames."""
        from engine.cine import write_loop

        frames = self.window.timeline.frames
        if frames is None or self.window.timeline.stale:
            QMessageBox.information(self.window, "Export cine loop",
                                    "Play the loop first (the timeline under the synthesis): the loop is "
                                    "made from the ED and ES key frames.")
            return False
        if path is None:
            folder = Path(folders.start_folder("exports"))
            name, chosen = QFileDialog.getSaveFileName(self.window, "Export cine loop",
                                                       str(folder / f"{self._stem()}_loop.gif"), CINE_FILTER)
            if not name:
                return False
            path = Path(name)
            folders.remember("exports", path)
        info = {"ejection_fraction_area": round(float(frames.ejection_fraction), 2),
                "phases": [round(float(p), 4) for p in frames.phases]}
        return self._write(lambda: write_loop(path, frames.images, frames.masks, frames.fps, info), path)
