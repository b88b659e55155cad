"""Safe file writing: every output appears whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import CardiganError


def describe_os_error(exc: OSError, path: Path | str) -> str:
    """One plain line for a failed write or read."""
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: not writable (permission denied)"
    if exc.errno == errno.ENOENT:
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
    if not path.parent.exists():
        raise CardiganError(f"{path.parent}: folder does not exist")
    suffix = suffix if suffix is not None else path.suffix
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{suffix}.tmp",
                                        dir=path.parent)
    except OSError as exc:
        raise CardiganError(describe_os_error(exc, path)) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp made it owner-only; a plain create would not
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CardiganError(describe_os_error(exc, path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
