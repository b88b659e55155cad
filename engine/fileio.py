"""Safe file writing: every output appears whole or not at all.

A file is written under a temporary name and renamed into place (:func:`atomic_path`); a
pair of files that belong together is renamed in one after the other, the first put back if
the second fails (:func:`atomic_paths`); a folder is replaced by moving the old one aside
first (:func:`replace_folder`). What a process killed midway leaves is put back by the next
reader or writer: a pair left mixed (:func:`restore_mixed_pair`; in a read-only folder a
reader reads the old pair from the copy kept aside, changing nothing), a folder left aside
(:func:`restore_replaced`). Failures are one line naming the file (:func:`describe_os_error`,
a full disk said as such: :func:`is_disk_full`); the space a write needs is checked first
(:func:`require_space`).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import CardiganError
from .progress import Cancelled, StopCheck, never_stop


DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# how libraries that do not raise OSError report a full disk (torch's zip writer, HDF5, ITK,
# safetensors); torch's "unexpected pos" is its zip writer finding a write came up short; the
# last is this module's own line (:func:`describe_os_error`), raised by :func:`atomic_path`
DISK_FULL_TEXTS = ("No space left on device", "errno = 28", "file write failed", "Disk quota exceeded",
                   "os error 28", "unexpected pos", "no space left on the device while writing")
# numpy's short write (``ndarray.tofile``, ``numpy.save`` into a file): an OSError without errno
NUMPY_SHORT_WRITE = re.compile(r"\b\d+ requested and \d+ written\b")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return True
    return isinstance(exc, Exception) and (any(t in str(exc) for t in DISK_FULL_TEXTS)
                                           or NUMPY_SHORT_WRITE.search(str(exc)) is not None)


SHORT_WRITE_ROOM = 1 << 20  # a writer that came up short with less than this free on its device met a full disk


def short_write(path: Path | str) -> OSError:
    """The error of a writer library that left ``path`` shorter than it should be without
    raising (ITK's NIfTI writer, ffmpeg): a full disk (ENOSPC) when the device has less than
    :data:`SHORT_WRITE_ROOM` free, else an I/O error saying the file came out short."""
    try:
        stats = os.statvfs(Path(path).parent)
        full = stats.f_bavail * stats.f_frsize < SHORT_WRITE_ROOM
    except (OSError, AttributeError):  # no statvfs (Windows): the usual cause
        full = True
    if full:
        return OSError(errno.ENOSPC, "No space left on device", str(path))
    return OSError(errno.EIO, "the writer stopped before the file was complete", str(path))


def describe_os_error(exc: BaseException, path: Path | str) -> str:
    """One plain line for a failed write or read."""
    if is_disk_full(exc):
        return f"no space left on the device while writing {path}"
    if not isinstance(exc, OSError):
        return f"{path}: {exc}"
    if exc.errno == errno.EROFS:
        return f"{path}: not writable (a read-only filesystem: a disc, a mounted image or a locked share)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{path}: not writable (permission denied)"
    if exc.errno == errno.ENOENT:
        if Path(path).parent.is_dir():  # a file gone, or a folder that takes none (/proc, /sys)
            return f"{path}: no such file, and none can be opened there (the folder itself exists)"
        return f"{path}: folder does not exist"
    return f"{path}: {exc.strerror or exc}"


@contextlib.contextmanager
def atomic_path(path: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    If the block raises (or the process dies), ``path`` keeps its previous content and the
    temporary file is removed (or, after a kill, left with a ``.tmp`` name nobody reads).
    OS errors become a one-line :class:`CardiganError`.
    """
    path = Path(path)
    tmps: list[Path] = []
    with _one_line_failures(tmps, [path]):
        tmps.append(_temporary_beside(path, suffix))
        yield tmps[0]
        _ready(tmps[0], path)
        os.replace(tmps[0], path)


@contextlib.contextmanager
def atomic_paths(paths: list[Path | str]) -> Iterator[list[Path]]:
    """:func:`atomic_path` for files that belong together (a NIfTI loop and its masks): a
    temporary path beside each; when the block succeeds they are renamed onto their paths in
    turn, and if a rename fails (or anything stops it) the files already renamed are put back
    as they were, so the paths hold all the new files or all the old ones. The old files are
    kept, as hard links (copies where the filesystem has none) under ``.tmp`` names, until all
    the new ones are in place; a failure at any step (or a Ctrl-C) leaves the old files as
    they were and no ``.tmp`` name behind. Only a kill between two renames, or a file that
    cannot be put back, can leave a mix, with the old file beside it under a ``.kept.tmp``
    name (the error says which): :func:`restore_mixed_pair`, which the pair's readers and
    writers call first, puts the old pair back. OS errors become one line naming the file."""
    paths = [Path(path) for path in paths]
    tmps: list[Path] = []
    with _one_line_failures(tmps, paths):
        for path in paths:
            tmps.append(_temporary_beside(path))
        yield tmps
        for tmp, path in zip(tmps, paths):
            _ready(tmp, path)
        _replace_together(list(zip(tmps, paths)))


class _FailedOn(Exception):
    """An OS error at a step of an atomic write, and the file of the write it concerns;
    ``not_put_back``: the files already replaced that could not be put back as they were,
    each with the name its old content is kept under."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(path, error)
        self.path, self.error = path, error
        self.not_put_back: list[tuple[Path, Path]] = []

    def line(self) -> str:
        return "; ".join([describe_os_error(self.error, self.path),
                          *(f"{path} could not be put back: the file that was there is now {old}"
                            for path, old in self.not_put_back)])


@contextlib.contextmanager
def _one_line_failures(tmps: list[Path], paths: list[Path]) -> Iterator[None]:
    """Remove the temporary files ``tmps`` (of ``paths``, in order) when the block raises or
    is stopped. An OS error becomes one :class:`CardiganError` line naming the file it
    concerns: the one a :class:`_FailedOn` names, or the one an ``OSError``'s file name is
    (or is the temporary file of), else the first; so does a writer library's full disk (its
    own error type: SafetensorError, torch's RuntimeError). Other errors pass as they are."""
    try:
        yield
    except BaseException as exc:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, _FailedOn):
            raise CardiganError(exc.line()) from None
        if isinstance(exc, OSError) or (isinstance(exc, Exception) and is_disk_full(exc)):
            raise CardiganError(describe_os_error(exc, _file_named(exc, tmps, paths))) from None
        raise


def _file_named(exc: BaseException, tmps: list[Path], paths: list[Path]) -> Path:
    """The file of ``paths`` an ``OSError`` names, by its path or its temporary file's (of
    ``tmps``); the first when it names none of them."""
    names = {str(name) for name in (getattr(exc, "filename", None), getattr(exc, "filename2", None))
             if name is not None}
    return next((path for path, tmp in zip(paths, tmps) if str(path) in names or str(tmp) in names), paths[0])


def _replace_together(moves: list[tuple[Path, Path]]) -> None:
    """Rename each (temporary, path) onto its path; if one fails, undo the ones done (see
    :func:`atomic_paths`). A failed rename is a :class:`_FailedOn` naming its path."""
    kept: list[Path | None] = []
    replaced: list[tuple[Path, Path | None]] = []
    stranded: list[tuple[Path, Path]] = []  # (path, its old file) not put back: that file's only copy
    try:
        for tmp, path in moves:
            kept.append(_keep_aside(tmp, path))
        for (tmp, path), old in zip(moves, kept):
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise _FailedOn(path, exc) from None
            replaced.append((path, old))
    except BaseException as exc:
        for path, old in reversed(replaced):
            try:  # as much as the filesystem allows
                if old is not None:
                    os.replace(old, path)
                else:
                    path.unlink(missing_ok=True)
            except OSError:
                if old is not None:
                    stranded.append((path, old))
        if isinstance(exc, _FailedOn):
            exc.not_put_back = stranded
        raise
    finally:
        for old in kept:
            if old is not None and old not in {copy for _, copy in stranded}:
                old.unlink(missing_ok=True)


MIX_SETTLE_S = 0.3  # how long a mixed pair must stay as it is to be taken for a killed write's
MIX_POLL_S = 0.02  # how often it is looked at meanwhile


def _pause(seconds: float) -> None:
    """Wait between two looks at a mixed pair (:func:`restore_mixed_pair`); tests replace it."""
    time.sleep(seconds)


def restore_mixed_pair(paths: list[Path | str], read_from: dict[Path, Path] | None = None) -> str | None:
    """Put back the old files of a pair (``paths``, in the order :func:`atomic_paths` renamed
    them) that a process killed between two renames left mixed, new files beside old ones;
    one line saying so, or None when the pair is whole. Readers and writers of the pair call
    it before they open it.

    A reader passes ``read_from``: where an old file cannot be put back because the folder
    may not be changed (permission denied, a read-only filesystem), nothing on disk is
    changed and the old pair is read as it is, the old file from its copy kept aside
    (``read_from[path]`` is that copy) and the others in place; the line says so. Without
    it (a writer, whose write into that folder would fail anyway), or for any other error,
    the failure is one line naming the old file.

    A file was renamed in when its old content is kept aside (``.<name>.<random>.kept.tmp``)
    and its temporary file of the same name (``.<name>.<random>.tmp``) is gone; it was not
    when that temporary file is still there, or when it had no old file and none is there
    yet. The pair is rolled back, not forward: the write that was stopped never said it was
    done, and what rolling back needs (each renamed file's old content) is always on disk
    where a kill left a mix, while rolling forward would trust a temporary file of the
    stopped write. The new files are given up, as a failed write gives them up. Old files
    left over once every file was renamed (a kill before they were deleted) are deleted.
    A file that a failed write could not put back is left where its error said.

    A live write of the pair (another process exporting it) looks, between its two renames,
    exactly as a killed one left it; rolling it back would take its first file back and
    delete the temporary file its second rename is about to move, losing its pair. A live
    write finishes its second rename within milliseconds and a killed one never does, so a
    mix is only rolled back once it has stayed as it is (the same files, each of the same
    size and time) for :data:`MIX_SETTLE_S`; one that changes meanwhile is looked at anew."""
    paths = [Path(path) for path in paths]
    found, renamed, mixed = _mix_of(paths)
    seen, still = (_stamp(paths, found) if mixed else []), 0.0  # a whole pair is not stat'ed
    while mixed and still < MIX_SETTLE_S:
        _pause(MIX_POLL_S)
        found, renamed, mixed = _mix_of(paths)
        now = _stamp(paths, found)
        still = still + MIX_POLL_S if now == seen else 0.0  # a write that moved on is waited for anew
        seen = now
    if not mixed:
        # every file of a pair that is not mixed and all there is its write's new one (a file that
        # had no old one keeps nothing aside, so it is not among ``renamed``)
        whole = all(renamed) or all(path.exists() for path in paths)
        for files, done in zip(found, renamed):  # left over by writes long dead: the pair is whole
            for kept, tmp in files:
                if kept in {old for old, _ in done} and whole or _older_than(tmp, REPLACING_GRACE_S):
                    kept.unlink(missing_ok=True)
                    tmp.unlink(missing_ok=True)
        return None
    back, aside = [], {}
    for path, done in zip(paths, renamed):
        for kept, _ in done:
            try:
                os.replace(kept, path)
            except OSError as exc:
                if read_from is None or not _is_read_only(exc):
                    raise CardiganError(f"{describe_os_error(exc, path)}; it is one of a pair a stopped write "
                                        f"left mixed, and its old file is {kept}") from None
                aside[path] = kept
                continue
            back.append(path.name)
    if aside:  # a read-only folder: read as it is, nothing on disk changed
        read_from.update(aside)
    else:  # the stopped write's files not renamed in are given up, as a failed write gives them up
        for files, done in zip(found, renamed):
            for kept, tmp in files:
                if (kept, tmp) not in done:
                    kept.unlink(missing_ok=True)
                    tmp.unlink(missing_ok=True)
    others = ", ".join(path.name for path in paths if path.name not in back and path not in aside)
    said = [f"{', '.join(back)}: the old file put back"] if back else []
    said += [f"{', '.join(path.name for path in aside)}: the old file read from its copy kept aside,"] if aside else []
    return (f"{'; '.join(said)} beside {others}: a write of them was stopped between the two and had left "
            "them mixed" + (" (the folder is read-only, so the pair was left as the stopped write left it)"
                            if aside else ""))


def _is_read_only(exc: OSError) -> bool:
    """Whether ``exc`` says the folder may not be changed (permission denied, a read-only filesystem)."""
    return isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


def _mix_of(paths: list[Path]) -> tuple[list[list[tuple[Path, Path]]], list[list[tuple[Path, Path]]], bool]:
    """For each of ``paths``: its old contents kept aside (:func:`_kept_beside`) and those of
    them whose write renamed the new file in; and whether the pair is mixed (a file renamed in
    before one that was not). One line when several stopped writes kept old files of one path."""
    listings: dict[Path, list[str]] = {}  # a pair's files share a folder: it is listed once
    found = [_kept_beside(path, listings) for path in paths]
    renamed = [[pair for pair in files if not pair[1].exists()] for files in found]
    if any(len(done) > 1 for done in renamed):
        names = ", ".join(kept.name for done in renamed for kept, _ in done)
        raise CardiganError(f"{paths[0]}: old files of several stopped writes are beside it ({names}); "
                            "put back the ones that belong by hand")
    left = [not done and (bool(files) or not path.exists()) for path, files, done in zip(paths, found, renamed)]
    return found, renamed, any(renamed[i] and any(left[i + 1:]) for i in range(len(paths)))


def _stamp(paths: list[Path], found: list[list[tuple[Path, Path]]]) -> list[tuple[Path, tuple | None]]:
    """What a write moving on would change: each path, old file kept aside and temporary file,
    with its inode, size and modification time (None where there is none)."""
    stamps: list[tuple[Path, tuple | None]] = []
    for path in [*paths, *(name for files in found for pair in files for name in pair)]:
        try:
            stat = path.stat()
        except OSError:
            stamps.append((path, None))
            continue
        stamps.append((path, (stat.st_ino, stat.st_size, stat.st_mtime_ns)))
    return stamps


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _kept_beside(path: Path, listings: dict[Path, list[str]]) -> list[tuple[Path, Path]]:
    """The old contents of ``path`` kept aside by writes of it that never finished (see
    :func:`_keep_aside`), each with the temporary file its write was renaming onto ``path``.
    ``listings``: the names in each folder listed so far, added to as folders are listed."""
    start, end = f".{path.stem}.", f"{path.suffix}.kept.tmp"
    if path.parent not in listings:
        try:
            listings[path.parent] = sorted(entry.name for entry in os.scandir(path.parent))
        except OSError:
            listings[path.parent] = []
    names = listings[path.parent]
    return [(path.parent / name, path.parent / (name[: -len(".kept.tmp")] + ".tmp")) for name in names
            if name.startswith(start) and name.endswith(end) and len(name) > len(start) + len(end)
            and "." not in name[len(start): -len(end)]]


def _keep_aside(tmp: Path, path: Path) -> Path | None:
    """A second name for the file at ``path`` (None when there is none), beside ``tmp`` and
    named after it: a hard link, or a copy where the filesystem has no links. If neither can
    be made (or anything stops it) nothing of that name is left."""
    if not path.is_file():
        return None
    kept = tmp.with_name(f"{tmp.name[:-len('.tmp')]}.kept.tmp")
    try:
        kept.unlink(missing_ok=True)
        try:
            os.link(path, kept)
        except OSError:
            shutil.copy2(path, kept)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            kept.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _FailedOn(path, exc) from None
        raise
    return kept


def replace_folder(new: Path, target: Path) -> None:
    """Rename the folder ``new`` onto ``target``. A folder already at ``target`` is renamed
    aside first, to ``.<name>.*.old/<name>`` beside it, put back if
    ``new`` cannot be moved in (or anything stops it) and deleted only once ``new`` is in
    place, so a failure never loses the folder that was there. One that cannot be put back
    stays aside and the error says where; a kill between the two renames leaves it aside too,
    for :func:`restore_replaced` to put back.
    OS errors are raised as they come, for the caller to word."""
    aside = None
    if target.is_dir():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        try:
            os.replace(target, aside / target.name)
        except BaseException:
            with contextlib.suppress(OSError):
                aside.rmdir()
            raise
    try:
        os.replace(new, target)
    except BaseException:
        if aside is not None and not target.exists():
            _put_back(aside / target.name, target)
        raise
    finally:
        if aside is not None and target.exists() and not new.exists():  # the new folder is in place
            shutil.rmtree(aside, ignore_errors=True)


def _put_back(kept: Path, target: Path) -> None:
    try:
        os.replace(kept, target)
    except OSError as exc:
        raise CardiganError(f"{target}: could not be replaced, nor put back ({exc.strerror or exc}); "
                            f"the folder that was there is now {kept}") from None
    with contextlib.suppress(OSError):
        kept.parent.rmdir()


REPLACING_GRACE_S = 600  # a younger ``.old`` folder may be a live replace's, still deleting it


def restore_replaced(target: Path) -> list[Path]:
    """Put back a folder that a process killed while replacing it had moved aside (the
    ``.<name>.*.old`` folder of :func:`replace_folder`) when ``target`` is missing, so it is
    not left hidden; where ``target`` holds the new folder (the kill came while the old one
    was being deleted), finish deleting it. Writers call it before they look at ``target``.
    A folder of that name holding anything else than the folder kept aside is not one a
    replace made, and is left alone. Returns the folders restored."""
    restored = []
    for folder in sorted(target.parent.glob(f".{glob.escape(target.name)}.*.old")) if target.parent.is_dir() else ():
        try:
            if not folder.is_dir() or folder.is_symlink() or \
                    any(entry.name not in (target.name, "dataset") for entry in folder.iterdir()):
                continue
        except OSError:
            continue
        kept = folder / target.name
        if not kept.is_dir():
            kept = folder / "dataset"  # as older versions named a dataset kept aside
        try:
            if kept.is_dir() and not target.exists():
                os.replace(kept, target)
                restored.append(target)
            elif time.time() - folder.stat().st_mtime < REPLACING_GRACE_S:
                continue  # perhaps a live writer about to move the old folder or deleting it
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
    return restored


def _temporary_beside(path: Path, suffix: str | None = None) -> Path:
    """An empty file of a new ``.tmp`` name beside ``path`` (``suffix`` before ``.tmp``: by
    default ``path``'s own); one that cannot be made is a :class:`_FailedOn` naming ``path``."""
    if not path.parent.exists():
        raise CardiganError(f"{path.parent}: folder does not exist")
    suffix = suffix if suffix is not None else path.suffix
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{suffix}.tmp", dir=path.parent)
    except OSError as exc:
        raise _FailedOn(path, exc) from None
    os.close(fd)
    return Path(tmp_name)


def _ready(tmp: Path, path: Path) -> None:
    """A written temporary file (for ``path``) made durable and given a plain create's
    permissions; a failure is a :class:`_FailedOn` naming ``path``."""
    try:
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp made it owner-only; a plain create would not
    except OSError as exc:
        raise _FailedOn(path, exc) from None


SPACE_RESERVE = 4 << 20  # bytes kept free for a writer's own bookkeeping (HDF5's metadata)


def require_space(path: Path | str, needed: int, reserve: int | None = None) -> None:
    """Raise ENOSPC before writing ``needed`` bytes beside ``path`` would leave less than
    ``reserve`` free. For writers that cannot survive a full disk themselves: HDF5 2.0
    crashes the process (a segmentation fault) when it closes a file whose writes failed."""
    try:
        stats = os.statvfs(Path(path).parent)
    except (OSError, AttributeError):  # no statvfs (Windows): let the write report it
        return
    if stats.f_bavail * stats.f_frsize < needed + (SPACE_RESERVE if reserve is None else reserve):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))


def try_lock(handle) -> bool:
    """Take an exclusive OS lock on an open file without waiting; False if another process
    holds it. The lock goes when the file is closed or the process dies (even by kill -9)."""
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def make_public(path: Path, directory: bool = False) -> None:
    """Give a temp-file-made path the permissions a plain create would (mkstemp/mkdtemp
    make them private to the owner)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def sha256_file(path: Path | str, chunk: int = 1 << 20, should_stop: StopCheck = never_stop) -> str:
    """Hex SHA-256 of a file's bytes; :class:`~engine.progress.Cancelled` as soon as
    ``should_stop()`` turns true (asked before each ``chunk`` bytes read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while not should_stop():
            block = handle.read(chunk)
            if not block:
                return digest.hexdigest()
            digest.update(block)
    raise Cancelled()
