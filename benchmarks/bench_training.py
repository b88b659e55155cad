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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_training(tree: Path, data: Path, flags: list[str], iters: int, batch: int,
                 threads: int | None) -> tuple[float, float | None]:
    """(img/s, img per CPU-second) of one training run of ``iters`` iterations, both after its
    first logging window (warm-up). The second is the process's own CPU time over the same
    iterations: what other work on a shared machine costs it in waiting does not count
    (what it costs in caches and memory bandwidth still does)."""
    with tempfile.TemporaryDirectory(prefix="bench-train-") as run:
        command = [sys.executable, "-m", "engine", "train", "--data", str(data), "--run", run,
                   "--iters", str(iters), "--batch-size", str(batch), "--device", "cpu",
                   "--log-every", "10", "--sample-every", str(10 * iters),
                   "--checkpoint-every", str(10 * iters), *flags]
        if threads:
            command += ["--threads", str(threads)]
        env = {**os.environ, "PYTHONPATH": str(tree)}
        stats = Path(run) / "stats.jsonl"
        errors = tempfile.TemporaryFile()  # not a pipe: nobody reads it while the run goes
        process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        marks: dict[int, float | None] = {}  # logged iteration -> CPU seconds when it appeared
        while process.poll() is None:
            lines = stats.read_text().splitlines() if stats.is_file() else []
            if lines:
                last = json.loads(lines[-1])["iter"] if lines[-1].strip().endswith("}") else None
                if last is not None and last not in marks:
                    marks[last] = cpu_seconds(process.pid)
            time.sleep(0.01)
        errors.seek(0)
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, command, stderr=errors.read()[-4000:])
        records = [json.loads(line) for line in stats.read_text().splitlines()]
    speeds = [r.get("Progress/img_per_s", r.get("img_per_s")) for r in records[1:]]
    first, final = records[0]["iter"], records[-1]["iter"]
    per_cpu = None
    if marks.get(first) is not None and marks.get(final) is not None and marks[final] > marks[first]:
        per_cpu = (final - first) * batch / (marks[final] - marks[first])
    return statistics.mean(speeds), per_cpu


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
    per_cpu: dict[str, list[float]] = {name: [] for name, _, _ in trees}
    try:
        for round_ in range(args.rounds):
            for name, tree, flags in trees:
                speed, cpu = run_training(tree, args.data.resolve(), flags, args.iters, args.batch_size,
                                          args.threads)
                runs[name].append(round(speed, 3))
                if cpu is not None:
                    per_cpu[name].append(round(cpu, 3))
                print(f"round {round_ + 1}  {name:<40} {speed:7.2f} img/s"
                      + (f"  {cpu:6.2f} img per CPU-second" if cpu is not None else ""), flush=True)
    finally:
        if worktree is not None:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(worktree)],
                           check=False)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    cpu_medians = {name: statistics.median(values) for name, values in per_cpu.items() if values}
    reference = next(iter(medians.values()))
    cpu_reference = cpu_medians.get(next(iter(medians)))
    # the ratio of each round's pair, then their median: load that drifts between rounds
    # cancels within a round
    first = next(iter(runs))
    paired = {name: statistics.median(v / b for v, b in zip(values, runs[first])) for name, values in runs.items()}
    print()
    for name, value in medians.items():
        line = f"{name:<48} {value:7.2f} img/s   x{value / reference:.2f} (per round x{paired[name]:.2f})"
        if name in cpu_medians and cpu_reference:
            line += f"   {cpu_medians[name]:6.2f} img per CPU-s   x{cpu_medians[name] / cpu_reference:.2f}"
        print(line)
    import torch

    print(json.dumps({"torch": torch.__version__, "batch_size": args.batch_size, "iters": args.iters,
                      "threads": args.threads, "runs": runs, "median_img_per_s": medians,
                      "ratio_per_round_median": paired, "img_per_cpu_s": per_cpu,
                      "median_img_per_cpu_s": cpu_medians, "load_average_end": os.getloadavg(),
                      "variants": {name: flags for name, _, flags in trees}}))


if __name__ == "__main__":
    main()
