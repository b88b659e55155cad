"""Real small (or read-only) filesystems for tests of full disks and unwritable folders.

A tmpfs is mounted when the test runs as root and mounting works here; otherwise the test
that asked for one is skipped (tests/test_disk_full.py keeps simulated faults that run anywhere).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def can_mount() -> bool:
    """Root can mount; CARDIGAN_TEST_NO_MOUNT=1 runs the simulated variants instead."""
    if os.environ.get("CARDIGAN_TEST_NO_MOUNT"):
        return False
    return hasattr(os, "geteuid") and os.geteuid() == 0


@contextlib.contextmanager
def tmpfs(folder: Path, size_kib: int, read_only: bool = False) -> Iterator[Path]:
    """Mount a tmpfs of ``size_kib`` KiB on ``folder`` (created) for the block; skip the test
    when this process cannot mount."""
    if not can_mount():
        pytest.skip("mounting a small filesystem needs root")
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kib}k" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """A folder nobody can write into: a read-only tmpfs as root, else a folder without
    write permission (which root would ignore, so root without mounting skips)."""
    if can_mount():
        with tmpfs(folder, 64, read_only=True):
            yield folder
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root writes into any folder and cannot mount a read-only one here")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
