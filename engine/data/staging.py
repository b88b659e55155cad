"""Writing a dataset folder all at once: stage beside the target, rename at the end.

A run that fails or is interrupted leaves at most a hidden ``.<name>.*.partial`` folder,
never something that looks like a finished dataset; an existing dataset is replaced only
with ``overwrite`` and only if it is one (has a manifest), so a typo cannot wipe a folder.
The missing parent folders of the output are made for the staging folder (or for an output
file, :func:`folder_made_for`), and when the staging is discarded those it made are removed
again if still empty (``--out a/b/c`` that wrote nothing leaves no empty ``a/b``); a parent
that was there before is never touched. A staging folder a killed run left is deleted by
the next run for the same output (:func:`remove_abandoned_staging`) only when it holds
nothing but what staging writes (its lock file, the split folders, manifest.json, the export
layouts' files and folders) or nothing: a user's folder so named that holds anything else
stays.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..errors import Advice, CardiganError, DataError, Message, already_exists, option
from ..fileio import describe_os_error, is_disk_full, make_public, replace_folder, restore_replaced, try_lock
from .export_layouts import HDF5_FILE, NIFTI_FOLDER, NNUNET_FOLDERS, SPLIT_LIST_FOLDER  # noqa: F401
from .layout import IMAGE_DIR, LABEL_DIR, MANIFEST_NAME, SPLITS
from .manifest import dataset_origin, read_manifest
from .trace_image import TRACE_SUFFIXES
from ..maskio import MASK_FILE_SUFFIXES

# the command that makes each kind of dataset, in the command line's words: a front end names
# its own way of making one (advice keyed "made by <origin>")
MADE_BY = {origin: Advice(f"made by {origin}", f"cardigan {command}")
           for origin, command in (("prepared", "prepare"), ("phantom", "phantom"), ("export", "export"))}
ORIGIN_NAMES = {origin: Message(f"{kind} (", MADE_BY[origin], ")")
                for origin, kind in (("prepared", "prepared dataset"), ("phantom", "phantom dataset"),
                                     ("export", "synthetic export"))}


# names that say "a file" (an image, a volume, a loop, an HDF5, JSON or NumPy file): given as
# a dataset's folder, they would quietly become a folder of that name
FILE_SUFFIXES = MASK_FILE_SUFFIXES + TRACE_SUFFIXES + (".h5", ".hdf5", ".mp4", ".json", ".npy", ".npz")


def file_suffix(out: Path) -> str | None:
    """The file suffix ``out`` is named with (``.png``, ``.nii.gz``: :data:`FILE_SUFFIXES`), or None."""
    name = out.name.lower()
    return next((s for s in FILE_SUFFIXES if name.endswith(s) and len(name) > len(s)), None)


def new_folder_name(out: Path) -> Path:
    """A folder beside ``out`` that does not exist yet, to suggest in its place: ``out``'s name
    without its suffixes (``x.png`` -> ``x``), numbered (``x_2``) while that is taken."""
    base = out.with_name(out.name.split(".")[0] or "dataset")
    names = [base, *(base.with_name(f"{base.name}_{number}") for number in range(2, 100))]
    return next((name for name in names if not (name.exists() or name.is_symlink())), base)


def named_as_file(out: Path, where: str = "", *instead: str | Advice, by_name: bool = False) -> Message | None:
    """Why a new dataset folder ``out`` should not have its name: it is named as a file
    (:func:`file_suffix`: ``new.png`` would quietly become a folder of that name), in one line
    naming a new folder to give instead (``where`` and ``instead`` as for
    :func:`check_folder_name`); None for a folder's name. From the name alone: whether ``out``
    is there is the caller's to know (a folder that is there keeps its name). ``by_name``: the
    line names ``out`` and the folder suggested by their names alone, for a front end that
    shows where they are."""
    if not file_suffix(out):
        return None
    return folder_refusal(out, "is named as a file", where, instead, by_name)


def folder_refusal(out: Path, what: str, where: str, instead: Sequence[str | Advice],
                   by_name: bool = False) -> Message:
    """The one line refusing ``out`` as a dataset folder because it ``what`` ("is a file")."""
    folder = new_folder_name(out)
    shown, suggested = (out.name, folder.name) if by_name else (out, folder)
    return Message(f"{shown}: {what}, but ", option("out"), f" is a folder{where}; "
                   f"name a new folder, such as {suggested}", *instead)


def file_above(out: Path) -> Path | None:
    """The nearest existing path above ``out`` when it is a file (``notes.txt`` of
    ``notes.txt/new``), where no folder can be made; else None."""
    for parent in out.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_folder_name(out: Path, where: str = "", *instead: str | Advice) -> None:
    """Refuse, before any work, a dataset folder ``out`` that is a file or is named as one
    (:func:`named_as_file`: ``new.png`` would quietly become a folder), in one line naming a new
    folder to give instead; ``where`` says for what ``--out`` is a folder (" for the folders
    format") and ``instead`` what else would do (", or ", advice, ...). An ``out`` below a
    file (:func:`file_above`) is refused too, naming the file."""
    if (out.exists() or out.is_symlink()) and not out.is_dir():
        raise DataError(folder_refusal(out, "is a file", where, instead))
    blocker = file_above(out)
    if blocker is not None:
        raise DataError(f"{out}: {blocker} is a file, so no folder can be made in it; "
                        "name an output folder elsewhere")
    if not out.exists() and (problem := named_as_file(out, where, *instead)):
        raise DataError(problem)


def check_output(out: Path, overwrite: bool, protect: tuple[Path, ...] = (),
                 replaces: str = "prepared") -> None:
    """Refuse an output that would overwrite something without permission (before any work).

    With ``overwrite``, a non-empty ``out`` is replaced only if its manifest is one of ours
    and says it was made the way this command makes folders (``replaces``: ``prepared``,
    ``phantom`` or ``export``, see :func:`.manifest.dataset_origin`): a folder that merely
    holds a file named manifest.json, or a dataset of another kind, is never deleted. A
    dataset a killed run had moved aside to replace it is put back first
    (:func:`restore_replaced`), so it is checked as the dataset ``out`` holds.
    """
    restore_replaced(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise DataError(already_exists(out, Message("a ", ORIGIN_NAMES[replaces]), "folder",
                                           " and is not empty"))
        if not (out / MANIFEST_NAME).is_file():
            raise DataError(Message(f"{out}: is not a ", ORIGIN_NAMES[replaces], f" (no {MANIFEST_NAME}); "
                                    "refusing to replace it, choose another output folder"))
        try:
            manifest = read_manifest(out)
        except DataError:
            raise DataError(f"{out}: its {MANIFEST_NAME} is not a cardiGAN dataset manifest; "
                            "refusing to replace it, choose another output folder") from None
        origin = dataset_origin(manifest)
        if origin != replaces:
            raise DataError(Message(f"{out}: holds a ", ORIGIN_NAMES[origin], ", not a ", ORIGIN_NAMES[replaces],
                                    "; refusing to replace it, choose another output folder"))
        foreign = foreign_files(out, manifest)
        if foreign:
            shown = ", ".join(str(p.relative_to(out)) for p in foreign[:4])
            more = f" and {len(foreign) - 4} more" if len(foreign) > 4 else ""
            raise DataError(f"{out}: also holds files the dataset does not list ({shown}{more}); "
                            "refusing to replace it: move them out or choose another output folder")
        check_not_a_source(out, protect)


def check_not_a_source(out: Path, sources: tuple[Path, ...]) -> None:
    """Refuse an output that is one of ``sources`` (what the job reads) or holds one: replacing
    it would delete what the job reads. Checked before the sources themselves are."""
    resolved = Path(out).expanduser().resolve()
    for path in sources:
        if resolved == Path(path).expanduser().resolve() or resolved in Path(path).expanduser().resolve().parents:
            raise DataError(f"{out}: replacing it would delete the source {path}")


# nnU-Net's dataset description and folds; ITK-SNAP's label names
EXPORT_FILES = ("dataset.json", "splits_final.json", "itksnap_labels.txt")


def foreign_files(out: Path, manifest: dict) -> list[Path]:
    """What ``out`` holds that the command which wrote its manifest did not write (files a
    user added, a run folder placed inside): replacing the dataset would delete them."""
    splits = manifest.get("splits") if isinstance(manifest.get("splits"), dict) else {}
    patients = {name for members in splits.values() if isinstance(members, list)
                for name in members if isinstance(name, str)}
    pairs = manifest.get("pairs") if isinstance(manifest.get("pairs"), list) else []
    stems = {pair["stem"] for pair in pairs if isinstance(pair, dict) and isinstance(pair.get("stem"), str)}
    fans = manifest.get("fans") if isinstance(manifest.get("fans"), dict) else {}
    stems |= {key.split("/", 1)[1] for key in fans if isinstance(key, str) and "/" in key}  # "split/stem"
    foreign = []
    for folder, subfolders, files in os.walk(out):
        here = Path(folder)
        parts = here.relative_to(out).parts
        for name in list(subfolders):
            if (here / name).is_symlink() or not _is_dataset_folder((*parts, name), patients):
                foreign.append(here / name)
                subfolders.remove(name)
        foreign.extend(here / name for name in files
                       if (here / name).is_symlink() or not _is_dataset_file((*parts, name), patients, stems))
    return sorted(foreign)


def _is_dataset_folder(parts: tuple[str, ...], patients: set[str]) -> bool:
    if parts[0] in SPLITS:
        return len(parts) == 1 or (len(parts) == 2 and parts[1] in (IMAGE_DIR, LABEL_DIR))
    if parts[0] == NIFTI_FOLDER:
        return len(parts) == 1 or (len(parts) == 2 and parts[1] in patients)
    return parts == (SPLIT_LIST_FOLDER,) or (len(parts) == 1 and parts[0] in NNUNET_FOLDERS)


def _is_dataset_file(parts: tuple[str, ...], patients: set[str], stems: set[str]) -> bool:
    from .layout import parse_stem

    if parts in ((MANIFEST_NAME,), (HDF5_FILE,)) or (len(parts) == 1 and parts[0] in EXPORT_FILES):
        return True
    if len(parts) == 2 and parts[0] in NNUNET_FOLDERS and parts[1].endswith(".png"):
        stem = parts[1][:-len(".png")]
        return (stem[:-len("_0000")] if parts[0].startswith("images") and stem.endswith("_0000") else stem) in stems
    if len(parts) == 3 and parts[0] in SPLITS and parts[2].endswith(".png"):
        stem = parts[2][:-len(".png")]
        return stem in stems or (parse_stem(stem) or (stem,))[0] in patients
    if len(parts) == 3 and parts[0] == NIFTI_FOLDER:
        patient, name = parts[1], parts[2]
        return (name.startswith(f"{patient}_") and name.endswith(".nii.gz")) or \
            (name.startswith("Info_") and name.endswith(".cfg"))
    return len(parts) == 2 and parts[0] == SPLIT_LIST_FOLDER and parts[1].endswith(".txt")


WRITER_LOCK = ".writing"  # locked inside a staging folder while its writer lives
UNLOCKED_GRACE_S = 600  # a staging folder without its lock file is a writer's first instant


# what a staging folder holds at its top besides its folders: its lock, the manifest, the files
# of the export layouts; the folders it holds, each with the names of the folders in it at
# each level (None: any name) down to its files, whose names end in :data:`STAGED_SUFFIXES`
STAGED_FILES = (WRITER_LOCK, MANIFEST_NAME, HDF5_FILE, *EXPORT_FILES)
STAGED_FOLDERS: dict[str, tuple[tuple[str, ...] | None, ...]] = {
    **{split: ((IMAGE_DIR, LABEL_DIR),) for split in SPLITS}, NIFTI_FOLDER: (None,),
    SPLIT_LIST_FOLDER: (), **{name: () for name in NNUNET_FOLDERS}}
STAGED_SUFFIXES = (".png", ".nii.gz", ".cfg", ".txt", ".tmp")  # .tmp: a write's temporary file


def holds_only_staged(folder: Path) -> bool:
    """Whether ``folder`` holds nothing, or only what a staging folder's writers put there
    (:data:`STAGED_FILES`, :data:`STAGED_FOLDERS`, a write's hidden ``.tmp`` files): a folder
    named like a staging folder that holds anything else is a user's, never deleted. An
    OSError (a folder that cannot be listed) is the caller's."""
    for entry in folder.iterdir():
        if entry.is_symlink():
            return False
        if entry.is_dir():
            if entry.name not in STAGED_FOLDERS or not _holds_staged_files(entry, STAGED_FOLDERS[entry.name]):
                return False
        elif not (entry.name in STAGED_FILES or (entry.name.startswith(".") and entry.name.endswith(".tmp"))):
            return False
    return True


def _holds_staged_files(folder: Path, levels: tuple[tuple[str, ...] | None, ...]) -> bool:
    """Whether ``folder`` holds folders as ``levels`` names them (see :data:`STAGED_FOLDERS`)
    and, below the last, only files named as staged files are (and a volume writer's hidden
    ``.writing`` folder of them)."""
    for entry in folder.iterdir():
        if entry.is_symlink():
            return False
        if levels:
            if not entry.is_dir() or (levels[0] is not None and entry.name not in levels[0]) or \
                    not _holds_staged_files(entry, levels[1:]):
                return False
        elif entry.is_dir():  # a volume's hidden folder its writer writes it in (engine.maskio)
            if not (entry.name.startswith(".") and entry.name.endswith(".writing")) or \
                    not _holds_staged_files(entry, ()):
                return False
        elif not entry.name.endswith(STAGED_SUFFIXES):
            return False
    return True


def remove_abandoned_staging(out: Path) -> list[Path]:
    """Delete the staging folders for ``out`` whose writer died (killed during a run): their
    lock file is no longer held. A folder a live writer holds is left alone, and so is one
    holding anything a staging folder's writers do not write (:func:`holds_only_staged`)."""
    removed = []
    for folder in out.parent.glob(f".{glob.escape(out.name)}.*.partial") if out.parent.is_dir() else ():
        lock = folder / WRITER_LOCK
        try:
            if folder.is_symlink() or not folder.is_dir() or not holds_only_staged(folder):
                continue
            if lock.is_file():
                with open(lock, "a+") as handle:
                    if not try_lock(handle):
                        continue
            elif time.time() - folder.stat().st_mtime < UNLOCKED_GRACE_S:
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def make_staging(out: Path) -> tuple[Path, list[Path]]:
    """A fresh hidden folder beside ``out`` with the split/img|label tree, and the parent
    folders of ``out`` made for it (outermost first: :func:`make_folders`), which
    :func:`discard` removes again while they are empty."""
    made: list[Path] = []
    try:
        made = make_folders(out.parent)
        remove_abandoned_staging(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        make_public(staging, directory=True)
    except OSError as exc:
        remove_empty_folders(made)
        raise DataError(describe_os_error(exc, out)) from None
    try:
        for split in SPLITS:
            (staging / split / IMAGE_DIR).mkdir(parents=True)
            (staging / split / LABEL_DIR).mkdir(parents=True)
    except OSError as exc:
        discard(staging, made)
        raise DataError(describe_os_error(exc, out)) from None
    return staging, made


@contextmanager
def folder_made_for(path: Path) -> Iterator[None]:
    """The folder a single output file ``path`` goes in (an HDF5 file written whole, not a
    staged dataset folder), made with its missing parents for the block, as
    :func:`make_staging` makes a dataset's; those it made are removed again, while empty,
    when the block raises or is interrupted."""
    try:
        made = make_folders(path.parent)
    except OSError as exc:
        raise DataError(describe_os_error(exc, path)) from None
    try:
        yield
    except BaseException:
        remove_empty_folders(made)
        raise


def make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; the folders this made, outermost first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def remove_empty_folders(made: Sequence[Path]) -> None:
    """Remove the folders in ``made`` (outermost first, as :func:`make_folders` lists them),
    innermost first, while they are empty: one something else was put in since (another
    run's output beside ours) stays, and so do the folders around it."""
    for folder in reversed(made):
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue
        except OSError:
            return


def remove_empty_splits(staging: Path) -> list[str]:
    """Remove the split folders nothing was written to (a dataset lists the splits it has:
    an empty ``test/`` would be offered for browsing and evaluation with nothing in it)."""
    removed = []
    for split in SPLITS:
        folder = staging / split
        if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
            shutil.rmtree(folder)
            removed.append(split)
    return removed


def commit(staging: Path, out: Path, overwrite: bool) -> None:
    """Move the finished ``staging`` folder to ``out`` (replacing a dataset if allowed). The
    folder at ``out``, empty or a dataset, is moved aside and put back if the move fails or
    is interrupted (:func:`engine.fileio.replace_folder`)."""
    try:
        if out.is_dir() and any(out.iterdir()) and not overwrite:  # appeared while we worked
            raise DataError(already_exists(out, other="folder", how=" and is not empty"))
        replace_folder(staging, out)
    except OSError as exc:
        raise DataError(describe_os_error(exc, out)) from None


def discard(staging: Path | None, made: Sequence[Path] = ()) -> None:
    """Delete ``staging`` and then the parent folders made for it (``made``) that it leaves empty."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    remove_empty_folders(made)


@contextmanager
def staged_dataset(out: Path, overwrite: bool) -> Iterator[Path]:
    """A staging folder for ``out`` (see :func:`make_staging`): committed to ``out`` when the
    block ends normally, discarded when it raises or is interrupted."""
    staging, made = make_staging(out)
    lock = None
    try:
        lock = open(staging / WRITER_LOCK, "a+")
        try_lock(lock)
        yield staging
        lock.close()
        (staging / WRITER_LOCK).unlink()
        remove_empty_splits(staging)
        commit(staging, out, overwrite)
    except (OSError, RuntimeError, CardiganError) as exc:
        if lock is not None:
            lock.close()
        discard(staging, made)
        if isinstance(exc, OSError) or is_disk_full(exc):  # a writer's own error: name the output,
            # not the hidden staging file it was writing (an atomic file's error names that)
            raise DataError(describe_os_error(exc, out)) from None
        raise
    except BaseException:
        if lock is not None:
            lock.close()
        discard(staging, made)
        raise
