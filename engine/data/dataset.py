"""``PairedDataset``: the training data, read from a prepared folder (the layout in :mod:`engine.data.layout`).

Every pair is checked when the dataset is opened (missing partner, unreadable file, size
mismatch, label values outside the table), and the error lists the offending files, so a
training run never dies at iteration 40 000 on a bad file. Augmentation is a pure
function of (seed, epoch, index): a resumed run sees exactly the data it would have seen.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import DataError, MaskError, Message
from ..fan import FAN_KEY, Fan, fan_alpha_near_outline
from ..labels import NUM_CLASSES
from ..maskio import check_png_rows, palette_labels
from .augment import AugmentConfig, augment_pair, draw_params
from .dataset_folder import pair_fan
from .deform import DeformConfig, deform_pair
from .label_values import BadLabelMap, bad_label_maps_line
from .imaging import read_png, resize_image, resize_labels
from .layout import IMAGE_DIR, LABEL_DIR, MAKE_DATASET, SPLITS, eight_bit_copy, parse_stem, wrong_folder_hint
from .manifest import read_manifest

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SHOWN_PROBLEMS = 6


def split_folders_problem(root: Path, split: str) -> Message | None:
    """Why ``root`` holds no image and label folders for ``split``, in one line, or None."""
    if (root / split / IMAGE_DIR).is_dir() and (root / split / LABEL_DIR).is_dir():
        return None
    hint = wrong_folder_hint(root)
    start = f"{root}: no {split}/{IMAGE_DIR} and {split}/{LABEL_DIR} folders "
    return Message(start + f"(not a prepared dataset{hint})") if hint else \
        Message(start + "(not a prepared dataset; ", MAKE_DATASET, ")")


class PairedDataset(torch.utils.data.Dataset):
    """Image/label pairs of one split.

    Items are dicts: ``label`` float32 one-hot (4, H, W), ``label_ids`` int64 (H, W),
    ``image`` float32 (1, H, W) in [-1, 1], ``fan`` float32 (1, H, W), the coverage of the
    pair's fan (:mod:`engine.fan`), ``stem`` str. A pair's fan is read from its label PNG
    (the text chunk ``prepare`` and ``export`` write), else from the manifest's ``fans``,
    else it is the median CAMUS fan of the stem's view; ``fan_sources`` counts which. ``size`` resizes on load
    (images antialiased bilinear, labels nearest); None keeps the stored size, which must
    then be the same for all pairs (``native_sizes`` lists the stored sizes). ``augment`` applies :mod:`.augment` (``hflip`` adds
    random left-right flips, off by default; ``geometry`` is its kind of geometry, whole-pixel
    shifts by default, :data:`.augment.GEOMETRIES`); with it, ``deform`` is the share of pairs that
    first get a :mod:`.deform` deformation (``deform_config``, default: the heart moved along
    the shape model for 70 % of them, elastic for the rest, then a transplanted class shape
    for half). Each pair's landmarks are found once and kept in ``shape_fits``, memory shared
    with the DataLoader's workers.
    """

    def __init__(self, root: Path | str, split: str = "train", augment: bool = False, seed: int = 0,
                 size: int | None = None, hflip: bool = False, deform: float = 0.0,
                 deform_config: DeformConfig | None = None, geometry: str = "pixel") -> None:
        self.root = Path(root).expanduser()
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r} (use {', '.join(SPLITS)})")
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such folder")
        self.split = split
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0
        self.augment_config = AugmentConfig(geometry=geometry, hflip=hflip)
        self.deform = float(deform)
        self.deform_config = DeformConfig() if deform_config is None else deform_config
        self.manifest = read_manifest(self.root, required=False)
        self.image_dir = self.root / split / IMAGE_DIR
        self.label_dir = self.root / split / LABEL_DIR
        problem = split_folders_problem(self.root, split)
        if problem:
            raise DataError(problem)
        self.fans: dict[str, Fan] = {}
        self.fan_sources = {"label": 0, "manifest": 0, "default": 0, "damaged": 0}
        self.stems, self.image_files, native = self._validate()
        self.native_sizes = sorted(set(native))  # every (height, width) the pairs are stored at
        if size is None:
            sizes = self.native_sizes
            if len(sizes) > 1:
                shown = ", ".join(f"{w}x{h}" for h, w in sizes[:4])
                raise DataError(f"{self.root}/{split}: pairs have different sizes ({shown}); "
                                "give a size to resize them to")
            self.size = sizes[0] if sizes else None
        else:
            if int(size) < 8:
                raise DataError(f"size must be at least 8, got {size}")
            self.size = (int(size), int(size))
        self.shape_fits = None
        if augment and self.deform > 0 and self.deform_config.kind != "elastic":
            from .shape_deform import FitCache

            self.shape_fits = FitCache(len(self.stems))

    # -- validation ---------------------------------------------------------------------
    def _validate(self) -> tuple[list[str], dict[str, str], list[tuple[int, int]]]:
        images = {p.stem: p.name for p in self.image_dir.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")}
        labels = {p.stem for p in self.label_dir.iterdir()
                  if p.is_file() and p.suffix.lower() == ".png" and not p.name.startswith(".")}
        problems = broken_links(self.root, (self.image_dir, self.label_dir))
        problems += [f"{self.split}/{IMAGE_DIR}/{images[s]}: no label map" for s in sorted(images.keys() - labels)]
        problems += [f"{self.split}/{LABEL_DIR}/{s}.png: no image" for s in sorted(labels - images.keys())]
        stems, native = [], []
        for stem in sorted(images.keys() & labels):
            problem, shape = self._check_pair(stem, images[stem])
            if problem:
                problems.append(problem)
            else:
                stems.append(stem)
                native.append(shape)
        bad_maps = [problem for problem in problems if isinstance(problem, BadLabelMap)]
        problems = [problem for problem in problems if not isinstance(problem, BadLabelMap)]
        if bad_maps and not problems:  # one cause, usually: said once
            raise DataError(Message(f"{self.root}: ", bad_label_maps_line(bad_maps)))
        if problems:
            more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
            shown = [part for problem in problems[:SHOWN_PROBLEMS] for part in ("; ", problem)][1:]
            if bad_maps:
                shown += ["; ", bad_label_maps_line(bad_maps)]
            raise DataError(Message(f"{self.root}: {len(problems) + len(bad_maps)} bad pair(s): ", *shown, more))
        return stems, images, native

    def _check_pair(self, stem: str, image_name: str) -> tuple[str | Message | BadLabelMap | None, tuple[int, int]]:
        image_rel = f"{self.split}/{IMAGE_DIR}/{image_name}"
        label_rel = f"{self.split}/{LABEL_DIR}/{stem}.png"
        try:
            with Image.open(self.image_dir / image_name) as image:
                image_size, image_mode = image.size, image.mode
        except (UnidentifiedImageError, OSError):
            return f"{image_rel}: unreadable image", (0, 0)
        if image_mode.startswith("I") or image_mode == "F":  # read as 8-bit, it would saturate to white
            return Message(f"{image_rel}: not an 8-bit image (mode {image_mode}); ", eight_bit_copy(self.root)), (0, 0)
        label_path = self.label_dir / f"{stem}.png"
        try:
            with open(label_path, "rb") as handle, Image.open(handle) as label:
                if label.mode not in ("L", "P", "I", "I;16", "1"):
                    return f"{label_rel}: not a single-channel label map (mode {label.mode})", (0, 0)
                label.load()
                handle.seek(0)
                check_png_rows(handle, label_path, *label.size)
                values = label_ids(label)
                label_text = getattr(label, "text", {}) or {}
        except MaskError as exc:
            return f"{label_rel}: {str(exc).split(': ', 1)[-1]}", (0, 0)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return f"{label_rel}: unreadable label map", (0, 0)
        self.fans[stem] = self._fan_of(stem, label_text)
        if values.shape[::-1] != image_size:
            return (f"{label_rel}: size {values.shape[1]}x{values.shape[0]} differs from the "
                    f"image's {image_size[0]}x{image_size[1]}"), (0, 0)
        if values.size and (values.max() >= NUM_CLASSES or values.min() < 0):
            return BadLabelMap(label_rel, tuple(np.unique(values).tolist())), (0, 0)
        return None, values.shape

    def _fan_of(self, stem: str, label_text: dict) -> Fan:
        fans = (self.manifest or {}).get("fans")
        listed = fans.get(f"{self.split}/{stem}") if isinstance(fans, dict) else None
        parsed = parse_stem(stem)
        fan, source = pair_fan(label_text.get(FAN_KEY), listed, parsed[1] if parsed else None)
        self.fan_sources[source] += 1
        return fan

    # -- access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.stems)

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation of ``epoch`` (call before iterating each epoch)."""
        self.epoch = int(epoch)

    def load_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(image uint8 (H, W), labels uint8 (H, W)) at the dataset size, not augmented."""
        stem = self.stems[index]
        image = read_png(self.image_dir / self.image_files[stem])
        labels = read_label_ids(self.label_dir / f"{stem}.png")
        if self.size is not None and labels.shape != self.size:
            image = _resize_to(image, self.size, labels=False)
            labels = _resize_to(labels, self.size, labels=True)
        return image, labels

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self.stems):
            raise IndexError(index)
        image, labels = self.load_pair(index)
        image = image.astype(np.float32) / np.float32(255.0)
        fan = _coverage(self.fans[self.stems[index]], *labels.shape)
        if self.augment:
            rng = np.random.default_rng([self.seed & (2**63 - 1), self.epoch, index])
            if self.deform > 0 and rng.random() < self.deform:
                parsed = parse_stem(self.stems[index])
                image, labels, fan = deform_pair(image, labels, rng, self.deform_config, fan=fan,
                                                 view=parsed[1] if parsed else None,
                                                 phase=parsed[2] if parsed else None,
                                                 cache=self.shape_fits, key=index,
                                                 sector=self.fans[self.stems[index]])
            image, labels, fan = augment_pair(image, labels, draw_params(rng, self.augment_config), fan)
        classes = np.arange(NUM_CLASSES, dtype=np.uint8)[:, None, None]
        return {
            "label": torch.from_numpy((labels[None] == classes).astype(np.float32)),
            "label_ids": torch.from_numpy(labels.astype(np.int64)),
            "image": torch.from_numpy(image * np.float32(2.0) - np.float32(1.0))[None],
            "fan": torch.from_numpy(np.array(fan, dtype=np.float32))[None],
            "stem": self.stems[index],
        }


def label_ids(label: Image.Image) -> np.ndarray:
    """The label ids a single-channel label PNG holds, read as the studio reads a mask
    (:func:`engine.maskio.read_label_png`): a 1-bit map as 0/1 (not the 0/255 of a greyscale
    conversion), a grey palette as its grey levels, any other palette as its indices."""
    if label.mode == "P":
        return palette_labels(label)
    return np.asarray(label)


def read_label_ids(path: Path) -> np.ndarray:
    """A validated label PNG's ids as uint8 (H, W)."""
    with Image.open(path) as label:
        label.load()
        return label_ids(label).astype(np.uint8, copy=False)


def broken_links(root: Path, folders) -> list[str]:
    """One problem naming how many links in ``folders`` point nowhere (they would otherwise
    be skipped without a word), or none."""
    broken = sorted(p for folder in folders for p in folder.iterdir() if p.is_symlink() and not p.exists())
    if not broken:
        return []
    shown = ", ".join(str(p.relative_to(root)) for p in broken[:3]) + (" ..." if len(broken) > 3 else "")
    return [f"{len(broken)} broken link(s) ({shown})"]


@lru_cache(maxsize=64)
def _cached_coverage(fan: Fan, height: int, width: int) -> np.ndarray:
    """One read-only coverage per fan and size: a dataset's pairs mostly share a few fans."""
    coverage = fan_alpha_near_outline(fan, height, width)  # fan_alpha to the bit, faster
    coverage.setflags(write=False)
    return coverage


def _coverage(fan: Fan, height: int, width: int) -> np.ndarray:
    return _cached_coverage(fan, int(height), int(width))


def _resize_to(array: np.ndarray, shape: tuple[int, int], labels: bool) -> np.ndarray:
    if shape[0] == shape[1]:
        return resize_labels(array, shape[0]) if labels else resize_image(array, shape[0])
    method = Image.Resampling.NEAREST if labels else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(array).resize((shape[1], shape[0]), method))
