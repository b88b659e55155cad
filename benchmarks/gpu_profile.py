"""Where the GPU synthesis time goes, and what torch.compile adds on top of engine.fast.

1. A kernel table (torch.profiler) of the seed configuration at batch 64, engine.fast dense
   bfloat16, grouped by kernel name;
2. torch.compile (inductor, mode reduce-overhead) of the plain network under bf16 autocast
   and of engine.fast dense bfloat16, at batch 1 and 64, with compile time.

    python benchmarks/gpu_profile.py --out profile.json [--budget 240]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.bench import bench_configs, label_batch, time_call  # noqa: E402
from engine.fast import optimize_for_inference  # noqa: E402
from engine.nets import SPADEGenerator  # noqa: E402


def kernel_table(fn, rows: int = 25) -> str:
    from torch.profiler import ProfilerActivity, profile

    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
    return prof.key_averages().table(sort_by="cuda_time_total", row_limit=rows, max_name_column_width=70)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--budget", type=float, default=240.0, help="seconds; later steps are skipped")
    args = parser.parse_args()
    start = time.perf_counter()
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    plain = SPADEGenerator(bench_configs()["seed"]).to(device).eval()
    fast = optimize_for_inference(plain, device, mode="dense", dtype=torch.bfloat16)
    report = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "rows": []}
    seg64 = label_batch(64, 256).to(device)
    lbl64 = seg64.argmax(1)
    with torch.inference_mode():
        table = kernel_table(lambda: fast(seg64, labels=lbl64))
    print(table, flush=True)
    report["kernels_fast_dense_bf16_b64"] = table

    run_fast = fast.forward.__wrapped__  # without its inference_mode decorator, for dynamo

    def fast_body(seg, labels):
        return run_fast(fast, seg, None, labels)

    def plain_body(seg, labels):
        with torch.autocast("cuda", torch.bfloat16):
            return plain(seg).float()

    for name, body in (("compiled engine.fast dense bf16", fast_body),
                       ("compiled plain bf16 autocast", plain_body)):
        for batch in (1, 64):
            if time.perf_counter() - start > args.budget:
                print(f"budget spent: skipping {name} batch {batch}", flush=True)
                continue
            seg = label_batch(batch, 256).to(device)
            labels = seg.argmax(1)
            try:
                torch._dynamo.reset()
                compiled = torch.compile(body, mode="reduce-overhead", dynamic=False)
                t0 = time.perf_counter()
                with torch.no_grad():
                    for _ in range(3):
                        compiled(seg, labels)
                    torch.cuda.synchronize()
                    compile_s = time.perf_counter() - t0
                    seconds = time_call(lambda: compiled(seg, labels), device, 20, warmup=2)
                    with torch.inference_mode():
                        reference = plain(seg)
                    diff = (compiled(seg, labels).float() - reference).abs().mean().item()
                row = {"variant": name, "batch": batch, "compile_s": round(compile_s, 1),
                       "ms_per_image": round(1000 * seconds / batch, 4), "img_s": round(batch / seconds, 1),
                       "mean_abs_diff": round(diff, 5)}
            except Exception as error:
                row = {"variant": name, "batch": batch, "error": f"{type(error).__name__}: {error}"[:400]}
            report["rows"].append(row)
            print(json.dumps(row), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
