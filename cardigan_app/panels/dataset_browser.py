"""Browse a prepared dataset folder (``<root>/<split>/{img,label}/<stem>.png``) with thumbnails.

Opening an item loads its label map for editing and shows its real image beside it; an ES
item opens with its ED item as one patient's two key frames.
Thumbnails are made on a background thread, a page at a time, so large splits open fast.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QMenu,
                               QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

from .. import theme
from .. import folders
from ..icons import icon
from ..imaging import thumbnail
from ..path_field import with_clear_button
from engine.data.dataset_folder import DatasetFolder, Pair
from engine.data.layout import LABEL_DIR, make_stem, parse_stem

THUMB = 88
OPEN_HINT = "Double-click a pair (or press Enter) to open its mask for editing; right-click for more"


DatasetItem = Pair  # a pair of the dataset: stem, label_path, image_path (engine.data.dataset_folder)


def count_label_maps(root: Path, split: str) -> int:
    """The label PNGs of ``split`` (counted by name only: no file is opened)."""
    try:
        return sum(1 for path in (root / split / LABEL_DIR).glob("*.png") if not path.name.startswith("."))
    except OSError:
        return 0


def filter_key(text: str) -> str:
    """What the filter looks for in a pair's name: typed as the files spell it (4CH_ED) or as
    the list shows it (4CH ED), in any case."""
    return text.strip().lower().replace("_", " ")


def read_grey(path: Path | None) -> np.ndarray | None:
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"))
    except (OSError, ValueError):
        return None


class ThumbnailLoader(QObject):
    """Makes thumbnails on a daemon thread; starting a new batch abandons the old one."""

    ready = Signal(int, int, QImage)  # batch, row, picture

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._batch = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, items: list[DatasetItem]) -> int:
        self.cancel()
        self._batch += 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._batch, items, self._stop),
                                        name="thumbnails", daemon=True)
        self._thread.start()
        return self._batch

    def cancel(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self, batch: int, items: list[DatasetItem], stop: threading.Event) -> None:
        for row, item in enumerate(items):
            if stop.is_set():
                return
            labels = read_grey(item.label_path)
            if labels is not None and labels.max(initial=0) > 3:
                labels = None  # not a label map: show the image alone
            picture = thumbnail(read_grey(item.image_path), labels, THUMB)
            try:
                self.ready.emit(batch, row, picture)
            except RuntimeError:  # the browser was closed
                return


class DatasetBrowser(QWidget):
    openRequested = Signal(object)  # DatasetItem
    deformRequested = Signal(object)  # DatasetItem: a new mask, deformed from this one
    folderChanged = Signal(str, str)  # root, split

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.folder: DatasetFolder | None = None
        self.items: list[DatasetItem] = []
        self.folder_label = QLabel("No dataset folder")
        self.folder_label.setWordWrap(True)
        choose = QPushButton(icon("folder-table-outline"), "Folder\u2026")
        choose.setToolTip("Choose a prepared dataset folder (made by cardigan prepare)")
        choose.clicked.connect(self.choose_folder)
        top = QHBoxLayout()
        top.addWidget(self.folder_label, 1)
        top.addWidget(choose)
        self.split = QComboBox()
        self.split.setToolTip("Which split of the dataset to show")
        self.split.currentTextChanged.connect(self._split_changed)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter, e.g. 4CH_ED")
        with_clear_button(self.filter)
        self.filter.setToolTip("Show only items whose name contains this text; Enter opens the pair selected")
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.returnPressed.connect(self._open_current)  # type a patient, Enter opens it
        row = QHBoxLayout()
        row.addWidget(self.split)
        row.addWidget(self.filter, 1)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet(theme.text_style(theme.MUTED))
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 16, THUMB + 44))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setToolTip("Double-click (or Enter) to open a label map for editing; "
                             "Data \u203a Next pair (Alt+Down) and Previous pair (Alt+Up) step through the list")
        self.list.itemActivated.connect(self._activated)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.hint = QLabel(OPEN_HINT)  # a click only selects: say how to open
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(theme.text_style(theme.MUTED))
        self.list.currentItemChanged.connect(self._selected)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.info)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.hint)
        self.loader = ThumbnailLoader(self)
        self.loader.ready.connect(self._thumbnail_ready)
        self._batch = 0
        self._shown = 0  # entries the filter lets through
        self._placeholder = QIcon(QPixmap(THUMB, THUMB))
        self._names: dict[str, list[str]] = {}  # each split's pair names, for the filter's hint

    def choose_folder(self) -> None:
        start = str(self.root) if self.root else folders.start_folder("datasets")
        folder = QFileDialog.getExistingDirectory(self, "Prepared dataset folder", start)
        if folder:
            folders.remember("datasets", folder)
            self.open_folder(Path(folder))

    def open_folder(self, root: Path, split: str | None = None) -> bool:
        """Show ``root``; False (with a message in the panel) when it is not a prepared dataset."""
        root = Path(root)
        folder = DatasetFolder(root)
        problem = folder.problem()
        if problem:
            self.info.setText(problem)
            return False
        splits = folder.splits()
        self.root, self.folder = root, folder
        self._names = {}
        self.folder_label.setText(str(root))
        self.folder_label.setToolTip(str(root))
        summary = folder.summary
        counts = summary.counts or {name: count_label_maps(root, name) for name in splits}  # no manifest
        # a manifest counts every split, those the folder does not have too ("test: 0")
        details = [f"{split}: {count}" for split, count in counts.items() if split in splits]
        if summary.source:
            details.insert(0, f"from {summary.source}")
        self.info.setText(", ".join(details))
        self.split.blockSignals(True)
        self.split.clear()
        self.split.addItems(splits)
        self.split.setCurrentText(split if split in splits else splits[0])
        self.split.blockSignals(False)
        self._split_changed(self.split.currentText())
        return True

    def _split_changed(self, split: str) -> None:
        if self.root is None or not split:
            return
        self.items = self.folder.pairs(split)
        self._clear_list()
        for item in self.items:
            entry = QListWidgetItem(self._placeholder, item.stem.replace("_", " "))
            entry.setToolTip(str(item.label_path) + ("" if item.image_path else "\n(no image beside it)"))
            self.list.addItem(entry)
        self._apply_filter(self.filter.text())
        self._batch = self.loader.start(self.items)
        self.folderChanged.emit(str(self.root), split)

    def _clear_list(self) -> None:
        """Empty the list at once, however many entries the filter hides: Qt removes hidden
        rows one by one, each time going through all of them (seconds for a split of
        thousands), so they are shown again first, with the view not drawing meanwhile."""
        self.list.setUpdatesEnabled(False)
        try:
            for row in range(self.list.count()):
                self.list.item(row).setHidden(False)
            self.list.clear()
        finally:
            self.list.setUpdatesEnabled(True)

    def _apply_filter(self, text: str) -> None:
        """Show the pairs whose name holds ``text``, typed as the files spell it (4CH_ED) or as
        the list shows it (4CH ED)."""
        text = filter_key(text)
        self._shown = 0
        first = None
        for row in range(self.list.count()):
            entry = self.list.item(row)
            hidden = bool(text) and text not in entry.text().lower()
            entry.setHidden(hidden)
            self._shown += not hidden
            first = entry if first is None and not hidden else first
        current = self.list.currentItem()
        if text and first is not None and (current is None or current.isHidden()):
            self.list.setCurrentItem(first)  # the pair Enter opens is one on show
        self._selected(self.list.currentItem())

    def _thumbnail_ready(self, batch: int, row: int, picture: QImage) -> None:
        if batch == self._batch and row < self.list.count():
            self.list.item(row).setIcon(QIcon(QPixmap.fromImage(picture)))

    def _selected(self, entry: QListWidgetItem | None, _previous=None) -> None:
        """Say how to open the pair selected, or why the list is empty."""
        if self.root is not None and not self.items:
            self.hint.setText(f"No pairs in {self.split.currentText()}: its {LABEL_DIR} folder holds no PNG label maps")
        elif self.root is not None and not self._shown:
            self.hint.setText(f"No pair's name contains \u201c{self.filter.text().strip()}\u201d"
                              + self._elsewhere(self.filter.text()))
        elif entry is not None and not entry.isHidden():
            self.hint.setText(f"Double-click {entry.text()} (or press Enter) to open it for editing")
        else:
            self.hint.setText(OPEN_HINT)

    def _elsewhere(self, text: str) -> str:
        """Where the pairs ``text`` names are, when not in the split shown (a patient of another
        split), as a clause to end the hint with; empty when no other split holds one."""
        key = filter_key(text)
        counts = {split: sum(key in name for name in self._names_in(split))
                  for split in self.folder.splits() if split != self.split.currentText()}
        found = [f"{count} in {split}" for split, count in counts.items() if count]
        return f" in {self.split.currentText()}; {' and '.join(found)} (choose the split above)" if found else ""

    def _names_in(self, split: str) -> list[str]:
        """The names of ``split``'s pairs as the list shows them (read once for each folder opened)."""
        if split not in self._names:
            self._names[split] = [filter_key(pair.stem) for pair in self.folder.pairs(split)]
        return self._names[split]

    def _open_current(self) -> None:
        """Open the pair selected, when the filter shows it (Enter in the filter field)."""
        entry = self.list.currentItem()
        if entry is not None and not entry.isHidden():
            self._activated(entry)

    def neighbour(self, step: int) -> DatasetItem | None:
        """The pair after (``step`` 1) or before (-1) the one selected among those the filter
        shows; with none selected, the first or the last shown. None past either end."""
        shown = [row for row in range(self.list.count()) if not self.list.item(row).isHidden()]
        current = self.list.currentRow()
        if current < 0 or current >= len(self.items):
            rows = shown
        else:
            rows = [row for row in shown if (row - current) * step > 0]
        if not rows:
            return None
        return self.items[rows[0] if step > 0 else rows[-1]]

    def ed_partner(self, item: DatasetItem) -> DatasetItem | None:
        """The ED pair of the patient and view of ``item``, an ES pair (``p_4CH_ES`` and
        ``p_4CH_ED``), when the split holds it: the two open as one patient's key frames."""
        parts = parse_stem(item.stem)
        if parts is None or parts[2] != "ES":
            return None
        stem = make_stem(parts[0], parts[1], "ED")
        return next((pair for pair in self.items if pair.stem == stem and pair.split == item.split), None)

    def select(self, item: DatasetItem) -> None:
        """Select ``item``'s entry (the pair on screen), showing it in the list."""
        if item in self.items:
            entry = self.list.item(self.items.index(item))
            self.list.setCurrentItem(entry)
            self.list.scrollToItem(entry)

    def _activated(self, entry: QListWidgetItem) -> None:
        row = self.list.row(entry)
        if 0 <= row < len(self.items):
            self.openRequested.emit(self.items[row])

    def _context_menu(self, position) -> None:
        entry = self.list.itemAt(position)
        row = self.list.row(entry) if entry is not None else -1
        if not 0 <= row < len(self.items):
            return
        menu = QMenu(self)
        menu.addAction(icon("folder-open-outline"), "Open", lambda: self.openRequested.emit(self.items[row]))
        menu.addAction(icon("vector-curve"), "New mask from this one, deformed",
                       lambda: self.deformRequested.emit(self.items[row]))
        menu.exec(self.list.viewport().mapToGlobal(position))

    def shutdown(self) -> None:
        self.loader.cancel()
