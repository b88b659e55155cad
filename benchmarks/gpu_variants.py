"""What each inference optimisation contributes on a GPU, measured in one run.

Every variant runs the seed configuration (ngf 48, 256 x 256, random weights) on the same
generated apical label maps; each row gives ms per image, images/s and the largest
difference from the plain float32 network's output.

    python benchmarks/gpu_variants.py --out variants.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.bench import bench_configs, label_batch, time_call  # noqa: E402
from engine.fast import optimize_for_inference  # noqa: E402
from engine.fast.graphs import GraphedGenerator  # noqa: E402
from engine.nets import SPADEGenerator  # noqa: E402


def autocast_channels_last(plain: SPADEGenerator, device: torch.device):
    copy = SPADEGenerator(plain.config).to(device).eval()
    copy.load_state_dict(plain.state_dict())
    copy.to(memory_format=torch.channels_last)

    def run(seg, labels):
        with torch.autocast("cuda", torch.bfloat16):
            return copy(seg.contiguous(memory_format=torch.channels_last)).float()
    return run


def fast_variant(plain: SPADEGenerator, device: torch.device, dtype, graphs: bool):
    fast = optimize_for_inference(plain, device, mode="dense", dtype=dtype)
    if graphs:
        graphed = GraphedGenerator(fast)
        return lambda seg, labels: graphed(labels)
    return lambda seg, labels: fast(seg, labels=labels)


def variants(plain: SPADEGenerator, device: torch.device) -> dict:
    """name -> factory() -> callable(seg, labels) -> output (built one at a time: captured
    graphs hold their own memory)."""
    table = {"plain fp32": lambda: (lambda seg, labels: plain(seg)),
             "plain bf16 autocast, channels_last": lambda: autocast_channels_last(plain, device)}
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        for graphs in (False, True):
            label = f"fast dense {name}" + (" + CUDA graphs" if graphs else "")
            table[label] = (lambda d, g: lambda: fast_variant(plain, device, d, g))(dtype, graphs)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--configs", nargs="+", default=["seed", "lite"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    rows = []
    for config_name in args.configs:
        torch.manual_seed(0)
        plain = SPADEGenerator(bench_configs()[config_name]).to(device).eval()
        for batch in args.batches:
            seg = label_batch(batch, 256).to(device)
            labels = seg.argmax(1).to(torch.uint8)
            with torch.inference_mode():
                reference = plain(seg)
                for name, factory in variants(plain, device).items():
                    try:
                        fn = factory()
                        seconds = time_call(lambda: fn(seg, labels), device, args.repeats, warmup=3)
                        diff = (fn(seg, labels).float() - reference).abs()
                        row = {"config": config_name, "batch": batch, "variant": name,
                               "ms_per_image": round(1000 * seconds / batch, 4),
                               "img_s": round(batch / seconds, 1),
                               "max_abs_diff": round(diff.max().item(), 5),
                               "mean_abs_diff": round(diff.mean().item(), 6)}
                    except Exception as error:  # report and go on: one failure must not cost the run
                        row = {"config": config_name, "batch": batch, "variant": name,
                               "error": f"{type(error).__name__}: {error}"[:300]}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    fn = None
                    torch.cuda.empty_cache()
    if args.out:
        args.out.write_text(json.dumps({"gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
                                        "rows": rows}, indent=1))
    print(f"\n{'config':<6}{'batch':>6}  {'variant':<38}{'ms/img':>10}{'img/s':>10}{'max diff':>10}")
    for r in rows:
        if "error" in r:
            print(f"{r['config']:<6}{r['batch']:>6}  {r['variant']:<38} {r['error'][:60]}")
        else:
            print(f"{r['config']:<6}{r['batch']:>6}  {r['variant']:<38}{r['ms_per_image']:>10.3f}"
                  f"{r['img_s']:>10.1f}{r['max_abs_diff']:>10.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
