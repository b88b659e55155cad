"""Where a training iteration's time goes: phases and the heaviest operators.

    python benchmarks/profile_training.py --data data/camus256 [--preset lite] [--threads 1]
        [--batch-size 4] [--iters 3] [--flags "--no-one-d-pass --no-channels-last"]

Builds the run's Trainer exactly as ``cardigan train`` would (the flags are train flags),
loads real batches through the run's data pipeline and times it separately (decode,
augmentation, deformation), then profiles ``--iters`` iterations with ``torch.profiler``
after two warm-up iterations. Phases: generator forward, discriminator forward (both passes),
the generator's backward, the discriminator's backward, optimiser steps, spectral-norm power
iterations; operators grouped by name and by input shape. Prints a table and, last, a JSON
line with everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def parse_config(preset: str, batch: int, flags: str):
    """The TrainConfig ``cardigan train --preset ... FLAGS`` would resolve."""
    from engine.cli.main import build_parser
    from engine.cli.train import resolve

    args = build_parser().parse_args(["train", "--data", ".", "--run", ".", "--preset", preset,
                                      "--batch-size", str(batch), "--device", "cpu", *shlex.split(flags)])
    return resolve(args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--preset", default="lite")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the preset's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--flags", default="", help="more cardigan train flags")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    import torch
    from torch.profiler import ProfilerActivity, profile, record_function

    from engine.training import trainer as trainer_module
    from engine.training.batches import epoch_batches, epoch_loader
    from engine.training.config import PRESETS
    from engine.training.loop import open_datasets
    from engine.training.objectives import PatchObjective
    from engine.training.trainer import Trainer

    torch.set_num_threads(args.threads)
    batch = args.batch_size or PRESETS[args.preset]["batch_size"]
    config = parse_config(args.preset, batch, args.flags)
    train_set, _ = open_datasets(config, args.data)
    train_set.set_epoch(0)
    order = epoch_batches(len(train_set), batch, 0, config.seed)
    loader = iter(epoch_loader(train_set, order, 0, False))
    count = args.iters + 2
    start = time.perf_counter()
    batches = [next(loader) for _ in range(count)]
    data_s = (time.perf_counter() - start) / count

    torch.manual_seed(config.seed)
    trainer = Trainer(config, torch.device("cpu"))

    # phase labels: wrap the trainer's pieces in record_function ranges
    def labelled(name, fn):
        def wrapper(*a, **k):
            with record_function(f"phase::{name}"):
                return fn(*a, **k)
        return wrapper

    trainer.generate = labelled("generator forward", trainer.generate)
    trainer.image_losses = labelled("image losses (spectrum, coarse, VGG)", trainer.image_losses)
    for method in ("joint_losses", "generator_losses", "discriminator_losses"):
        if hasattr(trainer.objective, method):
            setattr(trainer.objective, method, labelled("discriminator forward", getattr(trainer.objective, method)))
    for name, opt in (("optimiser step (G)", trainer.opt_g), ("optimiser step (D)", trainer.opt_d)):
        opt.step = labelled(name, opt.step)
    original_power = trainer_module.power_iterations_done

    @contextlib.contextmanager
    def power(*a, **k):
        with record_function("phase::spectral-norm power iterations"):
            manager = original_power(*a, **k)
            manager.__enter__()
        try:
            yield
        finally:
            manager.__exit__(None, None, None)

    trainer_module.power_iterations_done = power
    backward = torch.Tensor.backward

    def labelled_backward(self, *a, inputs=None, **k):
        which = "backward"
        if inputs is not None:
            which = "generator backward" if inputs is trainer.g_parameters else "discriminator backward"
        with record_function(f"phase::{which}"):
            return backward(self, *a, inputs=inputs, **k)

    torch.Tensor.backward = labelled_backward

    def step(b):
        seg, real, fan = trainer.inputs(b)
        return trainer.step(seg, real, fan=fan)

    for b in batches[:2]:
        step(b)
    times = []
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for b in batches[2:]:
            start = time.perf_counter()
            losses = step(b)
            float(sum(losses.values()))
            times.append(time.perf_counter() - start)
    iteration_s = statistics.median(times)
    events = prof.key_averages()
    phases = {e.key[len("phase::"):]: e.cpu_time_total / 1e6 / args.iters for e in events if e.key.startswith("phase::")}
    ops = sorted(((e.self_cpu_time_total / 1e6 / args.iters, e.key, e.count // args.iters) for e in events
                  if not e.key.startswith("phase::")), reverse=True)[:args.top]
    by_shape = sorted(((e.self_cpu_time_total / 1e6 / args.iters, e.key, str(e.input_shapes)[:100])
                       for e in prof.key_averages(group_by_input_shape=True)
                       if not e.key.startswith("phase::")), reverse=True)[:args.top]
    one_pass = isinstance(trainer.objective, PatchObjective) and trainer.one_d_pass
    print(f"{args.preset}, batch {batch}, {config.image_size}px, {args.threads} thread(s), dtype "
          f"{trainer.dtype}, generator {trainer.g_memory_format}, one D pass {one_pass}")
    print(f"iteration {1000 * iteration_s:.0f} ms (median of {args.iters}, profiled); data loading "
          f"{1000 * data_s:.0f} ms per batch in-process (workers {config.workers})")
    for name, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40} {1000 * seconds:7.1f} ms  {100 * seconds / iteration_s:5.1f} %")
    print("heaviest operators (self time per iteration):")
    for seconds, name, calls in ops:
        print(f"  {1000 * seconds:7.1f} ms  {name:<40} x{calls}")
    print("by input shape:")
    for seconds, name, shapes in by_shape:
        print(f"  {1000 * seconds:7.1f} ms  {name:<34} {shapes}")
    print(json.dumps({"preset": args.preset, "batch": batch, "threads": args.threads, "flags": args.flags,
                      "iteration_ms": round(1000 * iteration_s, 1), "data_ms_per_batch": round(1000 * data_s, 1),
                      "phases_ms": {k: round(1000 * v, 1) for k, v in phases.items()},
                      "operators_ms": [[round(1000 * s, 1), n, c] for s, n, c in ops]}))


if __name__ == "__main__":
    main()
