"""Fit the anatomy generator's parameter ranges to real expert masks.

    python scripts/fit_anatomy.py --data data/camus_real

Measures shape descriptors (engine/anatomy/descriptors.py) on the real masks of a prepared
dataset's train split, then adjusts the (low, high) range of every parameter listed in
``engine.anatomy.parametric_table.FITTED`` by coordinate descent until the 5th, 50th and 95th
percentiles of the descriptors of generated masks match the real ones (the generated
5-95 % range aimed a little wider, at the real 4-96 %, so it covers the real masks). It
rewrites the table in ``engine/anatomy/parametric_table.py``, and writes ``docs/anatomy_fit.md`` (real
and generated percentiles, coverage) and ``docs/images/anatomy_fit.png`` (real and
generated distributions; only numbers, never a real mask or image).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from engine.anatomy import PHASES, VIEWS, make_mask, random_patient  # noqa: E402
from engine.anatomy.parametric_table import FITTED, PARAMETERS  # noqa: E402
from engine.data.dataset import PairedDataset  # noqa: E402
from engine.data.layout import parse_stem  # noqa: E402
from engine.anatomy.descriptors import DESCRIPTORS, coverage, describe  # noqa: E402
from range_search import search_ranges  # noqa: E402

BOUNDS = {  # physical limits of each fitted parameter
    "lv_length": (0.2, 1.0), "lv_width": (0.25, 0.9), "wall_thickness": (0.01, 0.12),
    "tilt": (-25.0, 25.0), "apex_x": (0.3, 0.7), "apex_y": (0.0, 0.4), "atrium_size": (0.15, 1.2),
    "atrium_width": (0.5, 1.6), "long_shortening": (0.0, 0.35), "radial_shortening": (0.0, 0.5),
    "wall_thickening": (0.0, 1.0), "atrium_growth": (0.0, 0.6),
}
RATIOS = {  # systole against diastole, per patient and view
    "es_ed_lv_area": "ES / ED LV cavity area",
    "es_ed_la_area": "ES / ED atrium area",
    "es_ed_myo_area": "ES / ED myocardium area",
}


def measure(masks: dict[tuple[str, str, str], np.ndarray]) -> dict[str, np.ndarray]:
    """Descriptors of every mask plus the ES/ED ratios of every (patient, view)."""
    rows = {key: describe(mask) for key, mask in masks.items()}
    out = {name: np.array([r[name] for r in rows.values()]) for name in DESCRIPTORS}
    ratios = {name: [] for name in RATIOS}
    for (patient, view, phase), mask in masks.items():
        if phase != "ED" or (patient, view, "ES") not in masks:
            continue
        es = masks[(patient, view, "ES")]
        for name, label in (("es_ed_lv_area", 1), ("es_ed_la_area", 3), ("es_ed_myo_area", 2)):
            ed_area = (mask == label).sum()
            ratios[name].append((es == label).sum() / ed_area if ed_area else np.nan)
    out.update({name: np.array(values, dtype=float) for name, values in ratios.items()})
    return out


def generated_masks(table: dict, patients: int, size: int) -> dict:
    return {(str(seed), view, phase): make_mask(random_patient(seed, table), view, phase, size)
            for seed in range(patients) for view in VIEWS for phase in PHASES}


def percentiles(values: np.ndarray, qs=(5, 50, 95)) -> np.ndarray:
    values = values[np.isfinite(values)]
    return np.percentile(values, qs) if values.size else np.full(len(qs), np.nan)


def loss(real_targets: dict, generated: dict, real: dict) -> float:
    """Percentile distances in units of the real 4-96 % spread, plus a penalty for every
    descriptor whose coverage falls under 0.88."""
    total = 0.0
    for name, (target, scale) in real_targets.items():
        got = percentiles(generated[name])
        if not np.all(np.isfinite(got)):
            return float("inf")
        total += (abs(got[1] - target[1]) + 0.5 * abs(got[0] - target[0]) + 0.5 * abs(got[2] - target[2])) / scale
        total += 4.0 * max(0.0, 0.88 - coverage(real[name], generated[name]))
    return total


def fit(real: dict, patients: int, size: int, passes: int, log) -> dict:
    targets = {}
    for name, values in real.items():
        q = percentiles(values, (4, 50, 96))
        targets[name] = (q, max(q[2] - q[0], 1e-6))
    table = dict(PARAMETERS)

    def evaluate(candidate: dict) -> float:
        return loss(targets, measure(generated_masks(candidate, patients, size)), real)

    steps = {(name, side): 0.25 * (table[name][1] - table[name][0]) for name in FITTED for side in (0, 1)}
    return search_ranges(table, FITTED, evaluate, steps, BOUNDS, passes, log, min_width=1e-4, min_step=1e-3)


def write_table(table: dict, source: str, real: dict) -> None:
    """Rewrite the fitted ranges, the source line and the real descriptors' percentiles."""
    path = HERE / "engine" / "anatomy" / "parametric_table.py"
    text = path.read_text()
    for name in FITTED:
        low, high = table[name]
        digits = 2 if name == "tilt" else 4
        text = re.sub(rf'"{name}": \([^)]*\)', f'"{name}": ({round(low, digits)}, {round(high, digits)})', text)
    text = re.sub(r'SOURCE = "[^"]*"', f'SOURCE = "{source}"', text)
    rows = "".join(f'    "{name}": ({", ".join(f"{v:.4g}" for v in percentiles(values))}),\n'
                   for name, values in real.items())
    block = ("REAL_DESCRIPTORS: dict[str, tuple[float, float, float]] = {  # 5th, 50th, 95th percentile\n"
             + rows + "}\n")
    if "REAL_DESCRIPTORS" in text:
        text = re.sub(r"REAL_DESCRIPTORS: .*?\n}\n", lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n# What the fit aimed at: the real masks' descriptors (engine/anatomy/descriptors.py).\n" + block
    path.write_text(text)


def report(real: dict, generated: dict, before: dict, path: Path, figure: Path) -> list[float]:
    lines = ["# Anatomy generator against real masks", "",
             "Shape descriptors of 1,600 real expert masks (CAMUS 2023, official train split) and of",
             "generated masks before and after the fit (`python scripts/fit_anatomy.py`). Coverage:",
             "the share of real masks whose value lies inside the generated 5-95 % range (0.90 when",
             "the distributions agree).", "",
             "| descriptor | real 5 / 50 / 95 % | generated after fit | coverage before | coverage after |",
             "| --- | --- | --- | --- | --- |"]
    covs = []
    names = {**DESCRIPTORS, **RATIOS}
    for name, text in names.items():
        r, g = percentiles(real[name]), percentiles(generated[name])
        c0, c1 = coverage(real[name], before[name]), coverage(real[name], generated[name])
        covs.append(c1)
        lines.append(f"| {text} | {r[0]:.3f} / {r[1]:.3f} / {r[2]:.3f} | {g[0]:.3f} / {g[1]:.3f} / {g[2]:.3f}"
                     f" | {c0:.2f} | {c1:.2f} |")
    lines += ["", f"Mean coverage: {np.mean([coverage(real[n], before[n]) for n in names]):.2f} before, "
              f"{np.mean(covs):.2f} after; lowest after: {min(covs):.2f}.", "",
              "![real and generated descriptor distributions](images/anatomy_fit.png)", ""]
    path.write_text("\n".join(lines))
    plot(real, before, generated, names, figure)
    return covs


def plot(real: dict, before: dict, after: dict, names: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 4
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows))
    for ax, (name, text) in zip(axes.ravel(), names.items()):
        values = [v[np.isfinite(v)] for v in (real[name], before[name], after[name])]
        lo, hi = np.percentile(np.concatenate(values), [1, 99])
        bins = np.linspace(lo, hi, 30)
        for v, label, colour in zip(values, ("real", "generated before", "generated after"),
                                    ("#222222", "#E69F00", "#0072B2")):
            ax.hist(v, bins=bins, density=True, histtype="step", linewidth=1.6, label=label, color=colour)
        ax.set_title(text, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def masks_of_revision(rev: str, patients: int, size: int) -> dict:
    """Masks of the anatomy generator as it was at git revision ``rev`` (for the "before"
    column), made by that revision's own code in a temporary worktree."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="anatomy-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), rev],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            out = Path(tmp) / "masks.npz"
            code = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]);"
                    "from engine.anatomy import PHASES, VIEWS, make_mask, random_patient;"
                    "n, size = int(sys.argv[2]), int(sys.argv[3]);"
                    "np.savez_compressed(sys.argv[4], **{f'{s}_{v}_{p}': make_mask(random_patient(s), v, p, size)"
                    " for s in range(n) for v in VIEWS for p in PHASES})")
            subprocess.run([sys.executable, "-c", code, str(tree), str(patients), str(size), str(out)],
                           check=True)
            with np.load(out) as data:
                return {tuple(key.split("_")): data[key] for key in data.files}
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(tree)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="prepared dataset with real masks")
    parser.add_argument("--split", default="train")
    parser.add_argument("--patients", type=int, default=100, help="generated patients per evaluation")
    parser.add_argument("--size", type=int, default=128, help="size of generated masks while fitting")
    parser.add_argument("--passes", type=int, default=12)
    parser.add_argument("--before-rev", default=None,
                        help="git revision whose generator is the 'before' column (default: the table "
                             "as it is now)")
    parser.add_argument("--report-only", action="store_true", help="no fit: report the current table")
    args = parser.parse_args()
    started = time.time()
    dataset = PairedDataset(args.data, args.split)
    masks = {}
    for i, stem in enumerate(dataset.stems):
        parsed = parse_stem(stem)
        if parsed:
            masks[parsed] = dataset.load_pair(i)[1]
    real = measure(masks)
    before = measure(masks_of_revision(args.before_rev, 300, 256) if args.before_rev
                     else generated_masks(PARAMETERS, 300, 256))
    if args.report_only:
        table = dict(PARAMETERS)
    else:
        table = fit(real, args.patients, args.size, args.passes, lambda m: print(m, flush=True))
        write_table(table, f"fitted to {len(masks)} real masks ({args.split} split) by scripts/fit_anatomy.py",
                    real)
    after = measure(generated_masks(table, 300, 256))
    covs = report(real, after, before, HERE / "docs" / "anatomy_fit.md", HERE / "docs" / "images" / "anatomy_fit.png")
    print(json.dumps({name: list(table[name]) for name in FITTED}, indent=1))
    print(f"mean coverage {np.mean(covs):.3f}, lowest {min(covs):.3f}; {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
