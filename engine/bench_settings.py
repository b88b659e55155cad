"""The budgets of a speed benchmark (:class:`BenchSettings`) and what ``--quick`` shrinks.

Apart from :mod:`engine.bench`, which times the networks, so that the command line's help
can give them without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass

PEAK_REPEATS = {False: 4, True: 2}  # the machine peaks' runs, by quick


@dataclass(frozen=True)
class BenchSettings:
    size: int = 256
    batches: tuple[int, ...] = (1, 16, 64)
    repeats: int = 5
    train_batch: int = 16
    train_steps: int = 5
    ngf: int | None = None  # narrower networks than the real configurations (smoke tests)
    train_presets: tuple[str, ...] = ("lite", "seed")
    dabs: int = 8  # incremental synthesis: dabs timed per configuration (0: skip)
    dab_size: int = 15

    @classmethod
    def for_device(cls, device, quick: bool) -> "BenchSettings":
        """The budgets for ``device`` (a torch.device or its type, "cpu", "cuda", ...)."""
        if getattr(device, "type", device) == "cpu":
            # Larger batches do not raise CPU throughput; they only make the run long.
            return cls(batches=(1, 4), repeats=2 if quick else 4, train_batch=0,
                       train_steps=2 if quick else 4, size=256)
        return cls(repeats=5 if quick else 20, train_steps=5 if quick else 20)


# what a quick run costs on a small machine, measured (a 2-core CPU other work shared)
QUICK_DURATION = ("Each run of the seed network at 256 px takes seconds on a CPU: about 5 minutes on a "
                  "2-core CPU with --no-training (--threads 1 when other work shares the cores)")


def quick_reductions() -> str:
    """What ``--quick`` shrinks (:meth:`BenchSettings.for_device`, :data:`PEAK_REPEATS`), in
    words for a help: fewer repetitions, every figure still measured."""
    cpu, cpu_quick = BenchSettings.for_device("cpu", False), BenchSettings.for_device("cpu", True)
    gpu, gpu_quick = BenchSettings.for_device("cuda", False), BenchSettings.for_device("cuda", True)
    return (f"fewer repetitions, every figure still measured: each timing the median of {cpu_quick.repeats} runs "
            f"on a CPU, {gpu_quick.repeats} on a GPU (not {cpu.repeats}, {gpu.repeats}); {cpu_quick.train_steps} "
            f"and {gpu_quick.train_steps} training steps per preset (not {cpu.train_steps}, {gpu.train_steps}); "
            f"{PEAK_REPEATS[True]} runs of each peak (not {PEAK_REPEATS[False]}). {QUICK_DURATION}")
