"""``DatasetFolder``: what a folder of image/label pairs is, asked once, answered here.

The studio's browser, its dialogs and the training wizard ask the same questions of a
folder: is it a dataset, which splits hold pairs, what pairs are there, how many patients,
where did it come from, which fan and which ejection fraction does a pair have. The answers
follow the prepared layout (:mod:`.layout`) and the manifest (:mod:`.manifest`); a folder
without a manifest (NVlabs data, a hand-made folder) still lists its pairs.

A :class:`DatasetFolder` reads what it answers from once: its manifest (and the summary of
it) when first asked, each pair's fan record when first asked for that pair, the last
:data:`FAN_RECORDS_KEPT` of them kept. A folder changed on disk is seen by a new one.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ..units import counted
from ..fan import FAN_KEY, Fan, FanError, default_fan
from .layout import IMAGE_DIR, LABEL_DIR, MANIFEST_NAME, SPLITS, stem_patient, stem_view, wrong_folder_hint

NO_FAN_RECORD = "no fan record"  # why a pair's fan is its view's median one (DatasetFolder.fan_record)
DAMAGED_FAN_RECORD = "damaged fan record"
FAN_RECORDS_KEPT = 20_000  # pairs whose fan record a DatasetFolder keeps (a few MB at most)


def pair_fan(label_record, listed_record, view: str | None) -> tuple[Fan, str]:
    """The fan a prepared pair is drawn in, and where it came from: the label PNG's record
    ("label", JSON text), else the manifest's entry for it ("manifest", a dict), else the view's
    median CAMUS fan: "damaged" when a record was there but could not be read, "default" when
    there was none. A damaged label record gives way to a sound manifest entry. The training
    data (:class:`engine.data.dataset.PairedDataset`) and the folder reader below both ask this."""
    damaged = False
    for source, record in (("label", label_record), ("manifest", listed_record)):
        if record is None:
            continue
        try:
            return (Fan.from_json(record) if isinstance(record, str) else Fan.from_dict(record)), source
        except FanError:
            damaged = True
    return default_fan(view), "damaged" if damaged else "default"


@dataclass(frozen=True)
class Pair:
    """One image/label pair of a split (the image may be missing in a masks-only folder)."""

    split: str
    stem: str
    label_path: Path
    image_path: Path | None

    @property
    def patient(self) -> str:
        """``<patient>`` of ``<patient>_<view>_<instant>`` or of a frame ``<patient>_<view>_f<k>``, else the stem."""
        return stem_patient(self.stem)

    @property
    def view(self) -> str | None:
        return stem_view(self.stem)


@dataclass(frozen=True)
class DatasetSummary:
    """The typed manifest: what every reader of a dataset's manifest needs."""

    kind: str = ""  # prepared | phantom | export | "" (no manifest)
    source: str = ""  # where the pairs came from, in words
    counts: dict = field(default_factory=dict)  # split -> pairs
    patients: dict = field(default_factory=dict)  # split -> patients
    label_values: tuple = ()
    skipped: tuple = ()  # (patient, reason)
    fans: dict = field(default_factory=dict)  # "split/stem" -> fan record
    ejection_fractions: dict = field(default_factory=dict)  # patient -> {view or "biplane": percent}
    output_format: str = ""  # how an export or phantom stored its pairs: folders, png, hdf5, nifti
    output_path: str = ""  # where it wrote them (an HDF5 file for hdf5)
    loops: dict = field(default_factory=dict)  # split -> loops, for a cine export (its counts are frames)
    loop_frames: tuple = ()  # the frame counts a cine export's loops have, fewest first

    @property
    def total_pairs(self) -> int:
        return sum(int(self.counts.get(s, 0)) for s in SPLITS)

    @property
    def total_patients(self) -> int:
        return sum(int(self.patients.get(s, 0)) for s in SPLITS)

    @property
    def total_loops(self) -> int:
        return sum(int(self.loops.get(s, 0)) for s in SPLITS)

    def describe(self) -> list[str]:
        """Readable lines: pairs (or a cine export's loops) and patients per split, labels
        present, what was skipped."""
        def patients(n: int) -> str:
            return counted(n, "patient")

        if self.loop_frames:
            lines = [self._loops_line(patients(self.total_patients))]
            for split in SPLITS:
                lines.append(f"{split}: {_loops(int(self.loops.get(split, 0)))} "
                             f"({patients(int(self.patients.get(split, 0)))})")
        else:
            lines = [f"{self.total_pairs} image/label pairs from {patients(self.total_patients)}"]
            for split in SPLITS:
                lines.append(f"{split}: {counted(int(self.counts.get(split, 0)), 'pair')} "
                             f"({patients(int(self.patients.get(split, 0)))})")
        if self.label_values:
            lines.append("labels present: " + ", ".join(str(v) for v in self.label_values))
        if self.skipped:
            shown = "; ".join(f"{p}: {r}" for p, r in self.skipped[:3])
            lines.append(f"skipped {len(self.skipped)}: {shown}" + (" \u2026" if len(self.skipped) > 3 else ""))
        return lines

    def _loops_line(self, patients: str) -> str:
        """"4 loops of 20 frames each from 2 patients" (and, when stored as PNG frames, the pairs they make)."""
        low, high = self.loop_frames[0], self.loop_frames[-1]
        frames = f"{low} frame{'' if low == 1 else 's'}" if low == high else f"{low}-{high} frames"
        line = f"{_loops(self.total_loops)} of {frames} each from {patients}"
        if self.output_format == "png":
            line += f", as {self.total_pairs} image/label pairs (a pair a frame)"
        return line


def _loops(n: int) -> str:
    return counted(n, "loop")


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def summary_of(manifest: dict | None) -> DatasetSummary:
    """A :class:`DatasetSummary` from a manifest dict, tolerant of missing or odd fields."""
    if not isinstance(manifest, dict):
        return DatasetSummary()
    source = _dict(manifest.get("source"))
    if "model" in source:
        kind, words = "export", f"synthetic export ({_dict(source.get('model')).get('name', 'a model')})"
    elif source.get("format") == "phantom":
        kind, words = "phantom", "phantom (simulated patients)"
    else:
        kind, words = "prepared", str(source.get("format_name") or source.get("format") or "")

    def counts(key: str) -> dict:
        return {s: int(v) for s, v in _dict(manifest.get(key)).items()
                if s in SPLITS and isinstance(v, int) and not isinstance(v, bool)}

    skipped = tuple((str(_dict(s).get("patient", "?")), str(_dict(s).get("reason", "")))
                    for s in manifest.get("skipped") or [] if isinstance(s, dict))
    values = tuple(v for v in manifest.get("label_values") or [] if isinstance(v, int))
    efs = {str(k): v for k, v in _dict(manifest.get("ejection_fractions")).items() if isinstance(v, dict)}
    for patient, record in _dict(manifest.get("hearts")).items():  # phantom and export manifests
        ef = _dict(record).get("ejection_fraction")
        if isinstance(ef, dict):
            efs[str(patient)] = ef
    output = _dict(manifest.get("output"))
    output_format = str(output.get("format") or "")
    loops, loop_frames = {}, ()
    options = _dict(manifest.get("options"))
    if options.get("cine") is True:  # export --cine: its sequences are loops, its counts their frames
        sequences = [s for s in manifest.get("sequences") or [] if isinstance(s, dict)
                     and s.get("split") in SPLITS and isinstance(s.get("frames"), int)]
        for sequence in sequences:
            loops[sequence["split"]] = loops.get(sequence["split"], 0) + 1
        loop_frames = tuple(sorted({s["frames"] for s in sequences}))
        output_format = output_format or str(options.get("format") or "")
    return DatasetSummary(kind, words, counts("counts"), counts("patients"), values, skipped,
                          _dict(manifest.get("fans")), efs, output_format,
                          str(output.get("path") or ""), loops, loop_frames)


class DatasetFolder:
    """A folder of pairs in the prepared layout: ``<root>/<split>/{img,label}/<stem>.png``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        self._manifest: dict | None | bool = False  # False: not read yet
        self._summary: DatasetSummary | None = None
        self._fan_records: OrderedDict[tuple[str, str], tuple[Fan, str | None]] = OrderedDict()

    # -- what it is ---------------------------------------------------------------------
    def splits(self) -> list[str]:
        """The splits (train, valid, test, in that order) that hold a label folder. A folder
        of another name is no split, though it holds one: a cine loop's PNG frames
        (``<loop>/img``, ``<loop>/label``) would otherwise make the folder holding the loop a
        dataset whose one split is the loop."""
        try:  # a folder the user may not enter says so (PermissionError) on Python 3.11
            return [split for split in SPLITS if (self.root / split / LABEL_DIR).is_dir()]
        except OSError:
            return []

    def is_dataset(self) -> bool:
        """Whether the folder holds pairs in the prepared layout: a split named as one
        (a manifest beside it or not; a masks-only split counts)."""
        return bool(self.splits())

    def problem(self) -> str | None:
        """Why this folder is not a dataset, in one line, or None."""
        if not self.root.exists():
            return f"{self.root}: no such folder"
        if not self.root.is_dir():
            return f"{self.root}: not a folder"
        if not self.is_dataset():
            hint = wrong_folder_hint(self.root)
            return f"{self.root}: not a prepared dataset" + (hint or (
                f" (expected {self.root.name}/<split>/{LABEL_DIR}/*.png, as written by cardigan prepare)"))
        return None

    # -- its pairs ------------------------------------------------------------------------
    def pairs(self, split: str) -> list[Pair]:
        folder = self.root / split / LABEL_DIR
        if not folder.is_dir():
            return []
        out = []
        for label_path in sorted(folder.glob("*.png")):
            if label_path.name.startswith("."):
                continue
            image_path = self.root / split / IMAGE_DIR / label_path.name
            out.append(Pair(split, label_path.stem, label_path, image_path if image_path.is_file() else None))
        return out

    def sample(self, count: int = 4) -> list[Pair]:
        """Up to ``count`` pairs that have their image, from the first splits first."""
        out: list[Pair] = []
        for split in self.splits():
            out.extend(p for p in self.pairs(split) if p.image_path is not None)
            if len(out) >= count:
                break
        return out[:count]

    # -- its manifest ---------------------------------------------------------------------
    @property
    def manifest(self) -> dict | None:
        """The manifest as stored (None when missing or unreadable)."""
        if self._manifest is False:
            try:
                data = json.loads((self.root / MANIFEST_NAME).read_text(encoding="utf-8"))
                self._manifest = data if isinstance(data, dict) else None
            except (OSError, ValueError, RecursionError):
                self._manifest = None
        return self._manifest  # type: ignore[return-value]

    @property
    def summary(self) -> DatasetSummary:
        if self._summary is None:
            self._summary = summary_of(self.manifest)
        return self._summary

    def fan_of(self, pair: Pair) -> Fan:
        """The pair's fan: its label PNG's record, else the manifest's, else the median."""
        return self.fan_record(pair)[0]

    def fan_record(self, pair: Pair, label_text: dict[str, str] | None = None) -> tuple[Fan, str | None]:
        """(the pair's fan as :meth:`fan_of` gives it, None when a record gave it, else why
        it is the median fan: NO_FAN_RECORD or DAMAGED_FAN_RECORD), read once per pair;
        ``label_text``: the text chunks of the pair's label PNG when they were read with it
        (else they are read here, the first time)."""
        key = (pair.split, pair.stem)
        record = self._fan_records.get(key)
        if record is None:
            record = self._fan_records[key] = self._read_fan_record(pair, label_text)
            if len(self._fan_records) > FAN_RECORDS_KEPT:
                self._fan_records.popitem(last=False)
        else:
            self._fan_records.move_to_end(key)
        return record

    def _read_fan_record(self, pair: Pair, label_text: dict[str, str] | None) -> tuple[Fan, str | None]:
        from ..maskio import read_png_text

        label_text = read_png_text(pair.label_path) if label_text is None else label_text
        fan, source = pair_fan(label_text.get(FAN_KEY), self.summary.fans.get(f"{pair.split}/{pair.stem}"),
                               pair.view)
        return fan, {"default": NO_FAN_RECORD, "damaged": DAMAGED_FAN_RECORD}.get(source)

    def ejection_fraction(self, pair: Pair) -> float | None:
        """The pair's patient's ejection fraction for its view (percent), when recorded."""
        record = self.summary.ejection_fractions.get(pair.patient) or {}
        value = record.get(pair.view or "") if pair.view else None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
