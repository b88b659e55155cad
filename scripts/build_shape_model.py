"""Build the shipped statistical shape model from a prepared CAMUS dataset's train split.

    python scripts/build_shape_model.py --data data/camus256

Reads ``<data>/train/label/*.png`` (stems ``patientNNNN_<2CH|4CH>_<ED|ES>``) and the fan each
was drawn in (its PNG's record, else the manifest's; ``cardigan prepare`` fits one to every
image; a mask with none or a damaged one is taken in its view's median fan, and the summary
says how many were), builds the model with each mask taken back from its fan to its view's median fan
(:mod:`engine.anatomy.model_building`, :mod:`engine.anatomy.placement`) and writes
``resources/anatomy/shape_model.json``: only statistics (mean landmarks, principal modes, pose
distribution, slider directions, presets), never a mask. The file is derived from CAMUS and carries its terms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from engine.anatomy.model_building import patients_and_fans_from_folder  # noqa: E402
from engine.data.dataset_folder import DAMAGED_FAN_RECORD, NO_FAN_RECORD  # noqa: E402
from engine.anatomy.shape_model import CAMUS_TERMS, RESOURCE, ShapeModel  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="prepared CAMUS dataset (train split used)")
    parser.add_argument("--out", type=Path, default=HERE / "resources" / Path(*RESOURCE))
    parser.add_argument("--variance", type=float, default=0.97, help="share of the variance the modes keep")
    args = parser.parse_args(argv)
    start = time.time()
    patients, fans, missing = patients_and_fans_from_folder(args.data, ["train"])
    if not patients:
        print(f"no label maps under {args.data}/train/label", file=sys.stderr)
        return 1
    source = (f"CAMUS 2023 release, official train split ({len(patients)} patients), prepared at "
              "256 x 256, each mask taken in the fan fitted to its image; built by scripts/build_shape_model.py")
    model = ShapeModel.build(patients, variance=args.variance, terms=CAMUS_TERMS, source=source, fans=fans)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    stats = model.stats
    print(f"{stats['patients']} patients used, skipped: {stats['skipped'] or 'none'}; "
          f"{missing[NO_FAN_RECORD]} masks had no fan record and {missing[DAMAGED_FAN_RECORD]} a damaged one "
          "(taken in their view's median fan)")
    print(f"{model.shapes} modes keep {stats['explained_variance']:.1%} of the variance; "
          f"wrote {args.out} ({args.out.stat().st_size / 1024:.1f} kB) in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
