"""``PairedDataset``: the training data, read from a prepared folder (DESIGN §4).

Every pair is checked when the dataset is opened (missing partner, unreadable file, size
mismatch, label values outside the table), and the error lists the offending files, so a
training run never dies at iteration 40 000 on a bad file. Augmentation is a pure
function of (seed, epoch, index): a resumed run sees exactly the data it would have seen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import DataError
from ..labels import NUM_CLASSES, bad_values
from .augment import AugmentConfig, augment_pair, draw_params
from .deform import deform_pair
from .imaging import read_png, resize_image, resize_labels
from .layout import IMAGE_DIR, LABEL_DIR, SPLITS
from .manifest import read_manifest

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SHOWN_PROBLEMS = 6


class PairedDataset(torch.utils.data.Dataset):
    """Image/label pairs of one split.

    Items are dicts: ``label`` float32 one-hot (4, H, W), ``label_ids`` int64 (H, W),
    ``image`` float32 (1, H, W) in [-1, 1], ``stem`` str. ``size`` resizes on load
    (images antialiased bilinear, labels nearest); None keeps the stored size, which must
    then be the same for all pairs. ``augment`` applies :mod:`.augment` (``hflip`` adds
    random left-right flips, off by default); with it, ``deform`` is the share of pairs that
    first get a :mod:`.deform` deformation (elastic, and a transplanted class shape).
    """

    def __init__(self, root: Path | str, split: str = "train", augment: bool = False, seed: int = 0,
                 size: int | None = None, hflip: bool = False, deform: float = 0.0) -> None:
        self.root = Path(root).expanduser()
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r} (use {', '.join(SPLITS)})")
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such folder")
        self.split = split
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0
        self.augment_config = AugmentConfig(hflip=hflip)
        self.deform = float(deform)
        self.manifest = read_manifest(self.root, required=False)
        self.image_dir = self.root / split / IMAGE_DIR
        self.label_dir = self.root / split / LABEL_DIR
        if not self.image_dir.is_dir() or not self.label_dir.is_dir():
            raise DataError(f"{self.root}: no {split}/{IMAGE_DIR} and {split}/{LABEL_DIR} folders "
                            "(not a prepared dataset; make one with `cardigan prepare`)")
        self.stems, self.image_files, native = self._validate()
        if size is None:
            sizes = sorted(set(native))
            if len(sizes) > 1:
                shown = ", ".join(f"{w}x{h}" for h, w in sizes[:4])
                raise DataError(f"{self.root}/{split}: pairs have different sizes ({shown}); "
                                "give a size to resize them to")
            self.size = sizes[0] if sizes else None
        else:
            if int(size) < 8:
                raise DataError(f"size must be at least 8, got {size}")
            self.size = (int(size), int(size))

    # -- validation ---------------------------------------------------------------------
    def _validate(self) -> tuple[list[str], dict[str, str], list[tuple[int, int]]]:
        images = {p.stem: p.name for p in self.image_dir.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")}
        labels = {p.stem for p in self.label_dir.iterdir()
                  if p.is_file() and p.suffix.lower() == ".png" and not p.name.startswith(".")}
        problems = [f"{self.split}/{IMAGE_DIR}/{images[s]}: no label map" for s in sorted(images.keys() - labels)]
        problems += [f"{self.split}/{LABEL_DIR}/{s}.png: no image" for s in sorted(labels - images.keys())]
        stems, native = [], []
        for stem in sorted(images.keys() & labels):
            problem, shape = self._check_pair(stem, images[stem])
            if problem:
                problems.append(problem)
            else:
                stems.append(stem)
                native.append(shape)
        if problems:
            more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
            raise DataError(f"{self.root}: {len(problems)} bad pair(s): "
                            + "; ".join(problems[:SHOWN_PROBLEMS]) + more)
        return stems, images, native

    def _check_pair(self, stem: str, image_name: str) -> tuple[str | None, tuple[int, int]]:
        image_rel = f"{self.split}/{IMAGE_DIR}/{image_name}"
        label_rel = f"{self.split}/{LABEL_DIR}/{stem}.png"
        try:
            with Image.open(self.image_dir / image_name) as image:
                image_size = image.size
        except (UnidentifiedImageError, OSError):
            return f"{image_rel}: unreadable image", (0, 0)
        try:
            with Image.open(self.label_dir / f"{stem}.png") as label:
                if label.mode not in ("L", "P", "I", "I;16", "1"):
                    return f"{label_rel}: not a single-channel label map (mode {label.mode})", (0, 0)
                label.load()
                values = np.asarray(label)
        except (UnidentifiedImageError, OSError, SyntaxError):
            return f"{label_rel}: unreadable label map", (0, 0)
        if values.shape[::-1] != image_size:
            return (f"{label_rel}: size {values.shape[1]}x{values.shape[0]} differs from the "
                    f"image's {image_size[0]}x{image_size[1]}"), (0, 0)
        bad = bad_values(values)
        if bad:
            return f"{label_rel}: values {', '.join(str(v) for v in bad[:5])} are not labels 0-3", (0, 0)
        return None, values.shape

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
        labels = read_png(self.label_dir / f"{stem}.png").astype(np.uint8, copy=False)
        if self.size is not None and labels.shape != self.size:
            image = _resize_to(image, self.size, labels=False)
            labels = _resize_to(labels, self.size, labels=True)
        return image, labels

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self.stems):
            raise IndexError(index)
        image, labels = self.load_pair(index)
        image = image.astype(np.float32) / np.float32(255.0)
        if self.augment:
            rng = np.random.default_rng([self.seed & (2**63 - 1), self.epoch, index])
            if self.deform > 0 and rng.random() < self.deform:
                image, labels = deform_pair(image, labels, rng)
            image, labels = augment_pair(image, labels, draw_params(rng, self.augment_config))
        classes = np.arange(NUM_CLASSES, dtype=np.uint8)[:, None, None]
        return {
            "label": torch.from_numpy((labels[None] == classes).astype(np.float32)),
            "label_ids": torch.from_numpy(labels.astype(np.int64)),
            "image": torch.from_numpy(image * np.float32(2.0) - np.float32(1.0))[None],
            "stem": self.stems[index],
        }


def _resize_to(array: np.ndarray, shape: tuple[int, int], labels: bool) -> np.ndarray:
    if shape[0] == shape[1]:
        return resize_labels(array, shape[0]) if labels else resize_image(array, shape[0])
    method = Image.Resampling.NEAREST if labels else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(array).resize((shape[1], shape[0]), method))
