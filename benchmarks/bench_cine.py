"""Cine loops: speed, flicker, speckle tracking and ejection fraction, in one run.

For ``--loops`` shape-model patients (4CH, 256x256, 32 frames, one full cycle):

- time from request to a playable loop (masks, motion field, 32 frames synthesized) against
  32 single syntheses of the same masks, on this machine's threads, after one untimed
  warm-up loop;
- flicker where the labels do not change: the loop (one noise map carried with the tissue),
  the worst case (a fresh seed every frame) and a still frame repeated (zero);
- speckle tracking on the moving wall: the share of patches that correlate better displaced
  by the motion than left in place;
- the speckle's frame-to-frame correlation per region (high in tissue, low in the blood
  pools, whose noise is drawn afresh every frame);
- the loop's ejection fraction (area) against the heart's own.

    python benchmarks/bench_cine.py --model demo --loops 5 --out benchmarks/results/cine_cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.anatomy import ShapeModel  # noqa: E402
from engine.cine import Timing, synthesize_loop  # noqa: E402
from engine.cine.loop import CineLoop, loop_from_heart  # noqa: E402
from engine.cli.options import check_output_file, int_in_range  # noqa: E402
from engine.errors import CardiganError  # noqa: E402
from engine.cine.measures import brightness_jumps, detail_correlation, far_field_flicker, flicker, speckle_tracking  # noqa: E402
from engine.synthesizer import Synthesizer, to_uint8  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="the model to synthesize with (default demo)")
    parser.add_argument("--loops", type=int_in_range(1, 1000), default=5,
                        help="patients, one loop each (default 5; the medians are reported)")
    parser.add_argument("--frames", type=int_in_range(2, 2000), default=32, help="frames per loop (default 32)")
    parser.add_argument("--size", type=int_in_range(32, 1024), default=256, help="image size in pixels (default 256)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    parser.add_argument("--carried-blood", action="store_true",
                        help="carry the pools' noise with the wall as the tissue's (the loops before fresh blood)")
    parser.add_argument("--unsteady", action="store_true",
                        help="leave each frame's brightness as drawn (the loops before engine/cine/steady.py)")
    args = parser.parse_args(argv)
    if args.out:
        try:
            check_output_file(args.out)  # before minutes of work, not after
        except CardiganError as exc:
            parser.error(str(exc))
    import torch

    synth = Synthesizer(args.model, device="cpu")
    model = ShapeModel.default()
    timing = Timing(frames=args.frames, bpm=65, fps=args.frames * 65 / 60)
    # one untimed loop first: the first masks, motion field and frames of a run pay for
    # allocation and lazy set-up (a third longer), which would count against the first patient
    synthesize_loop(synth, loop_from_heart(model, model.draw(999), "4CH", args.size, timing), seed=999,
                    fresh_blood=not args.carried_blood, steady=not args.unsteady)
    rows = []
    for index in range(args.loops):
        heart = model.draw(1000 + index)
        start = time.perf_counter()
        loop = loop_from_heart(model, heart, "4CH", args.size, timing)
        made = time.perf_counter()
        images = synthesize_loop(synth, loop, seed=index, fresh_blood=not args.carried_blood,
                                 steady=not args.unsteady)
        done = time.perf_counter()
        singles = time.perf_counter()
        fresh = np.stack([to_uint8(synth.synthesize(mask, seed=10_000 + k)) for k, mask in enumerate(loop.masks)])
        singles = time.perf_counter() - singles
        still = np.stack([images[0]] * loop.frames)
        still_loop = CineLoop(np.stack([loop.masks[0]] * loop.frames), loop.phases, loop.field, timing)
        tracking = speckle_tracking(images, loop.masks, loop.field, loop.phases)
        rows.append({
            "masks_and_motion_s": made - start, "frames_s": done - made, "total_s": done - start,
            "single_syntheses_s": singles, "ratio_to_singles": (done - start) / singles,
            "flicker_loop": flicker(images, loop.masks), "flicker_fresh_seeds": flicker(fresh, loop.masks),
            "flicker_still": flicker(still, still_loop.masks),
            **{f"far_field_flicker_{k}": v for k, v in far_field_flicker(images, loop.masks).items()},
            **{f"far_field_flicker_fresh_{k}": v for k, v in far_field_flicker(fresh, loop.masks).items()},
            **{f"jump_{region}_{k}": v for region, jumps in brightness_jumps(images, loop.masks).items()
               for k, v in jumps.items()},
            "tracking_share": tracking["share_better_displaced"], "tracking_patches": tracking["patches"],
            **{f"detail_corr_{region}": value for region, value in detail_correlation(images, loop.masks).items()},
            "ef_loop": loop.ejection_fraction(), "ef_heart": model.ejection_fraction(heart, "4CH"),
            "invalid_frames": len(loop.invalid_frames()),
        })
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}))
    summary = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    summary["flicker_share_of_fresh"] = summary["flicker_loop"] / summary["flicker_fresh_seeds"]
    summary["ef_error_max"] = max(abs(r["ef_loop"] - r["ef_heart"]) for r in rows)
    report = {"model": synth.model.name, "threads": torch.get_num_threads(), "frames": args.frames,
              "size": args.size, "loops": rows, "median": summary}
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
