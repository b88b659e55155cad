"""Shared test setup: offscreen Qt, fixture paths, tiny networks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def share_cores_among_workers() -> None:
    """Under pytest-xdist each worker process gets its share of the cores as its thread count
    (set before torch is imported), so parallel workers do not oversubscribe the machine."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


share_cores_among_workers()

REPO = Path(__file__).resolve().parent.parent


def find_fixtures() -> Path:
    """The shared fixtures folder: $CARDIGAN_FIXTURES when set, else ``shared/fixtures`` beside
    the repository (tests that need it skip when it is not there)."""
    given = os.environ.get("CARDIGAN_FIXTURES")
    return Path(given) if given else REPO.parent / "shared" / "fixtures"


FIXTURES = find_fixtures()
NVLABS_FIXTURE = FIXTURES / "nvlabs-spade" / "seedlike_ngf8"


@pytest.fixture(autouse=True)
def seeded_global_random_state():
    """Every test starts from the same global random state (Python's, NumPy's and torch's,
    when loaded), so no result depends on which tests ran before it."""
    import random
    import sys

    import numpy as np

    random.seed(0)
    np.random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)


@pytest.fixture(autouse=True)
def torch_threads_as_found():
    """The command line's --threads sets the whole process's thread count; a test that passes it
    to main() would otherwise change the arithmetic of every test after it. Each test ends with
    the count it found (tests that load torch first leave it at torch's own default)."""
    import sys

    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    yield
    if threads is not None:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny native model file (ngf 4, 64 px, random weights; one per test module)."""
    from cardigan_app.testing import make_model_file

    return make_model_file(tmp_path_factory.mktemp("models") / "tiny.safetensors")


@pytest.fixture
def bundle_demo(monkeypatch):
    """``bundle_demo(path)``: make ``path`` the demo model this installation bundles (None:
    none is bundled), for one test. Everything that asks goes through
    ``engine.resources.demo_model_path``, so this is the one place to patch."""
    from engine import resources

    def bundle(path: Path | None) -> None:
        monkeypatch.setattr(resources, "demo_model_path", lambda: None if path is None else Path(path))

    return bundle


@pytest.fixture(scope="session")
def nvlabs_fixture() -> Path:
    if not (NVLABS_FIXTURE / "latest_net_G.pth").is_file():
        pytest.skip(f"NVlabs fixture not found at {NVLABS_FIXTURE}")
    return NVLABS_FIXTURE


@pytest.fixture
def exact_cuda():
    """CUDA float32 without TF32, so GPU results can be compared tightly with the CPU's."""
    import torch

    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@pytest.fixture
def one_thread():
    """Tiny networks gain nothing from threads, and on a busy machine OpenMP threads that
    wait for each other make them many times slower."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture
def window(qtbot, tmp_path, tiny_model):
    """The studio on the tiny model, closed after the test (modules may define their own)."""
    from cardigan_app.testing import close_window, open_window

    win = open_window(qtbot, tmp_path, str(tiny_model))
    yield win
    close_window(win)


@pytest.fixture
def active_window(qtbot, tmp_path, tiny_model):
    """The studio on the tiny model as the active window (keys and shortcuts reach it)."""
    from cardigan_app.testing import close_window, open_window

    win = open_window(qtbot, tmp_path, str(tiny_model))
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    yield win
    close_window(win)


@pytest.fixture
def opens(monkeypatch):
    """How many times each file was opened, by its resolved path (a Counter), on any thread:
    through ``open``, ``io.open`` or pathlib (``Path.open``, ``read_bytes``, ``read_text``; one
    open counts once however it is passed along), as Pillow and pydicom open files, and each
    header or image read SimpleITK makes of it (its file readers open a file several times to
    probe its format: one read counts once)."""
    import builtins
    import io
    import threading
    from collections import Counter
    from pathlib import Path

    import SimpleITK as sitk

    opened: Counter = Counter()
    inside = threading.local()  # an open passed on to another (Path.read_text to io.open) counts once

    def counting(real):
        def counted(first, *args, **kwargs):
            file = first.GetFileName() if isinstance(first, sitk.ImageFileReader) else first
            if getattr(inside, "depth", 0) == 0 and isinstance(file, (str, Path)) and str(file):
                opened[Path(file).resolve()] += 1
            inside.depth = getattr(inside, "depth", 0) + 1
            try:
                return real(first, *args, **kwargs)
            finally:
                inside.depth -= 1
        return counted

    monkeypatch.setattr(builtins, "open", counting(builtins.open))
    monkeypatch.setattr(io, "open", counting(io.open))
    for name in ("open", "read_bytes", "read_text"):
        monkeypatch.setattr(Path, name, counting(getattr(Path, name)))
    for name in ("Execute", "ReadImageInformation"):
        monkeypatch.setattr(sitk.ImageFileReader, name, counting(getattr(sitk.ImageFileReader, name)))
    return opened


@pytest.fixture
def ffmpeg_processes(monkeypatch):
    """The ffmpeg processes imageio-ffmpeg starts to encode a video."""
    import subprocess

    import imageio_ffmpeg._io as ffmpeg_io

    started, popen = [], subprocess.Popen

    def recorded(*args, **kwargs):
        process = popen(*args, **kwargs)
        if "libx264" in args[0]:
            started.append(process)
        return process

    monkeypatch.setattr(ffmpeg_io.subprocess, "Popen", recorded)
    return started
