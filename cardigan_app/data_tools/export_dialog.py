"""Data > Export batch: synthetic image/mask pairs in bulk, as a segmentation dataset.

Masks come from a folder (their names are kept) or from N generated patients (2CH and 4CH
at ED and ES each), drawn from the shipped shape model or from one built from a dataset
(Like dataset, as ``cardigan export --like``); every mask is synthesized K times, with a
noise model's style spread as chosen (Style scale, as ``--style-scale``). The engine writes
the png, seed HDF5, CAMUS NIfTI or nnU-Net layout to a staging folder and renames it at the end, so a
cancelled or failed export leaves nothing; a non-empty output folder is refused unless
Overwrite is ticked, and so is a new one named as a file (``out.h5``, ``out.jpg``: every
layout is a folder; the engine's :func:`engine.export.file_name_problem`). The dialog says so under the folder as soon as it (or the format) is chosen, and keeps Start off
until Overwrite is ticked or another folder chosen, not only when Start is pressed. Generated
masks are the chosen model's own size, as the command line makes them without ``--size``: the
Size box shows it (read from the model's file, :func:`engine.models.registry.native_size_of`;
256 for the simulator) and follows the model until the user sets a size, which is then kept and
each image drawn at the model's size and resampled to it; the plan under the patients says which
(:func:`engine.export.sources.mask_side_in_words`). What the
chosen layout will write in the folder is said under it too, in the engine's names
(:func:`engine.export.layout_line`; each layout is listed by its name in
:data:`engine.data.export_layouts.LAYOUT_NAMES`, as the phantom dialog names its formats, and
its tooltip is :func:`engine.export.layout_description`), and the result and its summary name the
layout by that name and the file or folder written (:func:`engine.export.main_output`). The model
is one of the list, or a model file or folder (a training run, its checkpoints folder, an NVlabs
SPADE checkpoints folder) picked with the field's File… or Folder… button, as the studio's
Model › Open model folder… opens one.

Its options are too tall to leave room for the Result box below them on a 1280 x 800 screen,
so the result shows right of them where the screen is wide enough (``result_beside`` of
:meth:`.job_dialog.JobDialog.lay_out`), below them on a narrower one.

Cine loops (:class:`.cine_options.CineOptions`) makes the export ``cardigan export --cine``'s:
the same engine function (:func:`engine.export.cine.export_cine`), so the same loops, the same
per-frame progress and the same stop, which leaves nothing (the loops are staged and put in
place whole). Its options that loops do not take (Like dataset, Variations, Border jitter) are
greyed while it is ticked, their tooltips saying so first, and so are the formats that cannot
hold loops, each with a tooltip saying why (:func:`engine.data.export_layouts.no_loops_reason`);
the note under the output and the result line speak of loops.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout,
                               QGroupBox, QPushButton, QRadioButton, QSpinBox, QWidget)

from engine.data.dataset_folder import summary_of
from engine.data.export_layouts import LAYOUT_NAMES, no_loops_reason
from engine.data.border_jitter import DEFAULT_JITTER, MAX_JITTER
from engine.errors import CardiganError, Words, option
from engine.export import (EXPORT_FORMATS, export_dataset, file_name_problem, layout_description, layout_line,
                           main_output, nnunet_name_problem)
from engine.export.cine import STAGE as CINE_STAGE
from engine.export.cine import export_cine
from engine.export.sources import LIKE_FALLBACK, ONE_MASK, generated_mask_side, mask_side_in_words
from engine.maskio import MASK_FILE_PATTERNS
from engine.models.registry import FILE_DIALOG_FILTER, builtin_models, display_name, native_size_of

from .. import theme
from ..device_choice import fill_device_combo
from ..fitted_label import FittedLabel
from ..icons import icon
from ..path_field import PathField
from .cine_options import CineOptions
from .job_dialog import JobDialog, open_folder, show_plan
from .output_note import OutputNote
from .spin_width import as_wide_as_its_values

FILE_ITEM = "__file__"
# the tooltip's first line on an option greyed while Cine loops is ticked
NOT_FOR_LOOPS = "Cine loops do not take this: untick Cine loops to set it."
UNKNOWN = "unknown"  # a chosen model's size while it cannot be read (no file chosen yet, say)
MODELS_OWN = "Model's own"  # the style scale box at 0: no style scale given, the model file's applies
# the style scale to a ten-thousandth: --style-scale takes any spread above 0, and spreads
# well below 0.01 are asked for; only finer ones than this are the command line's alone
STYLE_SCALE_DECIMALS = 4


class StyleScaleBox(QDoubleSpinBox):
    """A style scale, shown without the zeros its decimals would pad it with (0.4, not 0.4000)."""

    def textFromValue(self, value: float) -> str:
        text, point = self.locale().toString(value, "f", self.decimals()), self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


class ExportDialog(JobDialog):
    exported = Signal(str, object)  # output folder, manifest
    start_tip = "Synthesize and write the dataset"
    working = "Synthesizing"
    option_names = {option("size"): "Size", option("like"): "Like dataset", option("style_scale"): "Style scale",
                    option("border_jitter"): "Border jitter", option("masks"): "Masks folder",
                    ONE_MASK: "open one mask in the studio to synthesize its image",
                    option("out"): "the output"}

    def __init__(self, parent: QWidget | None = None, current_model: str | None = None,
                 device: str = "auto") -> None:
        super().__init__(parent, QPushButton(icon("export"), "Export"),
                         QPushButton(icon("folder-open-outline"), "Open output folder"))
        self.setWindowTitle("Export batch")
        self.setMinimumWidth(640)

        self.model = QComboBox()
        self.model.setToolTip("The model that synthesizes the images")
        if current_model:
            self.model.addItem(f"Current studio model \u2014 {display_name(current_model)}", current_model)
        for spec in builtin_models():
            if spec != current_model:
                self.model.addItem(display_name(spec), spec)
        self.model.addItem("Model file or folder\u2026", FILE_ITEM)
        self.model_file = PathField("file+folder", "Model file", FILE_DIALOG_FILTER, kind="models",
                                    placeholder="a .safetensors model, *_net_G.pth, or a run or checkpoints folder",
                                    folder_caption="Model folder", folder_is_item=True)
        file_button, folder_button = self.model_file.buttons
        file_button.setToolTip("A model file: a .safetensors model or an NVlabs *_net_G.pth checkpoint")
        folder_button.setToolTip("A model folder: a training run (its model file) or an NVlabs SPADE "
                                 "checkpoints folder")

        self.use_random = QRadioButton("Generated patients")
        self.use_random.setToolTip("Random anatomies from the mask generator: 2CH and 4CH at ED and ES each")
        self.use_masks = QRadioButton("Masks folder")
        self.use_masks.setToolTip(f"Label maps ({MASK_FILE_PATTERNS}); their names are kept, their "
                                  "patients are split 80/10/10 anew (by the seed)")
        group = QButtonGroup(self)
        group.addButton(self.use_random)
        group.addButton(self.use_masks)
        self.use_random.setChecked(True)
        self.random_count = QSpinBox()
        self.random_count.setRange(1, 1_000_000)
        self.random_count.setValue(20)
        self.random_count.setSuffix(" patients")
        self.random_count.setToolTip("How many patients to generate; each gives one mask per view and instant")
        self.masks = PathField("folder", "Masks folder", kind="masks", placeholder="a folder of label maps")
        self.masks.setToolTip(f"The label maps to synthesize images for ({MASK_FILE_PATTERNS})")
        source_grid = QGridLayout()
        source_grid.addWidget(self.use_random, 0, 0)
        source_grid.addWidget(self.random_count, 0, 1)
        self.plan = FittedLabel("")
        source_grid.addWidget(self.plan, 1, 1)
        source_grid.addWidget(self.use_masks, 2, 0)
        source_grid.addWidget(self.masks, 2, 1)
        source_grid.setColumnStretch(1, 1)
        self.like = PathField("folder", "Dataset to draw like", kind="datasets",
                              placeholder="the shipped shape model of real CAMUS hearts")
        self.like.setToolTip(
            "Generated patients drawn from a shape model built from these masks instead: a prepared "
            "dataset's train split or a folder of masks named <patient>_<2CH|4CH>_<ED|ES>; needs 8 patients "
            "or more. Empty: the shipped shape model of real CAMUS hearts")
        self.like_fallback = QCheckBox("Fall back to the shipped shape model if it is too small")
        self.like_fallback.setToolTip("Without this, a dataset with too few patients for a shape model "
                                      "is refused; with it, the export says so and goes on")

        self.variations = QSpinBox()
        self.variations.setRange(1, 1000)
        self.variations.setToolTip("Images per mask, each with its own seed (variation 1 keeps the mask's name)")
        self.border_jitter = QDoubleSpinBox()
        self.border_jitter.setRange(0.0, MAX_JITTER)
        self.border_jitter.setSingleStep(0.5)
        self.border_jitter.setDecimals(1)
        self.border_jitter.setSuffix(" px")
        self.border_jitter.setValue(DEFAULT_JITTER)
        self.border_jitter.setToolTip(
            "Draw each image from its mask with the borders moved smoothly by about this much, and keep "
            "the unmoved mask in the pair: expert outlines do not sit exactly on an image's edges either. "
            f"Pixels of a 256-pixel mask, scaled to each mask's size; {DEFAULT_JITTER:g} px (the default) suits "
            "CAMUS-like masks; 0 draws the masks as they are")
        self.style_scale = StyleScaleBox()
        self.style_scale.setRange(0.0, 1.0)  # what --style-scale takes, above 0; 0 stands for none given
        self.style_scale.setDecimals(STYLE_SCALE_DECIMALS)
        self.style_scale.setSingleStep(0.05)
        self.style_scale.setSpecialValueText(MODELS_OWN)
        self.style_scale.setToolTip(
            "Spread of a noise model's style channels, above 0 and at most 1: 1 gives the most variety "
            f"(datasets for segmenters). {MODELS_OWN} (the default): as the model file says; models "
            "without style channels (the simulator, deterministic models) do not use it")
        self.format = QComboBox()
        for name in EXPORT_FORMATS:
            self.format.addItem(LAYOUT_NAMES[name], name)
            self.format.setItemData(self.format.count() - 1, layout_description(name), Qt.ItemDataRole.ToolTipRole)
        self.format.currentIndexChanged.connect(self._describe_format)
        self.cine = CineOptions()
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same patients, splits and images")
        self.size = QSpinBox()
        self.size.setRange(32, 2048)
        self.size.setSingleStep(32)
        self.size.setSuffix(" px")
        self.size.setToolTip("Size of generated masks (masks from a folder keep theirs). It is the chosen "
                             "model's own size (256 for the simulator) and follows the model until you set "
                             "one; images are drawn at the model's size and resampled to another")
        self.size_follows_model = True  # until the user sets a size
        self.native: tuple[int, int] | None | str = UNKNOWN  # the chosen model's (H, W), None: any size
        self.size.valueChanged.connect(self._size_set)
        self.device = QComboBox()
        fill_device_combo(self.device)
        index = self.device.findData(device)
        self.device.setCurrentIndex(max(index, 0))
        self.device.setToolTip("Where the model runs; Auto takes the GPU when there is one")
        self.output = PathField("folder", "Output folder", kind="exports", placeholder="a new or empty folder")
        self.output.setToolTip("Where the image/mask pairs are written: a new or empty folder")
        self.overwrite = QCheckBox("Replace the folder if it is not empty")
        self.overwrite.setToolTip("Without this, a non-empty output folder is refused")
        self.layout_note = FittedLabel("")
        self.layout_note.setStyleSheet(theme.text_style(theme.MUTED))
        note = self.watch_output(OutputNote(self.output, self.overwrite, "an export",
                                            folder_name_problem=self.file_name_for_a_folder,
                                            name_advice=self.nnunet_name_advice))

        for box in (self.random_count, self.variations, self.style_scale, self.border_jitter, self.seed, self.size):
            as_wide_as_its_values(box)
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("", self.model_file)
        form.addRow("Masks", source_grid)
        form.addRow("Like dataset", self.like)
        form.addRow("", self.like_fallback)
        form.addRow("Variations per mask", self.variations)
        form.addRow("Style scale", self.style_scale)
        form.addRow("Border jitter", self.border_jitter)
        form.addRow("Format", self.format)
        form.addRow("", self.cine)
        form.addRow("Seed", self.seed)
        form.addRow("Size", self.size)
        form.addRow("Device", self.device)
        form.addRow("Output folder", self.output)
        form.addRow("", self.layout_note)
        form.addRow("", note)
        form.addRow("", self.overwrite)
        self.options_box = QGroupBox("What to export")
        self.options_box.setLayout(form)

        self.open_button.clicked.connect(self.open_output)
        self.lay_out(self.options_box, [self.options_box], result_beside=True)

        # the options loops do not take, with their own tooltips
        self.loopless_options = {widget: widget.toolTip()
                                 for widget in (self.like, self.variations, self.border_jitter)}
        for signal in (self.model.currentIndexChanged, self.model_file.pathChanged):
            signal.connect(self._follow_model)
        self._follow_model()
        for signal in (self.model.currentIndexChanged, self.format.currentIndexChanged,
                       self.use_random.toggled, self.masks.pathChanged,
                       self.model_file.pathChanged, self.random_count.valueChanged,
                       self.seed.valueChanged, self.variations.valueChanged, self.like.pathChanged,
                       self.cine.changed):
            signal.connect(self._update_buttons)
        self._update_buttons()

    # -- state ---------------------------------------------------------------------------
    def model_spec(self) -> str | None:
        data = self.model.currentData()
        if data == FILE_ITEM:
            path = self.model_file.path()
            return str(path) if path else None
        return data

    def chosen_size(self) -> int | None:
        """The generated masks' size asked for, None for the model's own (as it is loaded)."""
        return None if self.size_follows_model else self.size.value()

    def chosen_like(self) -> Path | None:
        """The dataset generated patients are drawn like, None for the shipped shape model."""
        return self.like.path() if self.use_random.isChecked() else None

    def chosen_style_scale(self) -> float | None:
        """The style scale asked for, None for the model's own."""
        value = self.style_scale.value()
        return None if value == self.style_scale.minimum() else value

    def words(self) -> Words:
        """Also the Like dataset's fall-back box for the engine's advice to fall back."""
        return {**super().words(), LIKE_FALLBACK: f'tick "{self.like_fallback.text()}" to draw from it instead'}

    def select_model(self, spec: str) -> None:
        """Pick ``spec`` in the model list (a file goes into the file field)."""
        index = self.model.findData(spec)
        if index < 0:
            self.model.setCurrentIndex(self.model.findData(FILE_ITEM))
            self.model_file.set_path(spec)
        else:
            self.model.setCurrentIndex(index)

    @staticmethod
    def native_size(spec: str | None) -> tuple[int, int] | None | str:
        """(H, W) the model ``spec`` draws at (None: any size), or UNKNOWN while it cannot be
        read without loading it."""
        try:
            return native_size_of(spec) if spec else UNKNOWN
        except CardiganError:  # said when the export starts and loads it
            return UNKNOWN

    def _follow_model(self) -> None:
        """Read the chosen model's size; the Size box takes it until the user sets one."""
        self.native = self.native_size(self.model_spec())
        if self.size_follows_model and self.native != UNKNOWN:
            self.size.blockSignals(True)
            self.size.setValue(generated_mask_side(self.native))
            self.size.blockSignals(False)

    def _size_set(self) -> None:
        self.size_follows_model = False
        self._update_plan()

    def mask_side_line(self) -> str:
        """What size the generated masks are and whether their images are resampled."""
        native = None if self.native == UNKNOWN else self.native
        if self.native == UNKNOWN and self.size_follows_model:
            return "masks the model's own size"
        return self.in_dialog_words(mask_side_in_words(self.size.value(), native, not self.size_follows_model))

    def problem(self) -> str | None:
        if self.model_spec() is None:
            return "choose a model file or folder"
        if self.cine.checked() and (problem := self.cine.problem() or no_loops_reason(self.format.currentData())):
            return problem
        if self.use_masks.isChecked() and self.masks.path() is None:
            return "choose a folder of masks"
        if self.output.path() is None:
            return "choose an output folder"
        return self.output_note.problem()

    def file_name_for_a_folder(self, out: Path, there: bool) -> str | None:
        """Why the export will not write a new ``out`` (``there``: something is): a name such as
        ``out.h5`` or ``out.jpg`` reads as a file, but every layout is a folder. The engine's own
        line, with the output named by its name alone (the field above shows where it is)."""
        return None if there else self.output_name_problem(
            file_name_problem(out, self.format.currentData(), by_name=True))

    def nnunet_name_advice(self, out: Path) -> str | None:
        """The engine's advice on the folder of an nnU-Net export that nnU-Net would not find by
        its name, while that layout is chosen: the export is written all the same."""
        return nnunet_name_problem(out) if self.format.currentData() == "nnunet" else None

    def _update_buttons(self) -> None:
        from_file = self.model.currentData() == FILE_ITEM
        self.model_file.setVisible(from_file)
        self.random_count.setEnabled(self.use_random.isChecked())
        self.masks.setEnabled(self.use_masks.isChecked())
        self.size.setEnabled(self.use_random.isChecked())
        stills = not self.cine.checked()
        self.like.setEnabled(self.use_random.isChecked() and stills)
        self.like_fallback.setEnabled(self.chosen_like() is not None and stills)
        self.variations.setEnabled(stills)
        self.border_jitter.setEnabled(stills)
        self._say_why_loops_grey()
        self._grey_loopless_formats()
        self._update_plan()
        self._update_layout_note()
        super()._update_buttons()

    def _say_why_loops_grey(self) -> None:
        """Each option that loops do not take says so first in its tooltip while Cine loops is
        ticked, and only what it is otherwise."""
        for widget, tip in self.loopless_options.items():
            widget.setToolTip(f"{NOT_FOR_LOOPS}\n{tip}" if self.cine.checked() else tip)

    def _grey_loopless_formats(self) -> None:
        """With Cine loops ticked, grey the formats that cannot hold loops, saying why."""
        for index in range(self.format.count()):
            name = self.format.itemData(index)
            reason = no_loops_reason(name) if self.cine.checked() else None
            self.format.model().item(index).setEnabled(reason is None)
            self.format.setItemData(index, reason or layout_description(name), Qt.ItemDataRole.ToolTipRole)
        self._describe_format()

    def _describe_format(self) -> None:
        """The Format box's tooltip: the chosen layout, or why it cannot hold the loops asked for."""
        self.format.setToolTip(self.format.itemData(self.format.currentIndex(), Qt.ItemDataRole.ToolTipRole))

    def _update_layout_note(self) -> None:
        """Say what the chosen layout will write in the chosen folder (hidden with none chosen)."""
        out, fmt = self.output.path(), self.format.currentData()
        loops = self.cine.checked() and no_loops_reason(fmt) is None
        self.layout_note.setText(layout_line(out, fmt, loops) if out is not None else "")
        self.layout_note.setVisible(out is not None)

    def _update_plan(self) -> None:
        """Say what the generated patients make (pairs, or loops), and warn when a split would stay empty."""
        self.plan.setVisible(self.use_random.isChecked())
        show_plan(self.plan, self.random_count.value(), self.seed.value(), variations=self.variations.value(),
                  detail=self.mask_side_line(), cine=self.cine.checked())

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        if not self.ready_to_start():
            return
        spec = self.model_spec()
        out = self.output.path()
        assert spec is not None and out is not None
        if self.cine.checked():
            self._start_cine(spec, out)
            return
        kwargs = dict(masks=self.masks.path() if self.use_masks.isChecked() else None,
                      random=self.random_count.value() if self.use_random.isChecked() else None,
                      like=self.chosen_like(),
                      like_fallback=self.chosen_like() is not None and self.like_fallback.isChecked(),
                      style_scale=self.chosen_style_scale(),
                      variations=self.variations.value(), format=self.format.currentData(),
                      seed=self.seed.value(), size=self.chosen_size(), device=self.device.currentData(),
                      overwrite=self.overwrite.isChecked(), border_jitter=self.border_jitter.value())
        notes: list[str] = []  # what the engine says on the way (a dataset too small to draw like)
        self.run_task(lambda progress, stop: export_dataset(spec, out, progress=progress, should_stop=stop,
                                                            notify=notes.append, **kwargs),
                      "export", f"Loading {display_name(spec)}\u2026",
                      lambda manifest: self._succeeded(out, manifest, kwargs["format"], notes))

    def _succeeded(self, out: Path, manifest: dict, fmt: str, notes: list[str] = ()) -> None:
        pairs = summary_of(manifest).total_pairs
        self.show_result(out, manifest, f"Exported {pairs} pairs as {LAYOUT_NAMES[fmt]}: {main_output(out, fmt)}",
                         out if fmt == "png" else None, f"{LAYOUT_NAMES[fmt]} \u2192 {out.name}")
        if notes:
            notes = [self.in_dialog_words(note) for note in notes]
            self.set_status("\n".join([self.status.text(), *notes]), self.status.styleSheet())
        self.exported.emit(str(out), manifest)

    def _start_cine(self, spec: str, out: Path) -> None:
        """Run what ``cardigan export --cine`` runs, with this dialog's choices."""
        kwargs = dict(masks=self.masks.path() if self.use_masks.isChecked() else None,
                      random=self.random_count.value() if self.use_random.isChecked() else None,
                      format=self.format.currentData(), size=self.chosen_size(), seed=self.seed.value(),
                      timing=self.cine.timing(), device=self.device.currentData(),
                      overwrite=self.overwrite.isChecked(), style_scale=self.chosen_style_scale())
        self.run_task(lambda progress, stop: export_cine(spec, out, progress=progress, should_stop=stop, **kwargs),
                      "cine export", f"Loading {display_name(spec)}\u2026",
                      lambda manifest: self._loops_written(out, manifest, kwargs["format"]))

    def _progressed(self, progress) -> None:
        """A cine export's progress is frames drawn and loops written, said by its message."""
        if progress.stage != CINE_STAGE:
            super()._progressed(progress)
            return
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        self.progress.setFormat("%p%")
        self.set_status(f"{self.working}: {progress.message}" if progress.message else self.working)

    def _loops_written(self, out: Path, manifest: dict, fmt: str) -> None:
        sequences = manifest["sequences"]
        frames = sorted({s["frames"] for s in sequences})
        each = f"{frames[0]} frames" if len(frames) == 1 else f"{frames[0]}-{frames[-1]} frames"
        self.show_result(out, manifest, f"{len(sequences)} loops of {each} written as {LAYOUT_NAMES[fmt]} to "
                         f"{main_output(out, fmt)}", out if fmt == "png" else None,
                         f"{LAYOUT_NAMES[fmt]} \u2192 {out.name}")
        self.exported.emit(str(out), manifest)

    def open_output(self) -> None:
        if self.result_dir is not None:
            open_folder(self.result_dir)
