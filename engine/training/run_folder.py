"""The run folder contract.

```
<run>/config.json          the resolved TrainConfig and the data folder
<run>/stats.jsonl          one JSON object per logged step: iter, epoch, Loss/*, Progress/*
<run>/samples/iter_N.png   preview grids: mask | real | synthesized, fixed validation masks
<run>/checkpoints/         training state files for resume (the newest K)
<run>/model.safetensors    the current native model
<run>/tensorboard/         TensorBoard logs (with --tensorboard)
<run>/.lock                held (an OS file lock) by the training that uses the folder
```
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import CardiganError
from ..fileio import atomic_path, try_lock
from ..labels import colorize
from .config import ARCHITECTURE_FIELDS, TrainConfig
from .stats import namespaced

LOCK_NAME = ".lock"


@dataclass(frozen=True)
class RunSummary:
    """A run folder at a glance: its stored config (None: missing or damaged) and saved states."""

    config: dict | None
    iterations: list[int]  # of the saved states, oldest first

    @property
    def resume_from(self) -> int | None:
        """The iteration a resume continues from (the newest state), None without one."""
        return self.iterations[-1] if self.iterations else None

    def describe(self) -> str:
        if self.config is None:
            return "no config.json"
        c = self.config
        shape = f"preset {c.get('preset', '?')}, ngf {c.get('ngf')}, {c.get('image_size')} px"
        if self.resume_from is None:
            return f"{shape}; no saved training state"
        return f"{shape}; last saved at iteration {self.resume_from}"


@dataclass(frozen=True)
class RunFolder:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def stats_path(self) -> Path:
        return self.root / "stats.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.root / "samples"

    @property
    def checkpoint_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def model_path(self) -> Path:
        return self.root / "model.safetensors"

    def create(self) -> None:
        try:
            for folder in (self.root, self.samples_dir, self.checkpoint_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CardiganError(f"{self.root}: cannot create the run folder ({exc.strerror})") from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run folder for one training: a second one gets a one-line error naming
        the first's process. The lock is the operating system's (it dies with the process,
        so a killed run never leaves a stale lock behind)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / LOCK_NAME, "a+")
        except OSError as exc:
            raise CardiganError(f"{self.root}: cannot create the run folder ({exc.strerror})") from None
        try:
            if not try_lock(handle):
                handle.seek(0)
                owner = handle.read().strip() or "another process"
                raise CardiganError(f"{self.root}: a training is already running in this folder "
                                    f"(PID {owner}); wait for it or stop it first")
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            self.remove_leftovers()
            yield
        finally:
            handle.close()  # closing releases the lock

    def remove_leftovers(self) -> list[Path]:
        """Delete the temporary files of writes a killed training left behind (call with the
        lock held: then no other process is writing here)."""
        removed = []
        for folder in (self.root, self.checkpoint_dir, self.samples_dir):
            for path in folder.glob(".*.tmp") if folder.is_dir() else ():
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
        return removed

    def has_training_state(self) -> bool:
        from .state import list_states

        return bool(list_states(self.checkpoint_dir))

    def holds_run(self) -> bool:
        """Whether a training has used this folder (a config or a saved state): a new run
        must go elsewhere, a resume may start here."""
        return self.config_path.is_file() or self.has_training_state()

    def saved_iterations(self) -> list[int]:
        """Iterations of the saved training states, oldest first."""
        from .state import list_states, state_iteration

        return [state_iteration(path) for path in list_states(self.checkpoint_dir)]

    def summary(self) -> RunSummary:
        """What the folder holds, for a person choosing it; a damaged config reads as none."""
        try:
            config = self.read_config()
        except CardiganError:
            config = None
        return RunSummary(config if isinstance(config, dict) else None, self.saved_iterations())

    def read_config(self) -> dict | None:
        if not self.config_path.is_file():
            return None
        try:
            return json.loads(self.config_path.read_text())
        except (json.JSONDecodeError, OSError):
            raise CardiganError(f"{self.config_path}: damaged run configuration") from None

    def write_config(self, config: TrainConfig, data: Path | None = None) -> None:
        """Write the resolved config, plus the data folder (so a resume needs no --data)."""
        document = config.to_dict()
        if data is not None:
            document["data"] = str(Path(data).resolve())
        with atomic_path(self.config_path) as tmp:
            tmp.write_text(json.dumps(document, indent=2) + "\n")

    def check_resumable_with(self, config: TrainConfig) -> None:
        """Refuse to resume a run whose networks differ from ``config``."""
        stored = self.read_config()
        if stored is None:
            return
        defaults = TrainConfig()  # runs written before a field existed used its default
        stored = {name: stored.get(name, getattr(defaults, name)) for name in ARCHITECTURE_FIELDS}
        changed = [name for name in ARCHITECTURE_FIELDS if stored[name] != getattr(config, name)]
        if changed:
            details = ", ".join(f"{n} {stored[n]} -> {getattr(config, n)}" for n in changed)
            raise CardiganError(f"{self.root}: cannot resume with a different network ({details})")

    # -- stats -----------------------------------------------------------------------------
    def append_stats(self, record: dict) -> None:
        with open(self.stats_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    def truncate_stats(self, after_iteration: int) -> None:
        """Drop records past ``after_iteration`` (logged after the state a run resumes from)."""
        if not self.stats_path.is_file():
            return
        kept = []
        for line in self.stats_path.read_text().splitlines():
            try:
                if json.loads(line)["iter"] <= after_iteration:
                    kept.append(line)
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut by a kill
        with atomic_path(self.stats_path) as tmp:
            tmp.write_text("".join(line + "\n" for line in kept))

    def read_stats(self) -> list[dict]:
        """The logged records, with namespaced names (:mod:`.stats`; older flat files too)."""
        if not self.stats_path.is_file():
            return []
        records = []
        for line in self.stats_path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(namespaced(record))
        return records

    # -- samples ---------------------------------------------------------------------------
    def newest_sample(self) -> tuple[int, Path] | None:
        """(iteration, path) of the newest preview grid, None before the first."""
        found = []
        for path in self.samples_dir.glob("iter_*.png") if self.samples_dir.is_dir() else ():
            digits = path.stem.removeprefix("iter_")
            if digits.isdigit():
                found.append((int(digits), path))
        return max(found) if found else None

    def write_sample_grid(self, iteration: int, labels: np.ndarray, real: np.ndarray,
                          fake: np.ndarray) -> Path:
        """A PNG grid, one row per sample: colour mask | real | synthesized."""
        path = self.samples_dir / f"iter_{iteration:08d}.png"
        with atomic_path(path) as tmp:
            Image.fromarray(sample_grid(labels, real, fake)).save(tmp, format="PNG")
        return path


def to_grey_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W) float in [-1, 1] -> (H, W, 3) uint8."""
    grey = np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def sample_grid(labels: np.ndarray, real: np.ndarray, fake: np.ndarray, gap: int = 2) -> np.ndarray:
    """(N, H, W) labels and (N, H, W) images in [-1, 1] -> an RGB grid (N rows x 3 columns)."""
    rows = []
    for lab, r, f in zip(labels, real, fake):
        spacer = np.full((lab.shape[0], gap, 3), 255, np.uint8)
        rows.append(np.concatenate([colorize(lab), spacer, to_grey_rgb(r), spacer, to_grey_rgb(f)], 1))
        rows.append(np.full((gap, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], 0)
