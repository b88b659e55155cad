"""Several processes (torchrun): process group, device per rank, stop agreement.

``torchrun --nproc_per_node=N -m engine train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK /
LOCAL_WORLD_SIZE; each process trains on its shard of every epoch, gradients are averaged by
DistributedDataParallel, and only rank 0 writes to the run folder and reports events, a
failed start included (:func:`launched_rank`): the device checks of :func:`setup` refuse on
every process of a machine alike, so rank 0 refuses whenever a process of its machine does.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable, ContextManager, TypeVar

import torch
import torch.distributed as dist

from ..devices import resolve_device
from ..errors import CardiganError, DeviceError

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_rank() -> int:
    """This process's rank as torchrun set it (0 for a single process), known before
    :func:`setup` joins the process group or fails."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0
    return int(os.environ.get("RANK", "0"))


def setup(device_spec: str) -> tuple[DistContext, torch.device]:
    """Join the process group when launched by torchrun; pick this process's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(), resolve_device(device_spec)
    context = DistContext(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if device_spec == "auto":
        use_cuda = torch.cuda.is_available()
    else:
        use_cuda = device_spec.startswith("cuda")
        if use_cuda:
            resolve_device("cuda")  # no CUDA: the same one-line error as a single process's
    if use_cuda:
        device = rank_gpu(context)
        torch.cuda.set_device(device)
    else:
        device = resolve_device("cpu" if device_spec == "auto" else device_spec)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return context, device


def rank_gpu(context: DistContext) -> torch.device:
    """The GPU of this process: the one numbered as its rank on this machine (torchrun's
    LOCAL_RANK), whatever index ``--device cuda:N`` names. Refused on every process of the
    machine when it started more processes (LOCAL_WORLD_SIZE) than it has GPUs, not only on
    those left without one, so its first process says so."""
    count = torch.cuda.device_count()
    processes = max(int(os.environ.get("LOCAL_WORLD_SIZE", "0")), context.local_rank + 1)
    if processes > count:
        raise DeviceError(f"{processes} processes were started on this machine and it has {count} CUDA "
                          f"device(s), one per process: start at most {count} process(es) per machine "
                          "(torchrun --nproc_per_node)")
    return torch.device("cuda", context.local_rank)


def teardown(context: DistContext) -> None:
    if context.active and dist.is_initialized():
        dist.destroy_process_group()


def decided_by_main(context: DistContext, decide: Callable[[], T]) -> T:
    """``decide()`` run on rank 0 alone, its result returned on every rank. A CardiganError it
    raises (a refused start: the folder holds a run, is locked, cannot be resumed with these
    networks) is raised on every rank, so no process goes on to wait for one that gave up."""
    problem, result = None, None
    if context.is_main:
        try:
            result = decide()
        except CardiganError as exc:
            problem = exc
    if context.active:
        verdict = [str(problem) if problem is not None else None, result]
        dist.broadcast_object_list(verdict, src=0)
        if problem is None and verdict[0] is not None:
            raise CardiganError(verdict[0])
        result = verdict[1]
    if problem is not None:
        raise problem
    return result


@contextlib.contextmanager
def held_by_main(context: DistContext, make: Callable[[], ContextManager]):
    """``make()``'s context (the run folder's lock) held by rank 0 alone for the block; when
    rank 0 cannot enter it, every rank raises its error (:func:`decided_by_main`)."""
    with contextlib.ExitStack() as stack:
        def enter() -> None:
            stack.enter_context(make())

        decided_by_main(context, enter)
        yield


def after_step(context: DistContext, problem: CardiganError | None, wants_stop: bool,
               device: torch.device) -> bool:
    """What every rank decides after a training step, in one collective: ``problem`` (met by
    this rank, such as a NaN loss, or None) is raised here and, when any rank met one, an error
    is raised on every rank saying the first one's message, so no process is left waiting for
    a peer that gave up; otherwise True on every rank if any rank wants to stop (rank 0 hears
    the user), for the loop to stop at the end of this step."""
    if context.active:
        flags = torch.tensor([0.0 if problem is None else 1.0, 1.0 if wants_stop else 0.0], device=device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        failed, wants_stop = (value > 0 for value in flags.tolist())
        if failed:
            messages: list[str | None] = [None] * context.world_size
            dist.all_gather_object(messages, None if problem is None else str(problem))
            if problem is None:
                rank, message = next((r, m) for r, m in enumerate(messages) if m is not None)
                raise CardiganError(f"process {rank}: {message}")
    if problem is not None:
        raise problem
    return wants_stop


def mean_over_ranks(context: DistContext, values: dict[str, float], device: torch.device) -> dict[str, float]:
    """``values`` (the same names on every rank: a log window's mean losses) averaged over the
    ranks, in one collective; as they are when there is one process."""
    if not context.active or not values:
        return values
    names = sorted(values)
    summed = torch.tensor([float(values[name]) for name in names], dtype=torch.float64, device=device)
    dist.all_reduce(summed, op=dist.ReduceOp.SUM)
    means = dict(zip(names, (summed / context.world_size).tolist()))
    return {name: means[name] for name in values}  # in the order given


def barrier(context: DistContext) -> None:
    if context.active:
        dist.barrier()
