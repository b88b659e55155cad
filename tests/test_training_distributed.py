"""Training under torchrun on the CPU (gloo): two processes on a tiny phantom dataset.

Each process is started as torchrun starts it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT), so these tests need no launcher; a test fails rather than hangs when a process
waits for one that gave up (``timeout``).
"""

import json
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


# rank 1's third step reports a NaN loss (its weights stay finite), then `cardigan train ARGS`
NAN_ON_RANK_1 = """
import os, sys, torch
from engine.training import trainer
if os.environ["RANK"] == "1":
    step, calls = trainer.Trainer.step, []
    def nan_step(self, *args, **kwargs):
        losses = step(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            losses["G_GAN"] = torch.tensor(float("nan"))
        return losses
    trainer.Trainer.step = nan_step
from engine.cli.main import main
sys.exit(main(["train", *sys.argv[1:]]))
"""


def torchrun(args: list[str], processes: int = 2, timeout: float = 120, code: str | None = None):
    """Run ``python -m engine train ARGS`` (or ``python -c CODE ARGS``) as ``processes`` ranks;
    (exit code, stderr) per rank. The rendezvous port is free when chosen but could be taken
    before rank 0 binds it (another test worker): then the ranks run again on another port."""
    for _ in range(3):
        results = _ranks(args, processes, timeout, code, str(free_port()))
        if not any(PORT_TAKEN in err.lower() for _, err in results):
            break
    return results


PORT_TAKEN = "address already in use"


def _ranks(args: list[str], processes: int, timeout: float, code: str | None, port: str):
    procs = []
    for rank in range(processes):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(processes),
               "LOCAL_WORLD_SIZE": str(processes), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port,
               "OMP_NUM_THREADS": "1"}
        command = ["-c", code] if code else ["-m", "engine", "train"]
        procs.append(subprocess.Popen([sys.executable, *command, *args], cwd=REPO, env=env,
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


def test_a_nan_loss_on_one_rank_stops_every_rank_before_anything_of_it_is_saved(phantom, tmp_path):
    run = tmp_path / "run"
    results = torchrun(["--data", str(phantom), "--run-dir", str(run), "--iters", "4", *TINY], code=NAN_ON_RANK_1)
    for code, err in results:
        assert code == 1, err
        assert "Traceback" not in err, err
        (line,) = errors_of(err)
        assert "training diverged at iteration 3: the G_GAN loss is nan" in line, err
        assert "the state of iteration 2" in line, err
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["state_00000002.pt"]
    iterations = [json.loads(line)["iter"] for line in (run / "stats.jsonl").read_text().splitlines()]
    assert iterations == [1, 2]


def test_every_rank_gets_its_own_shard_of_the_same_epoch_order():
    from engine.training.batches import epoch_batches, iters_per_epoch
    from engine.training.distributed import DistContext

    ranks = [DistContext(rank, 2) for rank in range(2)]
    shards = [sum(epoch_batches(9, 2, epoch=3, seed=5, context=c), []) for c in ranks]
    assert not set(shards[0]) & set(shards[1])
    assert len(shards[0]) == len(shards[1]) == 2 * iters_per_epoch(9, 2, ranks[0])
    assert shards == [sum(epoch_batches(9, 2, epoch=3, seed=5, context=c), []) for c in ranks]
    assert sum(epoch_batches(9, 2, epoch=4, seed=5, context=ranks[0]), []) != shards[0]


# each rank reports its G_GAN loss as 10 times its rank plus one, then `cardigan train ARGS`
KNOWN_LOSS_PER_RANK = """
import os, sys, torch
from engine.training import trainer
step = trainer.Trainer.step
def known_step(self, *args, **kwargs):
    losses = step(self, *args, **kwargs)
    losses["G_GAN"] = torch.tensor(10.0 * int(os.environ["RANK"]) + 1.0)
    return losses
trainer.Trainer.step = known_step
from engine.cli.main import main
sys.exit(main(["train", *sys.argv[1:]]))
"""


def test_a_two_process_run_writes_one_folder_and_a_plain_model_resumes_and_logs_mean_losses(phantom, tmp_path):
    """A run of two processes, then its resumption with each rank reporting a known loss
    (one start of two processes serves both checks)."""
    import torch
    from safetensors import safe_open

    from engine.models import open_model
    from engine.training.state import list_states

    run = tmp_path / "run"
    results = torchrun(["--data", str(phantom), "--run-dir", str(run), "--iters", "2", *TINY])
    assert [code for code, _ in results] == [0, 0], results
    assert "training on cpu" in results[0][1] and "training on" not in results[1][1]  # rank 0 reports
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.json",  # no .lock once it ends
                                                     "model.safetensors", "samples", "stats.jsonl"]
    records = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in records] == [1, 2] and records[-1]["Progress/world_size"] == 2
    with safe_open(str(run / "model.safetensors"), "pt") as model:
        assert not [key for key in model.keys() if "module." in key]
    open_model(run / "model.safetensors")  # loads as a single process's model does
    state = torch.load(list_states(run / "checkpoints")[-1], weights_only=True)
    assert state["world_size"] == 2 and state["iteration"] == 2

    results = torchrun(["--run-dir", str(run), "--resume", "--iters", "4", "--threads", "1"],
                       code=KNOWN_LOSS_PER_RANK)
    assert [code for code, _ in results] == [0, 0], results
    assert "resuming from iteration 2" in results[0][1]
    records = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [r["iter"] for r in records] == [1, 2, 3, 4]
    assert [r["Loss/G_GAN"] for r in records[2:]] == [6.0, 6.0]  # (1 + 11) / 2, not process 0's 1


@pytest.fixture
def launched_as_rank(monkeypatch):
    """``launched_as_rank(local_rank)``: the environment torchrun gives a process of a run of
    two; joining the process group fails the test (the device must be refused before)."""
    from engine.training import distributed

    def launch(local_rank: int) -> None:
        for name, value in {"RANK": local_rank, "LOCAL_RANK": local_rank, "WORLD_SIZE": 2}.items():
            monkeypatch.setenv(name, str(value))

    def joined(*args, **kwargs):
        raise AssertionError("joined the process group")

    monkeypatch.setattr(distributed.dist, "init_process_group", joined)
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: False)
    return launch


def test_cuda_asked_for_under_torchrun_without_a_gpu_is_refused_not_replaced_by_the_cpu(launched_as_rank, monkeypatch):
    from engine.errors import DeviceError
    from engine.training import distributed

    launched_as_rank(0)
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        distributed.setup("cuda")


def test_more_processes_than_gpus_on_a_machine_is_refused_in_one_line(launched_as_rank, monkeypatch):
    from engine.errors import DeviceError
    from engine.training import distributed

    launched_as_rank(1)
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(distributed.torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(distributed.torch.cuda, "set_device", lambda device: None)
    for spec in ("auto", "cuda", "cuda:0"):
        with pytest.raises(DeviceError, match=r"at most 1 process\(es\) per machine"):
            distributed.setup(spec)
    # the machine's first process, which has a GPU, refuses too: it is the one that reports
    launched_as_rank(0)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(DeviceError, match=r"^2 processes were started on this machine and it has 1 CUDA device"):
        distributed.setup("cuda")


def test_a_step_ends_with_one_collective_that_carries_both_the_problem_and_the_stop(monkeypatch):
    import torch
    import torch.distributed as dist

    from engine.errors import CardiganError
    from engine.training.distributed import DistContext, after_step

    calls = []

    def all_reduce(tensor, op=None):  # a peer that wants to stop and met no problem
        calls.append(tensor.clone())
        tensor[1] = 1.0

    monkeypatch.setattr(dist, "all_reduce", all_reduce)
    context = DistContext(rank=0, world_size=2)
    assert after_step(context, None, False, torch.device("cpu")) is True  # the peer's stop heard
    assert len(calls) == 1 and calls[0].tolist() == [0.0, 0.0]
    monkeypatch.setattr(dist, "all_gather_object", lambda out, obj: out.__setitem__(slice(None), [obj, None]))
    with pytest.raises(CardiganError, match="loss is NaN"):
        after_step(context, CardiganError("loss is NaN"), False, torch.device("cpu"))
    assert len(calls) == 2 and calls[1].tolist() == [1.0, 0.0]
    assert after_step(DistContext(), None, True, torch.device("cpu")) is True and len(calls) == 2  # alone: none


@pytest.mark.parametrize("rank", [0, 1])
def test_a_device_refused_under_torchrun_is_reported_by_rank_0_alone(rank, launched_as_rank, monkeypatch,
                                                                     phantom, tmp_path, capsys):
    """Every process refuses a device the machine lacks; only rank 0 sends the Failed event,
    from the training and from the command, and every process exits with the same code."""
    import io

    import torch

    from engine.cli.main import main
    from engine.errors import DeviceError
    from engine.training.config import resolve_config
    from engine.training.events import Failed, TrainCallbacks
    from engine.training.loop import train

    launched_as_rank(rank)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the stop watcher reads the app's pipe
    events = []
    config = resolve_config("lite", ngf=4, ndf=8, image_size=64, iters=2, device="cuda")
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        train(config, phantom, tmp_path / "run", TrainCallbacks(events.append))
    assert [type(event) for event in events] == ([Failed] if rank == 0 else [])

    args = ["train", "--data", str(phantom), "--run-dir", str(tmp_path / "run"), "--preset", "lite", "--ngf", "4",
            "--ndf", "8", "--size", "64", "--iters", "2", "--device", "cuda", "--events-jsonl"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    sent = [json.loads(line) for line in out.splitlines()]
    assert [event["type"] for event in sent] == (["Failed"] if rank == 0 else []), sent
    assert "no CUDA GPU" in err and not (tmp_path / "run").exists()
