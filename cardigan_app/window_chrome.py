"""The window's actions, menus, tool bar and status bar, built in one place.

Every action is registered with its shortcut and tooltip in the window's
:class:`~cardigan_app.actions.ActionRegistry`, which the shortcuts dialog reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QMenu, QSizePolicy, QSlider, QSpinBox, QToolBar,
                               QToolButton, QWidget)

from engine.labels import BACKGROUND, LABELS, in_sentence
from engine.models.registry import FOLDER_KINDS_IN_WORDS, KINDS_IN_WORDS

from .actions import ActionRegistry, keys_in_words, with_accelerator
from .editing.tools import MAX_BRUSH, MIN_BRUSH, TOOL_CLASSES
from .job_progress import JobProgress
from .state import StudioState
from .status_line import StatusBar

if TYPE_CHECKING:
    from .main_window import MainWindow

# the paint-over rule's choices: None every class, else a class id (StudioState's encoding)
PAINT_OVER_CHOICES = [(None, "Every class"), *((label.id, f"{label.name} only") for label in LABELS)]
PAINT_OVER_TIPS = {None: "Painting changes any pixel",
                   **{label.id: f"Painting changes only {in_sentence(label.name)} pixels" for label in LABELS}}
KEY_FRAME_NAMES = {"ED": "end-diastole", "ES": "end-systole"}
TOOL_KEYS = {"brush": ("B", "brush"), "eraser": ("E", "eraser"), "fill": ("G", "format-color-fill"),
             "polygon": ("P", "vector-polygon")}
OPACITY_STEP = 0.1  # D and F change the mask overlay's opacity by this
# the brush size slider: narrow enough that the tool bar keeps the paint-over list at the
# window's least size (the number box beside it gives each size exactly)
BRUSH_SLIDER_WIDTH = 96
TOOL_TIPS = {
    "brush": "Brush: paint the selected class with a round brush; one stroke is one undo step",
    "eraser": "Eraser: paint background, whatever the class underneath",
    "fill": "Flood fill: fill the connected region under the click with the selected class",
    "polygon": "Polygon fill: click corners, double-click or Enter to fill, Esc to cancel",
}


def tool_hint(tool: str, square_brush: bool) -> str:
    """What the palette says about the tool in hand (the brush's shape included)."""
    tip = TOOL_TIPS[tool]
    return tip.replace("a round brush", "a square brush") if square_brush else tip


@dataclass(frozen=True)
class StudioCommands:
    """What the actions do beyond setting the studio state: the window's few verbs, passed
    by name so the actions need nothing else of the window."""

    new_mask: Callable[[], object]
    new_deformed: Callable[[], object]
    open_mask: Callable[[], object]
    trace_image: Callable[[], object]
    browse_dataset: Callable[[], object]
    save: Callable[[], object]
    save_as: Callable[[], object]
    export_image: Callable[[], object]
    export_mask: Callable[[], object]
    export_pair: Callable[[], object]
    export_figure: Callable[[], object]
    export_cine: Callable[[], object]
    play: Callable[[bool], object]
    step_frame: Callable[[int], object]
    quit: Callable[[], object]
    undo: Callable[[], object]
    redo: Callable[[], object]
    clear: Callable[[], object]
    mask_tools: Callable[[], object]
    topology: Callable[[], object]
    fit: Callable[[], object]
    actual_size: Callable[[], object]
    zoom_in: Callable[[], object]
    zoom_out: Callable[[], object]
    contrast_auto: Callable[[], object]
    contrast_reset: Callable[[], object]
    open_model: Callable[[], object]
    open_model_folder: Callable[[], object]
    new_variation: Callable[[], object]
    resynthesize: Callable[[], object]
    shortcuts: Callable[[], object]
    about: Callable[[], object]


def build_actions(registry: ActionRegistry, state: StudioState, do: StudioCommands) -> None:
    """Create every action: choices go straight to ``state`` (and follow it), verbs call ``do``."""
    a = registry.add
    tools = QActionGroup(registry.parent)
    tools.setExclusive(True)
    a("new", "File", "&New mask\u2026", do.new_mask, shortcut=QKeySequence.StandardKey.New,
      icon_name="file-plus-outline", tip="New mask from a heart of the shape model, or blank")
    a("new_deformed", "File", "New mask, &deformed from this one", do.new_deformed, shortcut="Ctrl+Shift+N",
      icon_name="vector-curve", tip="A new anatomy: this mask moved, turned, stretched and smoothly warped, "
      "with the cavity kept inside its wall and the atrium below")
    a("open", "File", "&Open mask\u2026", do.open_mask, shortcut=QKeySequence.StandardKey.Open,
      icon_name="folder-open-outline",
      tip="Open a label PNG, a CAMUS ground truth (*_gt.mhd, *_gt.nii.gz), a NIfTI, MetaImage or NRRD label "
      "map, a 3D Slicer segmentation (*.seg.nrrd) or an ITK-SNAP workspace (*.itksnap)")
    a("trace", "File", "Open &image to trace\u2026", do.trace_image, shortcut="Ctrl+Shift+I",
      icon_name="image-edit-outline", tip="Open an echocardiogram of your own (PNG, JPEG, BMP, TIFF, NIfTI, MHD, NRRD, DICOM) and paint "
      "a new mask over it, in the sector fitted to it")
    a("dataset", "File", "&Browse prepared dataset\u2026", do.browse_dataset, shortcut="Ctrl+Shift+O",
      icon_name="folder-table-outline", tip="Browse a prepared dataset folder with thumbnails")
    a("save", "File", "&Save", do.save, shortcut=QKeySequence.StandardKey.Save,
      icon_name="content-save-outline", tip="Save the mask as a label PNG (with its heart and fan)")
    a("save_as", "File", "Save &as\u2026", do.save_as, shortcut="Ctrl+Shift+S",
      icon_name="content-save-edit-outline", tip="Save the mask as a new label PNG")
    a("export_image", "File", "Synthesized &image\u2026", do.export_image, shortcut="Ctrl+E",
      tip="Export the synthesized image as an 8-bit PNG or NIfTI (.nii.gz)", help_text="Export the synthesized image")
    a("export_mask", "File", "&Mask\u2026", do.export_mask,
      tip="Export the mask as a label PNG (with its fan, as saved), NIfTI (.nii.gz) or a 3D Slicer segmentation")
    a("export_pair", "File", "Image &and mask\u2026", do.export_pair,
      tip="Export the image and the mask (<name>.png and <name>_gt.png, or <name>.nii.gz and "
          "<name>_gt.nii.gz)")
    a("export_figure", "File", "Side-by-side &figure\u2026", do.export_figure,
      tip="Export a colour figure: mask | synthesis (| real image)")
    a("export_cine", "File", "&Cine loop\u2026", do.export_cine,
      tip="Export the loop on the timeline: GIF, MP4, NIfTI 2D+t with its masks, HDF5, DICOM or PNG frames")
    # the platform's Quit keys; Windows (and the offscreen platform) have none, so Ctrl+Q there
    a("quit", "File", "&Quit", do.quit,
      shortcut=QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or ["Ctrl+Q"])

    a("undo", "Edit", "&Undo", do.undo, shortcut="Ctrl+Z", icon_name="undo")
    a("redo", "Edit", "&Redo", do.redo, shortcut=["Ctrl+Shift+Z", "Ctrl+Y"], icon_name="redo")
    for cls in TOOL_CLASSES:
        key, icon_name = TOOL_KEYS[cls.key]
        action = a(f"tool_{cls.key}", "Edit", f"&{cls.label}", lambda on, k=cls.key: on and state.set("tool", k),
                   shortcut=key, icon_name=icon_name, tip=TOOL_TIPS[cls.key], checkable=True,
                   checked=state.tool == cls.key)
        action.setActionGroup(tools)
    a("smaller", "Edit", "Brush &smaller", lambda: state.set("brush_diameter", brush_step(state.brush_diameter, -1)),
      shortcut="[")
    a("larger", "Edit", "Brush &larger", lambda: state.set("brush_diameter", brush_step(state.brush_diameter, +1)),
      shortcut="]")
    a("square_brush", "Edit", "S&quare brush", lambda on: state.set("square_brush", on), shortcut="Q",
      icon_name="square-outline", checkable=True, checked=state.square_brush,
      tip="Square brush (off: round): paints squares of the brush size, for straight walls and corners")
    a("paint_over", "Edit", "Paint &over background only",
      lambda on: state.set("paint_over", BACKGROUND if on else None), shortcut="O",
      icon_name="layers-outline", checkable=True, checked=state.paint_over == BACKGROUND,
      tip="Paint over background only: the brush, fill and polygon leave painted classes untouched")
    over = QActionGroup(registry.parent)
    over.setExclusive(True)
    taken: set[str] = set()  # the submenu's accelerators: each entry's own words
    for target, text in PAINT_OVER_CHOICES:
        action = a(paint_over_action(target), "Edit \u203a Paint over", f"Paint over {with_accelerator(in_sentence(text), taken)}",
                   lambda on, t=target: on and state.set("paint_over", t),
                   checkable=True, checked=state.paint_over == target, tip=PAINT_OVER_TIPS[target])
        action.setActionGroup(over)
    for label in LABELS:
        a(f"class_{label.id}", "Edit \u203a Class", f"&{label.id} {label.name}",
          lambda _=False, i=label.id: state.set("active_label", i), shortcut=label.shortcut,
          tip=f"Paint {in_sentence(label.name)} (class {label.id})")
    a("clear", "Edit", "&Clear mask", do.clear, shortcut="Ctrl+Delete", icon_name="delete-sweep",
      tip="Set the whole mask to background (undoable)")
    a("mask_tools", "Edit", "&Mask tools\u2026", do.mask_tools, shortcut="Ctrl+M",
      icon_name="auto-fix", tip="Smooth, remove islands, keep the largest piece, grow or shrink a class "
      "(each one undo step)")
    a("topology", "Edit", "Check &topology", do.topology, shortcut="Ctrl+Shift+T",
      icon_name="check-decagram-outline",
      tip="Check that the cavity is enclosed by the myocardium and the atrium hangs below it")
    a("key_frame", "Edit", "ES &key frame", lambda on: state.set("key_frame", "ES" if on else "ED"),
      shortcut="K", icon_name="heart-pulse", checkable=True, checked=state.key_frame == "ES",
      tip=key_frame_tip(state.key_frame))

    a("fit", "View", "&Fit to window", do.fit, shortcut="Ctrl+0", icon_name="fit-to-screen-outline")
    a("actual", "View", "&Actual size (1:1)", do.actual_size, shortcut="Ctrl+1",
      icon_name="numeric-1-box-outline", tip="One mask pixel per screen pixel")
    # + and - alone too, as in ITK-SNAP (typed into a number field, they go there)
    a("zoom_in", "View", "Zoom &in", do.zoom_in, shortcut=["Ctrl+=", "Ctrl++", "+", "="],
      icon_name="magnify-plus-outline")
    a("zoom_out", "View", "Zoom &out", do.zoom_out, shortcut=["Ctrl+-", "-"], icon_name="magnify-minus-outline")
    a("contrast_auto", "View", "&Auto", do.contrast_auto, shortcut="A", icon_name="brightness-auto",
      help_text="Real image contrast: auto",
      tip="Auto contrast of the real image: its 1–99 % grey values fill black to white "
          "(display only; right-drag or Ctrl+drag on the image sets it by hand)")
    a("contrast_reset", "View", "&Reset", do.contrast_reset, shortcut="Shift+A", icon_name="restore",
      help_text="Real image contrast: reset",
      tip="Reset the real image's contrast: show its own grey values")
    # D and F side by side, as [ and ] for the brush: left less, right more
    a("opacity_down", "View", "Mask opacity &down",
      lambda: state.set("overlay_opacity", opacity_step(state.overlay_opacity, -1)), shortcut="D",
      tip="Show the mask 10 % more transparent over the image beneath it")
    a("opacity_up", "View", "Mask opacity &up",
      lambda: state.set("overlay_opacity", opacity_step(state.overlay_opacity, +1)), shortcut="F",
      tip="Show the mask 10 % more opaque over the image beneath it")
    a("side_by_side", "View", "&Side by side", lambda on: state.set("side_by_side", on), shortcut="V",
      icon_name="view-split-vertical", checkable=True, checked=state.side_by_side,
      tip="Show the mask and the synthesized image side by side (off: the image lies under the mask)")
    a("play", "View", "Play cine &loop", do.play, shortcut="L", icon_name="play", checkable=True,
      tip="Play the loop between the ED and ES key frames (made from them first); again to pause")
    # , and . as ITK-SNAP steps through time; not the arrow keys, which move sliders and lists
    a("previous_frame", "View", "Pre&vious frame", lambda: do.step_frame(-1), shortcut=",",
      tip="The previous frame of the loop traced over (under this key frame), else of the cine loop")
    a("next_frame", "View", "&Next frame", lambda: do.step_frame(+1), shortcut=".",
      tip="The next frame of the loop traced over (under this key frame), else of the cine loop")

    a("open_model", "Model", "&Open model file\u2026", do.open_model, shortcut="Ctrl+L",
      icon_name="chip", tip=f"Open {KINDS_IN_WORDS}")
    a("open_model_folder", "Model", "Open model &folder\u2026", do.open_model_folder, shortcut="Ctrl+Shift+L",
      icon_name="folder-open-outline", tip=f"Open {FOLDER_KINDS_IN_WORDS}")
    a("new_variation", "Model", "&New variation", do.new_variation, shortcut="R",
      icon_name="dice-5-outline", tip="Synthesize the same mask with a new random seed")
    a("resynthesize", "Model", "Synthesize &again", do.resynthesize, shortcut="F5", icon_name="refresh")

    a("shortcuts", "Help", "&Keyboard shortcuts", do.shortcuts, shortcut="F1", icon_name="keyboard-outline")
    a("about", "Help", "&About cardiGAN Studio", do.about)


def paint_over_action(target: int | None) -> str:
    return "paint_over_all" if target is None else f"paint_over_{target}"


def key_frame_tip(frame: str) -> str:
    """The key-frame switch's tooltip: which key frame of the cine loop is being edited and
    where K goes from it (it is checked on ES)."""
    other = "ED" if frame == "ES" else "ES"
    return f"Editing the {frame} key frame of the cine loop; K switches to {other} ({KEY_FRAME_NAMES[other]})"


def brush_step(size: int, direction: int) -> int:
    """The next brush size up or down: finer steps for small brushes."""
    step = 1 if size < 10 else 2 if size < 30 else 4
    return size + direction * step


def opacity_step(opacity: float, direction: int) -> float:
    """The mask overlay's opacity a step of 10 % up or down, within 0-1."""
    return round(min(1.0, max(0.0, opacity + direction * OPACITY_STEP)), 2)


def bind_actions(registry: ActionRegistry, state: StudioState) -> None:
    """Checkable actions follow the state, whoever changed it."""
    state.observe("tool", lambda tool: registry[f"tool_{tool}"].setChecked(True))
    state.observe("square_brush", registry["square_brush"].setChecked)
    state.observe("side_by_side", registry["side_by_side"].setChecked)

    def key_frame(frame: str) -> None:
        action = registry["key_frame"]
        action.setChecked(frame == "ES")
        action.setToolTip(f"{key_frame_tip(frame)} ({keys_in_words(action)})")

    state.observe("key_frame", key_frame)

    def paint_over(target: int | None) -> None:
        registry["paint_over"].setChecked(target == BACKGROUND)
        registry[paint_over_action(target)].setChecked(True)

    state.observe("paint_over", paint_over)


@dataclass(frozen=True)
class Menus:
    """The menus other parts of the window fill in."""

    recent: QMenu  # File > Open recent, filled when it opens
    export: QMenu  # File > Export
    help: QMenu  # later menus go before it


@dataclass(frozen=True)
class ToolWidgets:
    """The tool bar's own widgets (beside its actions)."""

    brush_slider: QSlider
    brush_spin: QSpinBox
    paint_over: QComboBox


@dataclass(frozen=True)
class StatusWidgets:
    """The status bar's permanent fields."""

    busy: QLabel
    time: QLabel
    device: QLabel
    cursor: QLabel
    label: QLabel
    job: JobProgress  # a cine loop being written: its progress and Cancel, hidden meanwhile


def build_menus(window: MainWindow) -> Menus:
    """File, Edit, View, Model and Help; later menus go before Help (``MainWindow.add_menu``)."""
    act, bar = window.commands, window.menuBar()
    file = bar.addMenu("&File")
    for name in ("new", "new_deformed", "open", "trace"):
        file.addAction(act[name])
    recent = file.addMenu("Open &recent")
    recent.aboutToShow.connect(lambda: window.files.fill_recent_menu(recent))
    file.addAction(act["dataset"])
    file.addSeparator()
    file.addActions([act["save"], act["save_as"]])
    file.addSeparator()
    export = file.addMenu("&Export")
    export.addActions([act["export_image"], act["export_mask"], act["export_pair"], act["export_figure"],
                       act["export_cine"]])
    file.addSeparator()
    file.addAction(act["quit"])

    edit = bar.addMenu("&Edit")
    edit.addActions([act["undo"], act["redo"]])
    edit.addSeparator()
    edit.addActions([act[f"tool_{cls.key}"] for cls in TOOL_CLASSES])
    edit.addSeparator()
    edit.addActions([act["smaller"], act["larger"], act["square_brush"], act["paint_over"]])
    over = edit.addMenu("Paint o&ver")
    over.addActions([act[paint_over_action(t)] for t, _ in PAINT_OVER_CHOICES])
    classes = edit.addMenu("Cl&ass")
    classes.addActions([act[f"class_{label.id}"] for label in LABELS])
    edit.addSeparator()
    edit.addAction(act["clear"])
    edit.addActions([act["mask_tools"], act["topology"]])
    edit.addSeparator()
    edit.addAction(act["key_frame"])

    view = bar.addMenu("&View")
    view.addActions([act["fit"], act["actual"], act["zoom_in"], act["zoom_out"]])
    contrast = view.addMenu("Real image &contrast")
    contrast.addActions([act["contrast_auto"], act["contrast_reset"]])
    view.addSeparator()
    view.addActions([act["opacity_down"], act["opacity_up"]])
    view.addAction(act["side_by_side"])
    view.addActions([act["play"], act["previous_frame"], act["next_frame"]])
    view.addSeparator()
    view.addMenu(window.panels_menu)

    model = bar.addMenu("&Model")
    model.addActions([act["open_model"], act["open_model_folder"], act["new_variation"], act["resynthesize"]])

    help_menu = bar.addMenu("&Help")
    help_menu.addActions([act["shortcuts"], act["about"]])
    return Menus(recent, export, help_menu)


def labelled(label: QLabel, *widgets: QWidget) -> QWidget:
    """``label`` and the ``widgets`` it names as one tool bar item: a window too narrow for the
    tool bar moves them into its overflow menu together, never the label alone."""
    group = QWidget()
    group.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)  # not stretched across a wide bar
    row = QHBoxLayout(group)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(1)  # as the tool bar spaces its items
    for widget in (label, *widgets):
        row.addWidget(widget)
    return group


def build_toolbar(window: MainWindow, state: StudioState) -> ToolWidgets:
    """The main tool bar: files, history, tools, brush size and shape, paint-over, views,
    model; its widgets set ``state`` and follow it."""
    act = window.commands
    bar = window.addToolBar("Main")
    bar.setObjectName("toolbar_main")
    bar.setMovable(False)
    bar.addActions([act["new"], act["open"], act["save"]])
    bar.addSeparator()
    bar.addActions([act["undo"], act["redo"]])
    bar.addSeparator()
    bar.addActions([act[f"tool_{cls.key}"] for cls in TOOL_CLASSES])
    bar.addSeparator()
    size_label = QLabel(" Size ")
    size_label.setToolTip("Brush diameter in pixels ([ and ])")
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(MIN_BRUSH, MAX_BRUSH)  # every size the number box and ] reach
    slider.setFixedWidth(BRUSH_SLIDER_WIDTH)
    spin = QSpinBox()
    spin.setRange(MIN_BRUSH, MAX_BRUSH)
    spin.setSuffix(" px")
    for widget in (slider, spin):
        widget.setToolTip("Brush diameter in pixels ([ smaller, ] larger)")
        widget.setValue(state.brush_diameter)
        widget.valueChanged.connect(lambda value: state.set("brush_diameter", value))
        state.observe("brush_diameter", widget.setValue)  # no loop: an unchanged value is not news
    bar.addWidget(labelled(size_label, slider, spin))
    bar.addAction(act["square_brush"])
    over_label = QLabel(" Over ")
    over = QComboBox()
    targets = [target for target, _ in PAINT_OVER_CHOICES]
    over.addItems([text for _, text in PAINT_OVER_CHOICES])
    over.setCurrentIndex(targets.index(state.paint_over))
    for widget in (over_label, over):
        widget.setToolTip("What painting may change: every class, or only the pixels of one class "
                          "(O toggles background only)")
    over.currentIndexChanged.connect(lambda i: state.set("paint_over", targets[i]))
    state.observe("paint_over", lambda target: over.setCurrentIndex(targets.index(target)))
    over_group = labelled(over_label, over)
    bar.addWidget(over_group)
    bar.addSeparator()
    bar.addAction(act["clear"])
    bar.addSeparator()
    bar.addActions([act["fit"], act["actual"], act["side_by_side"]])
    bar.addSeparator()
    bar.addActions([act["open_model"], act["new_variation"]])
    bar.addSeparator()
    bar.addAction(act["key_frame"])
    bar.setMinimumWidth(width_through(bar, over_group))  # the window's least width keeps the list
    return ToolWidgets(slider, spin, over)


def width_through(bar: QToolBar, last: QWidget) -> int:
    """How wide ``bar`` must be to show every item up to ``last`` (the paint-over list) with the
    overflow button (for the commands after it, all in the menus with their keys) beside them."""
    layout, widths = bar.layout(), []
    for action in bar.actions():
        widths.append(bar.widgetForAction(action).sizeHint().width())
        if bar.widgetForAction(action) is last:
            break
    overflow = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    margins = layout.contentsMargins()
    return (margins.left() + margins.right() + sum(widths) + layout.spacing() * len(widths)
            + (overflow.sizeHint().width() if overflow is not None else 0) + 2 * layout.spacing())


def build_status_bar(window: MainWindow) -> StatusWidgets:
    """Device, last synthesis time, pointer position and the class under it. A long message
    has the room it needs: the synthesis time gives way first, then the device, the pointer's
    position and class, the busy note last (:class:`~cardigan_app.status_line.StatusBar`).
    Rightmost, while a cine loop is written, its progress and Cancel button, which never give way."""
    bar = StatusBar(window)  # parented, so its Python side lives as long as the window
    window.setStatusBar(bar)
    give_way = {"time": 0, "device": 1, "cursor": 2, "label": 3, "busy": 4}
    tips = {"time": "How long synthesis takes", "device": "The device the model runs on",
            "cursor": "Pixel under the pointer (column, row)", "label": "Class under the pointer"}
    widths = {"cursor": 110, "label": 120}
    fields = {}
    for name in ("busy", "time", "device", "cursor", "label"):
        widget = fields[name] = QLabel("")
        if name in tips:
            widget.setToolTip(tips[name])
        if name in widths:
            widget.setMinimumWidth(widths[name])
        bar.add_field(widget, give_way[name])
    fields["job"] = JobProgress(bar)
    bar.add_fixed(fields["job"])
    return StatusWidgets(**fields)
