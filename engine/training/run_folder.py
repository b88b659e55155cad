"""The run folder contract.

```
<run>/config.json          the resolved TrainConfig and the data folder
<run>/stats.jsonl          one JSON object per logged step: iter, epoch (from 1), Loss/*, Progress/*
                           (see engine/training/stats.py)
<run>/samples/iter_N.png   preview grids: mask | real | synthesized, fixed validation masks
<run>/checkpoints/         training state files for resume (the newest K)
<run>/model.safetensors    the current native model
<run>/tensorboard/         TensorBoard logs (with --tensorboard)
<run>/.lock                held (an OS file lock) by the training that uses the folder
```
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import Advice, CardiganError, Message
from ..fileio import atomic_path, describe_os_error, try_lock
from ..labels import colorize
from .config import ARCHITECTURE_FIELDS, TrainConfig
from .stats import namespaced

LOCK_NAME = ".lock"
# what a folder holding a run may do instead of a new run, as the command line says it
RESUME_RUN = Advice("resume run", "resume it (--resume)")
REPLACE_RUN = Advice("replace run", "replace it (--overwrite)")
# what a run that ended with its state saved may do
RESUME_LATER = Advice("resume later", "the run can be resumed with --resume")
# what to do with a prepared dataset given as the run folder to resume
DATASET_AS_DATA = Advice("dataset as data", "give it as --data and the run's own folder as --run")


@dataclass(frozen=True)
class RunSummary:
    """A run folder at a glance: its stored config (None: missing or damaged) and saved states."""

    config: dict | None
    iterations: list[int]  # of the saved states, oldest first

    @property
    def resume_from(self) -> int | None:
        """The iteration a resume continues from (the newest state), None without one."""
        return self.iterations[-1] if self.iterations else None

    def planned_iters(self, train_pairs: int | None = None) -> int | None:
        """How many iterations the run trains in all, as its stored config says: its ``iters``,
        or its epochs in iterations on a training split of ``train_pairs`` (one process, as
        the loop counts them); None when that cannot be told."""
        c = self.config or {}
        if isinstance(c.get("iters"), int):
            return c["iters"]
        epochs = c.get("epochs") or (c.get("niter", 0) or 0) + (c.get("niter_decay", 0) or 0)
        batch = c.get("batch_size")
        if not train_pairs or not isinstance(batch, int) or batch < 1 or not epochs or train_pairs < batch:
            return None
        return epochs * (train_pairs // batch)

    def finished(self, train_pairs: int | None = None) -> bool:
        """Whether its newest state is at (or past) the run's planned length: a resume as it
        stands trains nothing, only a longer run (``--iters`` more than that) does."""
        planned = self.planned_iters(train_pairs)
        return self.resume_from is not None and planned is not None and self.resume_from >= planned

    def describe(self, train_pairs: int | None = None) -> str:
        if self.config is None:
            return "no config.json"
        c = self.config
        shape = f"preset {c.get('preset', '?')}, ngf {c.get('ngf')}, {c.get('image_size')} px"
        if self.resume_from is None:
            return f"{shape}; no saved training state"
        planned = self.planned_iters(train_pairs)
        if self.finished(train_pairs):
            return f"{shape}; finished: all {planned} iterations trained"
        of = f" of {planned}" if planned is not None else ""
        return f"{shape}; last saved at iteration {self.resume_from}{of}"


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
        so a killed run's ``.lock`` file, left behind, never blocks the next); a training
        that ends removes the file (a folder that holds a run keeps only the run's files)."""
        problem = writable_problem(self.root)
        if problem:
            raise CardiganError(problem)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CardiganError(f"{self.root}: cannot create the run folder ({exc.strerror})") from None
        path = self.root / LOCK_NAME
        handle = self._take_lock(path)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            self.remove_leftovers()
            yield
        finally:
            with contextlib.suppress(OSError):  # still held: no other training has this file
                if _same_file(handle, path):
                    path.unlink()
            handle.close()  # closing releases the lock

    def _take_lock(self, path: Path):
        """The lock file at ``path``, open and locked by this process. A training that ends
        removes its file while it holds the lock, so one that was waiting on the old file
        may lock a file no longer there: it opens the new one again."""
        for _ in range(100):
            handle = open_lock_file(path)
            if not try_lock(handle):
                handle.seek(0)
                owner = handle.read().strip() or "another process"
                handle.close()
                raise CardiganError(f"{self.root}: a training is already running in this folder "
                                    f"(PID {owner}); wait for it or stop it first")
            if _same_file(handle, path):
                return handle
            handle.close()
        raise CardiganError(f"{path}: the lock file keeps being replaced; stop the other trainings "
                            "started in this folder")

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

    def start_problem(self, resume: bool, overwrite: bool = False, data: Path | None = None) -> str | None:
        """Why a training may not start in this folder, in one line, or None: the one rule
        :func:`~engine.training.loop.train` (so ``cardigan train``) and the studio's wizard
        share, in the same words (a :class:`~engine.errors.Message`, whose advice to resume or
        replace a run the wizard says as its own choices).

        Any run needs a folder it can write (created if missing) outside the dataset
        ``data``. A resume needs a saved training state. A new run needs a new or empty
        folder; with ``overwrite``, one holding only an earlier run (which is then replaced),
        never the user's own files."""
        problem = self.resume_problem() if resume else None
        if problem:
            return problem
        problem = writable_problem(self.root)
        if problem:
            return problem
        if data is not None:
            try:
                check_run_outside_data(self.root, Path(data))
            except CardiganError as exc:
                return exc.message
        if resume:
            return None if self.has_training_state() else f"{self.root}: no training state to resume from"
        entries = self.entries()
        if not entries:
            return None
        if not overwrite:
            if self.holds_run():
                return Message(f"{self.root} already holds a training run: ", RESUME_RUN, ", ",
                               REPLACE_RUN, " or choose a new run folder")
            shown = ", ".join(sorted(p.name for p in entries)[:4]) + (" ..." if len(entries) > 4 else "")
            return f"{self.root}: is not empty (holds {shown}); choose a new or empty folder for a new run"
        foreign = self.foreign_entries()
        if foreign:
            names = ", ".join(str(p.relative_to(self.root)) for p in foreign[:4])
            return (f"{self.root}: holds files that are not a training run's ({names}); refusing to "
                    "replace it, choose a new run folder")
        if not self.holds_run():  # a run's names but no run (its config or a state): the user's files
            shown = ", ".join(sorted(p.name for p in entries)[:4])
            return (f"{self.root}: holds {shown} but no training run (no run configuration or saved "
                    "state); refusing to replace it, choose a new run folder")
        return None

    def resume_problem(self) -> str | None:
        """Why the folder cannot be a run to resume whatever it holds, in one line, or None:
        it does not exist, is a file, or is a prepared dataset (given as --run for --data)."""
        from ..data.dataset import split_folders_problem

        if self.root.is_file():
            return f"{self.root}: is a file, not a run folder (the folder a training wrote)"
        if not self.root.is_dir():
            return f"{self.root}: no such folder, so no run to resume"
        if not self.has_training_state() and split_folders_problem(self.root, "train") is None:
            return Message(f"{self.root}: is a prepared dataset, not a run folder; ", DATASET_AS_DATA)
        return None

    def prepare_start(self, resume: bool, overwrite: bool = False) -> bool:
        """With the lock held, before a training starts: refuse what :meth:`start_problem`
        refuses. True when an earlier run is to be replaced: the caller removes it
        (:meth:`remove_run`) only once everything that could stop the new run has been
        checked, so a run refused at its start never costs the one it would replace."""
        problem = self.start_problem(resume, overwrite)
        if problem:
            raise CardiganError(problem)
        return not resume and bool(self.entries())

    def entries(self) -> list[Path]:
        """What the folder holds besides its lock and the leftovers of killed writes."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.iterdir()
                if p.name != LOCK_NAME and not (p.name.startswith(".") and p.name.endswith(".tmp"))]

    def foreign_entries(self) -> list[Path]:
        """Entries a training did not write: other names, other files in its subfolders, a
        config.json that is not a run configuration."""
        foreign = []
        for path in self.entries():
            if path.name not in RUN_ENTRIES or path.is_symlink():
                foreign.append(path)
            elif path.name == "config.json" and not is_run_config(path):
                foreign.append(path)
            elif path.name in RUN_SUBFOLDERS:
                pattern = RUN_SUBFOLDERS[path.name]
                if not path.is_dir():
                    foreign.append(path)
                else:
                    foreign.extend(p for p in path.iterdir() if pattern and not pattern.match(p.name))
        return foreign

    def remove_run(self) -> None:
        """Delete the files of an earlier run (after :meth:`foreign_entries` found no others)."""
        import shutil

        try:
            for path in self.entries():
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        except OSError as exc:
            raise CardiganError(describe_os_error(exc, self.root)) from None

    def remove_if_unused(self) -> bool:
        """Remove the folder when it holds only what :meth:`create` and :meth:`lock` make (its
        empty subfolders and the lock file): a training that stopped before it wrote anything.
        Anything else in it keeps the folder. True when it was removed."""
        try:
            if not self.root.is_dir() or self.root.is_symlink():
                return False
            skeleton = {LOCK_NAME, self.samples_dir.name, self.checkpoint_dir.name}
            if any(p.name not in skeleton for p in self.root.iterdir()):
                return False
            subfolders = [f for f in (self.samples_dir, self.checkpoint_dir) if f.exists()]
            if any(f.is_symlink() or not f.is_dir() or any(f.iterdir()) for f in subfolders):
                return False
            for folder in subfolders:
                folder.rmdir()
            (self.root / LOCK_NAME).unlink(missing_ok=True)
            self.root.rmdir()
        except OSError:
            return False
        return True

    def has_training_state(self) -> bool:
        from .state import list_states

        return bool(list_states(self.checkpoint_dir))

    def holds_run(self) -> bool:
        """Whether a training has used this folder (its config or a saved state): a new run
        must go elsewhere, a resume may start here."""
        return is_run_config(self.config_path) or self.has_training_state()

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
        """The stored configuration, its fields checked for their types (an edited file is
        refused in one line naming the field), or None without one."""
        if not self.config_path.is_file():
            return None
        try:
            document = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (ValueError, OSError, UnicodeDecodeError, RecursionError):
            raise CardiganError(f"{self.config_path}: damaged run configuration") from None
        return check_stored_config(document, self.config_path)

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

    def changed_settings(self, config: TrainConfig, data: Path | None = None) -> list[str]:
        """The settings a resume takes from ``config`` (and its data folder ``data``) that
        differ from the run's stored ones, as ``name old -> new`` (the networks cannot differ:
        :meth:`check_resumable_with`)."""
        stored = self.read_config()
        if stored is None:
            return []
        changed = []
        for name in (f.name for f in dataclasses.fields(TrainConfig)):
            if name in ARCHITECTURE_FIELDS or name in ("iters", "epochs") or name not in stored:
                continue  # (a field newer than the run: nothing stored to differ from)
            old, new = stored[name], getattr(config, name)
            if old != new and not (isinstance(old, list) and tuple(old) == new):
                changed.append(f"{name} {old} -> {new}")
        before = stored.get("data")
        if data is not None and isinstance(before, str) and Path(before).resolve() != Path(data).resolve():
            changed.append(f"data {before} -> {Path(data).resolve()}")
        return changed

    # -- stats -----------------------------------------------------------------------------
    def append_stats(self, record: dict) -> None:
        """Add ``record`` as a line of stats.jsonl; a failed write (a full disk) is one line."""
        try:
            with open(self.stats_path, "a") as handle:
                handle.write(json.dumps(record) + "\n")
        except OSError as exc:
            raise CardiganError(describe_os_error(exc, self.stats_path)) from None

    def truncate_stats(self, after_iteration: int) -> None:
        """Drop records past ``after_iteration`` (logged after the state a run resumes from)."""
        if not self.stats_path.is_file():
            return
        kept = [line for line in self.stats_lines()
                if (record := stats_record(line)) is not None and record["iter"] <= after_iteration]
        with atomic_path(self.stats_path) as tmp:
            tmp.write_text("".join(line + "\n" for line in kept))

    def read_stats(self) -> list[dict]:
        """The logged records, with namespaced names (:mod:`.stats`; older flat files too)."""
        return self.read_stats_counted()[0]

    def read_stats_counted(self) -> tuple[list[dict], int]:
        """(the well-formed records, how many lines were skipped): a line cut by a kill, or
        edited to hold a non-number, NaN or an iteration that is not a whole number."""
        records, skipped = [], 0
        for line in self.stats_lines():
            record = stats_record(line)
            if record is None:
                skipped += 1
            else:
                records.append(namespaced(record))
        return records, skipped

    def stats_lines(self) -> list[str]:
        if not self.stats_path.is_file():
            return []
        try:  # bytes that are not UTF-8 make their line unreadable, not the file
            text = self.stats_path.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            raise CardiganError(describe_os_error(exc, self.stats_path)) from None
        return [line for line in text.splitlines() if line.strip()]

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


RUN_FILES = ("config.json", "stats.jsonl", "model.safetensors")
# subfolders and the names a training writes in them (TensorBoard's: its event files)
RUN_SUBFOLDERS = {"samples": re.compile(r"^iter_\d+\.png$|^\.iter_.*\.tmp$"),
                  "checkpoints": re.compile(r"^state_\d{8,}\.pt$|^\.state_.*\.tmp$"),
                  "tensorboard": re.compile(r"^events\.out\.tfevents\.")}
RUN_ENTRIES = set(RUN_FILES) | set(RUN_SUBFOLDERS)


def is_run_config(path: Path) -> bool:
    """Whether ``path`` is a config.json a training wrote (every network field present)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and {"preset", *ARCHITECTURE_FIELDS} <= set(document)


def writable_problem(folder: Path) -> str | None:
    """Why ``folder`` (created if missing) cannot be written, or None."""
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return f"{folder}: no existing parent folder"
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe}: is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):  # said as a failed write says it (describe_os_error)
        cause = errno.EROFS if on_read_only_filesystem(probe) else errno.EACCES
        return describe_os_error(OSError(cause, os.strerror(cause)), probe)
    return None


def on_read_only_filesystem(folder: Path) -> bool:
    """Whether ``folder`` lies on a filesystem mounted read-only (False where that cannot be told)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False


def check_run_outside_data(run_dir: Path, data_dir: Path) -> None:
    """A run folder inside the dataset it trains on (or the dataset itself) is refused: the
    dataset would hold foreign files and could no longer be replaced or checked."""
    run, data = Path(run_dir).resolve(), Path(data_dir).resolve()
    if run == data or data in run.parents:
        raise CardiganError(f"{run_dir}: is inside the dataset {data_dir} it trains on; choose a run "
                            "folder outside it")


def stats_record(line: str) -> dict | None:
    """One stats.jsonl line as a record, or None when it is not one: an object whose
    ``iter`` is a whole number and whose numbers are all finite (NaN and 1e999 are not)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    iteration = record.get("iter")
    if not isinstance(iteration, int) or isinstance(iteration, bool) or iteration < 0:
        return None
    if not all(math.isfinite(v) for v in record.values() if isinstance(v, float)):
        return None
    return record


def check_stored_config(document, path: Path) -> dict:
    """A stored config.json's fields have the types of :class:`TrainConfig`'s (ranges are
    checked by :func:`.config.validate`); the first wrong one is refused in one line."""
    from .config import FIELDS, PRESETS

    if not isinstance(document, dict):
        raise CardiganError(f"{path}: not a run configuration (a JSON object of settings)")
    for name, value in document.items():
        if name == "data":
            expected = None if value is None or isinstance(value, str) else "a folder name (text)"
        elif name in FIELDS:
            expected = type_problem(FIELDS[name].type, value)
        else:
            continue
        if expected:
            raise CardiganError(f"{path}: {name} is {short_repr(value)}; it must be {expected} "
                                "(the file was edited; restore it or start a new run)")
    if document.get("preset", "seed") not in PRESETS:
        raise CardiganError(f"{path}: preset is {short_repr(document['preset'])}; it must be one of "
                            f"{', '.join(PRESETS)}")
    return document


TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text",
              "dict": "a JSON object"}


def type_problem(annotation: str, value) -> str | None:
    """None when ``value`` fits a field annotated ``annotation`` ("int", "str | None", ...),
    else the words for what it must be."""
    allowed = [part.strip() for part in str(annotation).split("|")]
    if value is None:
        return None if "None" in allowed else TYPE_WORDS.get(allowed[0], allowed[0])
    fits = {"bool": lambda v: isinstance(v, bool),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
            "str": lambda v: isinstance(v, str),
            "dict": lambda v: isinstance(v, dict)}
    if any(fits.get(kind, lambda v: True)(value) for kind in allowed if kind != "None"):
        return None
    return " or ".join(TYPE_WORDS.get(kind, kind) for kind in allowed if kind != "None")


def short_repr(value, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters (an edited file may hold 5,000 digits)."""
    try:
        text = json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def _same_file(handle, path: Path) -> bool:
    """Whether the open ``handle`` is the file at ``path`` (not one removed or replaced since)."""
    try:
        here, there = os.fstat(handle.fileno()), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def open_lock_file(path: Path):
    """Open (creating) a lock file without following a link: a ``.lock`` that is a symlink
    or anything but a regular file is refused, so its target is never written."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if path.is_symlink():
            raise CardiganError(f"{path}: is a link, not a lock file; remove it") from None
        raise CardiganError(describe_os_error(exc, path)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CardiganError(f"{path}: is not a regular file, so it cannot be the run's lock; remove it")
    return os.fdopen(fd, "r+")


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
