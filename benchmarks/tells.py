"""The glance tells of several models on one prepared dataset, without the segmenters.

What ``cardigan evaluate`` reports under "tells" and "grey levels" (the fan fit, the
spectrum's fine detail and narrow peak, the speckle's direction, streaks along the beam, the
fan's edge band, black holes, brightness across seeds, grey levels per region), for each
model on the same masks and fans, in a few minutes instead of a full evaluation each. The
real images' own values are printed beside them.

    python benchmarks/tells.py --data data/camus256 --model demo --model simulator \
        --model runs/x/model.safetensors --out benchmarks/results/tells.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.evaluation.evaluate import EvalSettings, choose_split, load_split_with_fans, synthesize_all  # noqa: E402
from engine.evaluation.realism import diversity, grey_levels  # noqa: E402
from engine.fan import fan_mask  # noqa: E402
from engine.evaluation.texture import tells  # noqa: E402
from engine.progress import never_stop, no_progress  # noqa: E402
from engine.synthesizer import Synthesizer  # noqa: E402


def measure(model: str, images, labels, fans, sectors, settings: EvalSettings, device: str) -> dict:
    start = time.perf_counter()
    synth = Synthesizer(model, device=device)
    synthetic = synthesize_all(synth, labels, settings.seed, "synthesizing", no_progress, never_stop, fans=fans)
    per_seed, spread = None, 0.0
    if synth.stochastic:
        n = min(settings.diversity_masks, len(labels))
        per_seed = np.stack([synthesize_all(synth, labels[:n], settings.seed + 500_000 * (k + 1), "seeds",
                                            no_progress, never_stop, fans=fans[:n])
                             for k in range(settings.diversity_seeds)])
        spread = diversity(per_seed, sectors[:n])
    report = tells(images, synthetic, labels, fans, per_seed, sector_images=settings.sector_images)
    report["spectrum"].pop("curves")
    return {"model": model, "grey_levels": grey_levels(images, synthetic, labels, sectors),
            "diversity": spread, **report, "seconds": round(time.perf_counter() - start, 1)}


def edge_line(band: dict) -> str:
    """The fan's edge band measure as along/across/fade."""
    return f"{band['along']:.2f}/{band['across']:.2f}/{band['fade']:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", action="append", required=True, help="a model (repeat for several)")
    parser.add_argument("--split", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="JSON report")
    args = parser.parse_args(argv)
    settings = EvalSettings()
    split, _ = choose_split(Path(args.data), args.split)
    images, labels, _stems, fans = load_split_with_fans(Path(args.data), split, None)
    sectors = np.stack([fan_mask(fan, *image.shape) for image, fan in zip(images, fans)])  # as evaluate
    results = [measure(model, images, labels, fans, sectors, settings, args.device) for model in args.model]
    for result in results:
        fan, spec, greys = result["fan"]["synthetic"], result["spectrum"]["synthetic"], result["grey_levels"]
        print(f"{result['model']}: fan IoU given median/min {fan['iou_given_median']:.3f}/"
              f"{fan['iou_given_lowest']:.3f}; spectrum fine {spec['fine_detail']:.2f} "
              f"peak {spec['narrow_peak']:.3f}; holes {result['holes']['synthetic_images']}/"
              f"{result['holes']['images']}; speckle across/along/ratio {result['speckle']['synthetic']['lateral']:.2f}/"
              f"{result['speckle']['synthetic']['axial']:.2f}/{result['speckle']['synthetic']['anisotropy']:.2f}; streaks along/across {result['streaks']['synthetic']['along']:.2f}/{result['streaks']['synthetic']['across']:.2f}; "
              f"edge band along/across/fade {edge_line(result['edge_band']['synthetic'])}; skew {json.dumps({k: round(v, 2) for k, v in result['speckle_skew']['synthetic'].items()})}; saturated {result['saturated']['synthetic_images']}; greys {json.dumps(greys)}; diversity {result['diversity']:.1f}; "
              f"borders {json.dumps({k: round(v['median'], 2) for k, v in result['borders']['synthetic'].items()})}; "
              f"seeds {json.dumps(result.get('seeds', {}))}")
    real = results[0]
    print(f"real: fan IoU sector {real['fan']['real'].get('iou_sector_median', float('nan')):.3f}; "
          f"spectrum {json.dumps(real['spectrum']['real'])}; holes {real['holes']['real_images']}; "
          f"saturated {real['saturated']['real_images']}; speckle {json.dumps(real['speckle']['real'])}; "
          f"streaks along/across {real['streaks']['real']['along']:.2f}/{real['streaks']['real']['across']:.2f}; "
          f"edge band along/across/fade {edge_line(real['edge_band']['real'])}; "
          f"skew {json.dumps({k: round(v, 2) for k, v in real['speckle_skew']['real'].items()})}; "
          f"borders {json.dumps({k: round(v['median'], 2) for k, v in real['borders']['real'].items()})}")
    if args.out:
        Path(args.out).write_text(json.dumps({"split": split, "images": len(images), "results": results},
                                             indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
