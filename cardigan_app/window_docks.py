"""The window's docks: building the side panels, laying them out, and restoring the layout.

:class:`WindowDocks` is a base class of :class:`~cardigan_app.main_window.MainWindow` that
holds the panels' construction (the label palette, anatomy, model, seed and variations and
dataset panels, each in a dock listed under View > Panels), :meth:`WindowDocks.add_panel`
for docks that later features add, the layout at first start (:meth:`WindowDocks.lay_out_panels`,
again once the window is first shown at its real size) and the saved geometry, dock and
splitter layout put back, the Seed and variations dock following the height its panel needs,
and the dataset browser shown as a tab beside the anatomy panel. It relies on the window's
settings, state, live synthesis (its variation count) and workspace.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDockWidget, QMenu, QScrollArea, QSizePolicy, QWidget

from .actions import accelerators_in, with_accelerator
from .dock_buttons import explain_title_buttons
from .panels import AnatomyPanel, DatasetBrowser, LabelPalette, ModelPanel, SynthesisPanel
from .panels.narrow import COLUMN_WIDTH


class WindowDocks:
    """The side panels in their docks, and the docks' layout (a base class of the main window)."""

    def _build_panels(self) -> None:
        self.palette = LabelPalette()
        self.model_panel = ModelPanel()
        self.model_panel.set_models(self.settings.recent_models(), None)
        self.model_panel.set_device(self.state.device)
        self.synthesis_panel = SynthesisPanel(self.live.variation_count)
        self.synthesis_panel.set_seed(self.state.seed)
        self.synthesis_panel.set_style_scale(self.state.style_scale)
        self.synthesis_panel.show_variations.setChecked(self.state.variations)
        self.dataset_browser = DatasetBrowser()
        self.anatomy_panel = AnatomyPanel()
        self.panels_menu = QMenu("&Panels", self)
        self.palette_dock = self.add_panel("Labels", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.anatomy_dock = self.add_panel("Anatomy", self.anatomy_panel, Qt.DockWidgetArea.LeftDockWidgetArea,
                                           scroll=True)
        self.model_dock = self.add_panel("Model", self.model_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.synthesis_dock = self.add_panel("Seed and variations", self.synthesis_panel,
                                             Qt.DockWidgetArea.RightDockWidgetArea)
        # not stretched when the window grows: the height goes to the model's details, not
        # under the thumbnails (a user's drag still sizes it)
        self.synthesis_dock.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.dataset_dock = self.add_panel("Dataset", self.dataset_browser, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.dataset_dock.hide()
        # the side panels run the full height; a bottom panel (training) sits under the canvases only
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

    def add_panel(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False) -> QDockWidget:
        """Add a dockable panel (also listed under View > Panels); with ``scroll`` a tall panel
        scrolls instead of making the window taller than the screen."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        explain_title_buttons(dock)
        if scroll:
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QScrollArea.Shape.NoFrame)
            area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area_widget.setWidget(widget)
            area_widget.setMinimumWidth(widget.minimumSizeHint().width()
                                        + area_widget.verticalScrollBar().sizeHint().width())
            widget = area_widget
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        toggle = dock.toggleViewAction()
        toggle.setText(with_accelerator(title, accelerators_in(self.panels_menu)))
        self.panels_menu.addAction(toggle)
        return dock

    def _restore_window(self) -> None:
        geometry, state = self.settings.window_geometry(), self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        elif self.screen() is not None:  # first start: most of the screen, up to 1440 x 900
            available = self.screen().availableGeometry()
            self.resize(min(1440, int(available.width() * 0.92)), min(900, int(available.height() * 0.9)))
        self._lay_out_when_shown = state is None or not self.restoreState(state, 1)
        if self._lay_out_when_shown:
            self.lay_out_panels()
        splitter = self.settings.splitter_state()
        if splitter is not None:
            self.workspace.restoreState(splitter)
        else:
            QTimer.singleShot(0, self.workspace.balance)

    def _fit_seed_panel(self) -> None:
        """The Seed and variations panel, as tall as it was needing, follows what it needs now
        (a deterministic model's note instead of thumbnails, the variations turned off); one
        the user made taller keeps its height."""
        dock = self.synthesis_dock
        if dock.isVisible() and not dock.isFloating():
            self.resizeDocks([dock], [dock.sizeHint().height()], Qt.Orientation.Vertical)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._lay_out_when_shown:  # no saved layout: lay out again at the size shown, its panels shown
            self._lay_out_when_shown = False
            QTimer.singleShot(0, self.lay_out_panels)

    def lay_out_panels(self) -> None:
        """The panels as at first start: each side column :data:`~.panels.narrow.COLUMN_WIDTH`
        wide (the most its panels need), the canvases take the rest; the labels and the seeds
        as tall as they need, anatomy and the model's details the rest."""
        self.resizeDocks([self.palette_dock, self.model_dock], [COLUMN_WIDTH, COLUMN_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.palette_dock, self.anatomy_dock, self.model_dock, self.synthesis_dock],
                         [self.palette_dock.sizeHint().height(), self.height(), self.height(),
                          self.synthesis_dock.sizeHint().height()], Qt.Orientation.Vertical)

    def show_dataset_panel(self) -> None:
        """Show the dataset browser as a tab beside the anatomy panel: it gets the column's
        height for its thumbnails, and the window no taller than the screen."""
        if self.dataset_dock.isHidden():
            if not self.anatomy_dock.isHidden() and not self.tabifiedDockWidgets(self.anatomy_dock):
                self.tabifyDockWidget(self.anatomy_dock, self.dataset_dock)
            self.dataset_dock.show()
        self.dataset_dock.raise_()
