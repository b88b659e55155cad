"""How real do generated hearts look? The shape model against real masks and the old generator.

    python scripts/shape_model_report.py --data data/camus256

Compares, with the real valid-split masks as the reference set, the nine joint descriptors
(engine.anatomy.descriptors.JOINT) of: real train masks (the reference level), the old
parametric generator and the shape model (``--count`` masks each: count / 4 patients, both
views at ED and ES, 256 x 256). Prints a Markdown table: k-NN precision and recall (k = 3),
the share of masks with all nine descriptors inside the real 5-95 % ranges, EF by area
(median and 5-95 % range, per patient and view) with the share of the real EF range the
generated one covers, and the median wall thickness in pixels; then the shape model's EF
distribution over 2,000 draws and that of all real train patients, for a steadier comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from engine.anatomy import ShapeModel, make_mask, random_patient  # noqa: E402
from engine.anatomy.descriptors import JOINT, joint_descriptors, precision_recall, share_in_range  # noqa: E402
from engine.anatomy.measures import ejection_fraction_by_area  # noqa: E402
from engine.anatomy.model_building import KEYS, VIEWS, patients_from_folder  # noqa: E402

SIZE = 256
EF_DRAWS = 2000


def ef_values(patients: list[dict]) -> np.ndarray:
    return np.array([ejection_fraction_by_area(p[(v, "ED")], p[(v, "ES")]) for p in patients for v in VIEWS])


def train_ef_line(train: dict, rlo: float, rhi: float) -> str:
    ef = ef_values([p for p in train.values() if all(k in p for k in KEYS)])
    lo, mid, hi = np.percentile(ef, [5, 50, 95])
    return f"{mid:.1f} [{lo:.1f}-{hi:.1f}], covering {max(0.0, min(hi, rhi) - max(lo, rlo)) / (rhi - rlo):.2f}"


def row(name: str, real: np.ndarray, real_ef: np.ndarray, patients: list[dict]) -> str:
    masks = [p[key] for p in patients for key in KEYS]
    desc = joint_descriptors(masks)
    precision, recall = precision_recall(real, desc)
    inside = share_in_range(real, desc)
    ef = ef_values(patients)
    lo, mid, hi = np.percentile(ef, [5, 50, 95])
    rlo, rhi = np.percentile(real_ef, [5, 95])
    cover = max(0.0, min(hi, rhi) - max(lo, rlo)) / (rhi - rlo)
    wall = np.nanmedian(desc[:, JOINT.index("wall_thickness")]) * SIZE
    return (f"| {name} ({len(masks)} masks) | {precision:.2f} | {recall:.2f} | {inside:.2f} | "
            f"{mid:.1f} [{lo:.1f}-{hi:.1f}] | {cover:.2f} | {wall:.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="prepared CAMUS dataset (train and valid splits)")
    parser.add_argument("--count", type=int, default=600, help="generated masks per generator")
    parser.add_argument("--model", type=Path, help="a shape model file (default: the shipped one)")
    args = parser.parse_args(argv)
    start = time.time()
    valid = list(patients_from_folder(args.data, ["valid"]).values())
    train = patients_from_folder(args.data, ["train"])
    valid = [p for p in valid if all(k in p for k in KEYS)]
    if not valid or not train:
        print(f"{args.data}: needs train and valid label maps", file=sys.stderr)
        return 1
    real = joint_descriptors([p[key] for p in valid for key in KEYS])
    real_ef = ef_values(valid)
    count = max(1, args.count // 4)
    names = sorted(n for n, p in train.items() if all(k in p for k in KEYS))
    picked = np.random.default_rng(0).choice(len(names), min(count, len(names)), replace=False)
    model = ShapeModel.load(args.model) if args.model else ShapeModel.default()
    parametric = [{(v, p): make_mask(random_patient(seed), v, p, SIZE) for v, p in KEYS} for seed in range(count)]
    drawn = []
    for seed in range(count):
        heart = model.draw(seed)
        drawn.append({(v, p): model.mask(heart, v, p, SIZE) for v, p in KEYS})
    lo, mid, hi = np.percentile(real_ef, [5, 50, 95])
    print(f"Reference: {len(valid)} real valid-split patients ({4 * len(valid)} masks), "
          f"EF by area {mid:.1f} [{lo:.1f}-{hi:.1f}]; shape model {model.fingerprint} ({model.shapes} modes)\n")
    print("| masks | precision | recall | all nine in real 5-95 % | EF by area, median [5-95 %] "
          "| real EF range covered | wall thickness, median px |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(row("real train", real, real_ef, [train[names[i]] for i in picked]))
    print(row("parametric generator", real, real_ef, parametric))
    print(row("shape model", real, real_ef, drawn))
    # EF percentiles of 300 values move by a point or two between samples: the model's own
    # distribution from many more draws (cavity areas of the landmark outlines)
    many = np.array([model.ejection_fraction(model.draw(seed), v) for seed in range(EF_DRAWS) for v in VIEWS])
    lo, mid, hi = np.percentile(many, [5, 50, 95])
    rlo, rhi = np.percentile(real_ef, [5, 95])
    print(f"\nShape model EF by area over {EF_DRAWS} draws (both views): {mid:.1f} [{lo:.1f}-{hi:.1f}], "
          f"covering {max(0.0, min(hi, rhi) - max(lo, rlo)) / (rhi - rlo):.2f} of the real range; "
          f"all real train patients: {train_ef_line(train, rlo, rhi)}")
    print(f"\n({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
