"""Training under torchrun on the CPU (gloo): two processes on a tiny phantom dataset.

Each process is started as torchrun starts it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT), so these tests need no launcher; a test fails rather than hangs when a process
waits for one that gave up (``timeout``).
"""

import os
import socket
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--preset", "lite", "--ngf", "4", "--ndf", "8", "--size", "64", "--n-layers-d", "3",
        "--batch-size", "2", "--device", "cpu", "--threads", "1", "--log-every", "1",
        "--checkpoint-every", "2"]


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    from engine.data.phantom import write_phantom

    out = tmp_path_factory.mktemp("phantom") / "data"
    write_phantom(out, count=4, size=64, seed=0)
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(args: list[str], processes: int = 2, timeout: float = 120, extra_env: dict | None = None):
    """Run ``python -m engine train ARGS`` as ``processes`` ranks; (exit code, stderr) per rank."""
    port = str(free_port())
    procs = []
    for rank in range(processes):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(processes),
               "LOCAL_WORLD_SIZE": str(processes), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port,
               "OMP_NUM_THREADS": "1", **(extra_env or {})}
        procs.append(subprocess.Popen([sys.executable, "-m", "engine", "train", *args], cwd=REPO, env=env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("cardigan: error:")]


def test_a_start_refused_on_rank_0_stops_every_rank_with_its_one_line(phantom, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text('{"preset": "lite"}')
    (run / "checkpoints" / "state_00000002.pt").write_bytes(b"x")
    results = torchrun(["--data", str(phantom), "--run-dir", str(run), "--iters", "2", *TINY])
    for code, err in results:
        assert code == 1, err
        assert "Traceback" not in err, err
        assert len(errors_of(err)) == 1 and "already holds a training run" in errors_of(err)[0], err
    assert (run / "checkpoints" / "state_00000002.pt").read_bytes() == b"x"
