"""Training speed of real ``cardigan train`` runs: this tree against an earlier revision.

    python benchmarks/bench_training.py --data data/camus --baseline-rev 6026318 \\
        --baseline-flags "--preset lite" --variant "lite float32=--preset lite --amp off" \\
        --variant "lite=--preset lite"

Each variant is a name and the ``cardigan train`` flags it adds; the baseline revision (a
git worktree made in a temporary folder) runs ``--baseline-flags``. Runs alternate
between the trees for ``--rounds`` rounds, so a busy machine slows both alike; the speed of
a run is the images/s ``stats.jsonl`` reports after its first logging window (warm-up).
The JSON printed last holds every run and the median per variant.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def run_training(tree: Path, data: Path, flags: list[str], iters: int, batch: int, threads: int | None) -> float:
    """img/s of one training run of ``iters`` iterations (first logging window excluded)."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as run:
        command = [sys.executable, "-m", "engine", "train", "--data", str(data), "--run", run,
                   "--iters", str(iters), "--batch-size", str(batch), "--device", "cpu",
                   "--log-every", "10", "--sample-every", str(10 * iters),
                   "--checkpoint-every", str(10 * iters), *flags]
        if threads:
            command += ["--threads", str(threads)]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run(command, cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        records = [json.loads(line) for line in (Path(run) / "stats.jsonl").read_text().splitlines()]
    speeds = [r.get("Progress/img_per_s", r.get("img_per_s")) for r in records[1:]]
    return statistics.mean(speeds)


def parse_variant(text: str) -> tuple[str, list[str]]:
    name, _, flags = text.partition("=")
    return name.strip(), shlex.split(flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=FLAGS",
                        help="a name and the train flags it adds (repeatable)")
    parser.add_argument("--baseline-rev", default=None, help="git revision to compare against")
    parser.add_argument("--baseline-flags", default="--preset lite", help="train flags of the baseline run")
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    trees: list[tuple[str, Path, list[str]]] = []
    worktree = None
    if args.baseline_rev:
        worktree = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(worktree),
                        args.baseline_rev], check=True, stdout=subprocess.DEVNULL)
        trees.append((f"baseline {args.baseline_rev}", worktree, shlex.split(args.baseline_flags)))
    trees += [(name, HERE, flags) for name, flags in variants]
    runs: dict[str, list[float]] = {name: [] for name, _, _ in trees}
    try:
        for round_ in range(args.rounds):
            for name, tree, flags in trees:
                speed = run_training(tree, args.data.resolve(), flags, args.iters, args.batch_size, args.threads)
                runs[name].append(round(speed, 3))
                print(f"round {round_ + 1}  {name:<40} {speed:7.2f} img/s", flush=True)
    finally:
        if worktree is not None:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(worktree)],
                           check=False)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    reference = next(iter(medians.values()))
    print()
    for name, value in medians.items():
        print(f"{name:<48} {value:7.2f} img/s   x{value / reference:.2f}")
    import torch

    print(json.dumps({"torch": torch.__version__, "batch_size": args.batch_size, "iters": args.iters,
                      "runs": runs, "median_img_per_s": medians,
                      "variants": {name: flags for name, _, flags in trees}}))


if __name__ == "__main__":
    main()
