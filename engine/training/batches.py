"""Deterministic, resumable batch order: a seeded permutation per epoch, sharded per rank."""

from __future__ import annotations

import signal

import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import DataError, Message, option
from .distributed import DistContext


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int,
                  context: DistContext = DistContext()) -> list[list[int]]:
    """This rank's index batches for ``epoch`` (incomplete last batch dropped)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed((seed * 100_003 + epoch) & (2**63 - 1)))
    shard = order[context.rank::context.world_size].tolist()
    usable = len(shard) // batch_size * batch_size
    return [shard[i:i + batch_size] for i in range(0, usable, batch_size)]


def iters_per_epoch(n: int, batch_size: int, context: DistContext = DistContext()) -> int:
    per_rank = n // context.world_size
    if per_rank < batch_size:
        raise DataError(Message(f"the training split has {n} pairs: fewer than one batch of {batch_size} "
                                "per process (use a smaller ", option("batch_size"), ")"))
    return per_rank // batch_size


def epoch_number(iteration: int, per_epoch: int, total_epochs: int) -> int:
    """The epoch (counted from 1) that the ``iteration``-th iteration (counted from 1) belongs
    to, at most ``total_epochs``: an epoch's last iteration is of that epoch, not the next."""
    return min(max(iteration - 1, 0) // max(per_epoch, 1) + 1, total_epochs)


def ignore_interrupts(worker_id: int = 0) -> None:
    """A loader worker's start: Ctrl-C reaches every process of the terminal's group, and the
    training process alone handles it (it finishes the step and saves the state). A worker
    that took it itself would die (spawned) or announce a stop of its own (forked), and the
    save would fail on a broken loader."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def epoch_loader(dataset: Dataset, batches: list[list[int]], workers: int,
                 pin_memory: bool) -> DataLoader:
    # A private generator: creating a loader must not draw from the global RNG, or a run
    # resumed mid-epoch (one extra loader) would diverge from an uninterrupted one.
    return DataLoader(dataset, batch_sampler=batches, num_workers=workers,
                      pin_memory=pin_memory, persistent_workers=False,
                      worker_init_fn=ignore_interrupts if workers else None,
                      generator=torch.Generator().manual_seed(0))
