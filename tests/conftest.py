"""Shared test setup: offscreen Qt, fixture paths, tiny networks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent

def find_fixtures() -> Path:
    """The shared fixtures folder: $CARDIGAN_FIXTURES, ../shared/fixtures or /work/shared/fixtures."""
    candidates = [os.environ.get("CARDIGAN_FIXTURES"), REPO.parent / "shared" / "fixtures",
                  "/work/shared/fixtures"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared" / "fixtures"


FIXTURES = find_fixtures()
NVLABS_FIXTURE = FIXTURES / "nvlabs-spade" / "seedlike_ngf8"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A tiny native model file for the studio's tests (one per test module)."""
    from cardigan_app.testing import make_model_file

    return make_model_file(tmp_path_factory.mktemp("models") / "tiny.safetensors")


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
