"""Where a classifier tells a model's images from real ones: the two-sample AUC on the whole
image and on each part (``engine.evaluation.auc_parts``), on a prepared dataset's train split,
without the rest of an evaluation (a few minutes instead of about ten on 2 cores).

The model draws every N-th train mask in its own fan (no border jitter, so both sets are cut
by the same labels); the classifier, its budget and its patient split are evaluate's.
``--without`` asks the other way round: the whole-image AUC with the named zones (the near
field, the fan's edge band) flattened in both sets, what is left once those cues are gone.
``--real-in`` is an oracle: the whole-image AUC with the real image's pixels put into the
named places of ours (``engine.evaluation.evidence.PLACES``), how far the test would fall were
those places as real as real. The seams between real and our pixels are a cue of their own,
so a small place pasted alone can read higher than nothing pasted. It reads real pixels and
prints only numbers.

    python benchmarks/where_it_tells.py --data data/camus256 --model demo --every 2
    python benchmarks/where_it_tells.py --data data/camus256 --model demo --every 2 \
        --without "fan edge" --without "near field,fan edge"
    python benchmarks/where_it_tells.py --data data/camus256 --model demo --every 2 \
        --real-in arc --real-in "near field,sides,arc,background"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.cli.options import int_in_range  # noqa: E402
from engine.evaluation.auc_parts import PARTS, auc_by_part, flatten_except, part_regions  # noqa: E402
from engine.evaluation.evaluate import EvalSettings, resize_all, train_pairs_drawn  # noqa: E402
from engine.evaluation.evidence import PLACES, evidence_by_place, with_real_in  # noqa: E402
from engine.evaluation.realism import two_sample_auc, two_sample_test  # noqa: E402


ZONES = ("near field", "fan edge")  # what --without can flatten


def without_zones(images, labels, regions, zones):
    """``images`` with the named :data:`ZONES` flattened to each zone's mean grey level (as
    the part views flatten what they leave out), the rest as it was; ``regions`` is
    :func:`~engine.evaluation.auc_parts.part_regions` of the images' labels and fans."""
    inside, near, edge = regions
    drop = {"near field": near, "fan edge": edge}
    keep = inside.copy()
    for zone in zones:
        keep &= ~drop[zone]
    return flatten_except(images, labels, inside, near, edge, keep)


def where_it_tells(data: Path, model, every: int = 1, settings: EvalSettings = EvalSettings(),
                   without=(), real_in=()) -> dict:
    """{"images": n, "whole": AUC, "evidence": {place: {"share", "area"}} or None (where the
    whole-image classifier's evidence lies, :mod:`engine.evaluation.evidence`), "parts": {part:
    AUC}, "without": {zones: AUC}, "real_in": {places: AUC}} for ``model`` on the train split;
    ``without`` lists groups of :data:`ZONES` (each a tuple), each giving the whole-image AUC
    with those zones flattened in both sets; ``real_in`` lists groups of
    :data:`~engine.evaluation.evidence.PLACES`, each giving the whole-image AUC with the real
    images' pixels in those places of the synthetic ones (at full size, the places' bands
    :data:`~engine.evaluation.auc_parts.EDGE` full-size pixels wide, before both are halved)."""
    images, labels, fans, groups, synthetic = train_pairs_drawn(Path(data), model, every, settings.seed)
    real_s, labels_s = resize_all(images, labels, settings.size)
    synthetic_s = resize_all(synthetic, None, settings.size)[0]

    def auc(first, second, first_groups, second_groups, stage="two-sample test"):
        return two_sample_auc(first, second, first_groups, second_groups, iters=settings.two_sample_iters,
                              seed=settings.seed, stage=stage)

    regions = part_regions(labels_s, fans) if without else None  # both sets share the masks and fans
    flattened = {", ".join(zones): auc(without_zones(real_s, labels_s, regions, zones),
                                       without_zones(synthetic_s, labels_s, regions, zones), groups, groups,
                                       f"two-sample test without {', '.join(zones)}")
                 for zones in without}
    pasted = {", ".join(places): auc(real_s, resize_all(with_real_in(synthetic, images, labels, fans, places), None,
                                                        settings.size)[0],
                                     groups, groups, f"two-sample test with real {', '.join(places)}")
              for places in real_in}  # pasted at full size: the halving softens the seams a little
    whole = two_sample_test(real_s, synthetic_s, groups, groups, iters=settings.two_sample_iters,
                            seed=settings.seed)
    return {"images": len(images), "whole": whole.auc,
            "evidence": evidence_by_place(whole, labels_s, fans),
            "parts": auc_by_part(real_s, labels_s, synthetic_s, labels_s, fans, groups, auc),
            "without": flattened, "real_in": pasted}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="prepared dataset folder")
    parser.add_argument("--model", default="demo")
    parser.add_argument("--every", type=int_in_range(1, 100_000), default=1, help="use every N-th train pair")
    parser.add_argument("--size", type=int, default=None, help="classifier resolution (default evaluate's)")
    parser.add_argument("--iters", type=int, default=None, help="classifier iterations (default evaluate's)")
    parser.add_argument("--without", action="append", default=[], metavar="ZONES",
                        help="also the whole-image AUC with these zones flattened in both sets: a comma-separated "
                             f"list of {' and '.join(repr(z) for z in ZONES)}; may be repeated")
    parser.add_argument("--real-in", action="append", default=[], metavar="PLACES",
                        help="also the whole-image AUC with the real image's pixels in these places of ours: a "
                             f"comma-separated list of {', '.join(repr(p) for p in PLACES)}; may be repeated")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    args = parser.parse_args(argv)
    default = EvalSettings()
    settings = EvalSettings(size=args.size or default.size, two_sample_iters=args.iters or default.two_sample_iters)
    without = [tuple(z.strip() for z in group.split(",")) for group in args.without]
    unknown = sorted({z for group in without for z in group} - set(ZONES))
    if unknown:
        parser.error(f"unknown zone {', '.join(map(repr, unknown))} (use {' or '.join(map(repr, ZONES))})")
    real_in = [tuple(p.strip() for p in group.split(",")) for group in args.real_in]
    unknown = sorted({p for group in real_in for p in group} - set(PLACES))
    if unknown:
        parser.error(f"unknown place {', '.join(map(repr, unknown))} (use {', '.join(map(repr, PLACES))})")
    result = where_it_tells(Path(args.data), args.model, max(1, args.every), settings, without, real_in)
    print(f"{args.model} on {result['images']} train images: whole image AUC {result['whole']:.3f}")
    if result["evidence"]:
        print("  its evidence, share (of the image): " + "   ".join(
            f"{place} {result['evidence'][place]['share']:.0%} ({result['evidence'][place]['area']:.0%})"
            for place in PLACES))
    print("  one part left: " + "   ".join(f"{part} {result['parts'][part]:.3f}" for part in PARTS))
    for zones, value in result["without"].items():
        print(f"  whole image without {zones}: {value:.3f}")
    for places, value in result["real_in"].items():
        print(f"  whole image with real pixels in {places}: {value:.3f}")
    if args.out:
        args.out.write_text(json.dumps({"model": str(args.model), **result}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
