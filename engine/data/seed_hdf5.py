"""The seed project's HDF5 layout, read by ``prepare`` and written by ``phantom``/``export``.

    <split>/<patient>/<2CH|4CH>/im   (2, H, W) or (2, H, W, 1): float in [0, 1] or uint8
    <split>/<patient>/<2CH|4CH>/gt   (2, H, W) label ids 0..3
    frame index 0 = ED, 1 = ES; splits train, valid, test (all three present when written)

A file this program wrote may carry its manifest as JSON in the root attribute
``cardigan_manifest`` (:func:`stored_hearts` reads the generated patients' records back).
``im_ref``/``gt_ref`` (unresized originals in the seed's file) are ignored. Written files
hold ``im`` as (2, H, W, 1) float32 and ``gt`` as uint8, so the seed's own preparation script
reads them unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..anatomy import VIEWS
from ..errors import DataError
from ..fileio import atomic_path, make_public, require_space
from .imaging import check_pair, to_uint8_image
from .layout import INSTANTS, SPLITS

FRAME_INDEX = {instant: i for i, instant in enumerate(INSTANTS)}  # ED 0, ES 1
SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_hdf5(path: Path | str) -> bool:
    """True if the file starts with the HDF5 signature (at 0 or a power-of-two user block)."""
    try:
        with open(path, "rb") as handle:
            offset = 0
            while True:
                handle.seek(offset)
                head = handle.read(8)
                if head == SIGNATURE:
                    return True
                if len(head) < 8:
                    return False
                offset = 512 if offset == 0 else offset * 2
    except OSError:
        return False


WRITER_ATTRIBUTE = "written_by"  # a root attribute: files this program wrote say so
WRITER_SIGNATURE = "cardiGAN Studio"


def written_by_us(path: Path | str) -> bool:
    """Whether ``path`` is an HDF5 file this program wrote (its root carries our signature),
    so ``--overwrite`` may replace it; any other file, HDF5 or not, is the user's."""
    import h5py

    if not is_hdf5(path):
        return False
    try:
        with h5py.File(path, "r", locking=False) as handle:
            return str(handle.attrs.get(WRITER_ATTRIBUTE, "")) == WRITER_SIGNATURE
    except (OSError, ValueError, RuntimeError):
        return False


MANIFEST_ATTRIBUTE = "cardigan_manifest"  # a root attribute: the manifest of what was written


def stored_hearts(path: Path | str) -> dict:
    """patient -> heart record (ejection fractions, the heart) from the manifest a file of
    generated patients carries; empty for any other file or a damaged record."""
    import h5py

    try:
        with h5py.File(path, "r", locking=False) as handle:
            text = handle.attrs.get(MANIFEST_ATTRIBUTE)
        hearts = json.loads(text).get("hearts") if text is not None else None
    except (OSError, ValueError, RuntimeError, TypeError, AttributeError):
        return {}
    return hearts if isinstance(hearts, dict) else {}


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:160]


class SeedHdf5Reader:
    """Read-only access to a seed-layout HDF5 file; every failure is a one-line DataError."""

    def __init__(self, path: Path | str) -> None:
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(f"{self.path}: no such file")
        if not is_hdf5(self.path):
            raise DataError(f"{self.path}: not an HDF5 file")
        try:
            self.file = h5py.File(self.path, "r", locking=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{self.path}: damaged or truncated HDF5 file ({_describe(exc)})") from None

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "SeedHdf5Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def patients(self) -> list[tuple[str, str]]:
        """(split, patient) pairs in file order of splits, sorted by patient."""
        import h5py

        found = []
        try:
            splits = [s for s in SPLITS if s in self.file]
            if not splits:
                raise DataError(f"{self.path}: no train/valid/test groups; not the seed's HDF5 layout "
                                f"(top-level entries: {', '.join(list(self.file.keys())[:6]) or 'none'})")
            for split in splits:
                group = self.file[split]
                if not isinstance(group, h5py.Group):
                    raise DataError(f"{self.path}:/{split} is not a group; not the seed's HDF5 layout")
                found.extend((split, name) for name in sorted(group.keys()))
            self.check_no_links(found)
        except (OSError, RuntimeError, KeyError) as exc:
            raise DataError(f"{self.path}: damaged HDF5 file ({_describe(exc)})") from None
        return found

    def check_no_links(self, patients: list[tuple[str, str]]) -> None:
        """Refuse two patient entries that are one group (an HDF5 hard or soft link): one
        patient would be trained on and tested on."""
        seen: dict = {}
        for split, name in patients:
            identity = self.file[split][name].id
            if identity in seen:
                first = seen[identity]
                raise DataError(f"{self.path}:/{split}/{name} is a link to /{first[0]}/{first[1]}: one "
                                "patient would be in two places (a leak between splits); remove the link")
            seen[identity] = (split, name)

    def ignored_entries(self) -> list[tuple[str, int]]:
        """Top-level entries that are not a split: (name, how many entries it holds)."""
        import h5py

        try:
            return [(name, len(item) if isinstance(item, h5py.Group) else 1)
                    for name, item in self.file.items() if name not in SPLITS]
        except (OSError, RuntimeError, KeyError) as exc:
            raise DataError(f"{self.path}: damaged HDF5 file ({_describe(exc)})") from None

    def views(self, split: str, patient: str) -> list[str]:
        try:
            group = self.file[split][patient]
            return [view for view in VIEWS if view in group]
        except (OSError, RuntimeError, KeyError, AttributeError) as exc:
            raise DataError(f"{self.path}:/{split}/{patient}: damaged HDF5 group ({_describe(exc)})") from None

    def read(self, split: str, patient: str, view: str) -> tuple[np.ndarray, np.ndarray]:
        """(images (2, H, W) uint8, labels (2, H, W) uint8) of one view, ED then ES."""
        where = f"{self.path}:/{split}/{patient}/{view}"
        try:
            group = self.file[split][patient][view]
            if "im" not in group or "gt" not in group:
                if "images" in group and "masks" in group:  # what ``export --cine --format hdf5`` writes
                    raise DataError(f"{where}: holds a loop (images and masks, as export --cine writes), "
                                    "not the seed's ED/ES pair ('im' and 'gt'); export the loops as nifti "
                                    "for prepare to read their ED and ES frames")
                raise DataError(f"{where}: needs datasets 'im' and 'gt'")
            for name in ("im", "gt"):
                if not hasattr(group[name], "shape"):  # an h5py Group, not a Dataset
                    raise DataError(f"{where}/{name}: is a group, not a dataset of pixels")
            im = group["im"][()]
            gt = group["gt"][()]
        except DataError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError, AttributeError) as exc:
            raise DataError(f"{where}: unreadable data, the file may be truncated ({_describe(exc)})") from None
        if im.ndim == 4 and im.shape[-1] == 1:
            im = im[..., 0]
        if im.ndim != 3 or im.shape[0] != 2:
            raise DataError(f"{where}/im: expected shape (2, H, W) or (2, H, W, 1), got {im.shape}")
        if gt.ndim != 3 or gt.shape[0] != 2:
            raise DataError(f"{where}/gt: expected shape (2, H, W), got {gt.shape}")
        images = to_uint8_image(im, f"{where}/im")
        labels = np.stack([check_pair(images[i], gt[i], f"{where}/gt") for i in range(2)])
        return images, labels


class SeedHdf5Writer:
    """Writes the seed layout to a temporary file renamed onto ``path`` by :meth:`commit`.

    Use as a context manager: leaving the block with an exception leaves ``path`` untouched.
    """

    def __init__(self, path: Path | str, compression: str | None = None) -> None:
        self.path = Path(path)
        self.compression = compression
        self._context = atomic_path(self.path)
        self._tmp: Path | None = None
        self.file = None

    def __enter__(self) -> "SeedHdf5Writer":
        import h5py

        self._tmp = self._context.__enter__()
        try:
            make_public(self._tmp)
            self.file = h5py.File(self._tmp, "w", locking=False)
            self.file.attrs[WRITER_ATTRIBUTE] = WRITER_SIGNATURE
            for split in SPLITS:
                self.file.create_group(split)
        except OSError as exc:
            self._context.__exit__(type(exc), exc, exc.__traceback__)
            raise DataError(f"{self.path}: cannot write ({_describe(exc)})") from None
        return self

    def add(self, split: str, patient: str, view: str, images: np.ndarray, labels: np.ndarray) -> None:
        """Store one view: ``images`` (2, H, W) uint8 or float in [0, 1], ``labels`` (2, H, W)."""
        assert split in SPLITS and view in VIEWS, (split, view)
        images = np.asarray(images)
        if images.dtype == np.uint8:
            im = images.astype(np.float32) / 255.0
        else:
            im = np.asarray(images, dtype=np.float32)
        if im.ndim == 3:
            im = im[..., None]
        assert im.shape[0] == 2 and im.shape[-1] == 1, im.shape
        gt = np.asarray(labels, dtype=np.uint8)
        assert gt.shape == im.shape[:3], (gt.shape, im.shape)
        require_space(self._tmp, im.nbytes + gt.nbytes)  # HDF5 must never meet a full disk
        group = self.file.require_group(f"{split}/{patient}/{view}")
        group.create_dataset("im", data=im, compression=self.compression)
        group.create_dataset("gt", data=gt, compression=self.compression)

    def describe(self, manifest: dict) -> None:
        """Keep ``manifest`` (JSON) in the file, for :func:`stored_hearts`."""
        self.file.attrs[MANIFEST_ATTRIBUTE] = json.dumps(manifest, sort_keys=True)

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            self.file.close()
        except Exception:  # noqa: BLE001 - the original error matters more
            if exc_type is None:
                raise
        return bool(self._context.__exit__(exc_type, exc, tb))

