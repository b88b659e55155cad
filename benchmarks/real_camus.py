"""The real-data benchmark: models evaluated on real CAMUS echocardiograms.

    python benchmarks/real_camus.py --source camus_224.hdf5 --model runs/mine/model.safetensors

Prepares the CAMUS file (the seed's HDF5 layout, e.g. the 2023 release's train and valid
splits) once into ``--work``, then runs ``cardigan evaluate`` at its defaults for the
simulator, the bundled model and every ``--model`` given, and writes one JSON with every
report plus a Markdown table. The real-trained U-Net is cached, so it is trained once.

CAMUS is licensed for non-commercial research only (CC BY-NC-SA 4.0); nothing this script
writes contains images, only numbers. Without the file it says so and exits 0: this is a
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

DEFAULT_SOURCES = [os.environ.get("CARDIGAN_CAMUS", ""), str(HERE.parent / "shared/data/camus/camus_224.hdf5")]


def prepared(source: Path, work: Path) -> Path:
    """``work`` prepared from ``source`` (reused when it was made from the same file)."""
    from engine.data.manifest import read_manifest
    from engine.data.prepare import prepare_dataset
    from engine.fileio import sha256_file

    checksum = sha256_file(source)
    if (work / "manifest.json").is_file():
        manifest = read_manifest(work)
        if manifest["source"]["checksum"]["value"] == checksum:
            return work
    prepare_dataset(source, work, overwrite=True)
    return work


def number(value, spec: str) -> str:
    """``value`` formatted by ``spec``, or n/a where it was not measured (null in a report
    read back, NaN in one just made)."""
    return "n/a" if value is None or value != value else format(value, spec)


def share(part, whole) -> str:
    return "n/a" if None in (part, whole) or part != part or not whole else f"{part / whole:.0%}"


def row(name: str, report: dict) -> str:
    fid, down, camus = report["fidelity"], report["downstream"], report["camus_dice"]
    greys = report["realism"]["grey_levels"]
    grey = " / ".join(number(greys[k]["synthetic_mean"], ".0f") for k in ("lv", "myo", "la", "background"))
    trained = down["synthetic_trained"]
    cells = [
        name,
        f"{number(fid['synthetic']['mean'], '.3f')} ({share(fid['synthetic']['mean'], fid['real']['mean'])})",
        number(fid["deformed"]["mean"], ".3f"),
        f"{number(trained['lv'], '.2f')} / {number(trained['myo'], '.2f')} / {number(trained['la'], '.2f')} "
        f"({number(trained['mean'], '.3f')}, {share(trained['mean'], down['real_trained']['mean'])})",
        " / ".join(number(camus["downstream"]["synthetic_trained"][k], ".3f") for k in ("endo", "epi", "la")),
        grey,
        number(report["realism"]["two_sample_auc"], ".2f"),
        number(report["realism"]["diversity"], ".1f"),
        f"{number(report['time_s'] / 60, '.0f')} min",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=None, help="CAMUS in the seed's HDF5 layout")
    parser.add_argument("--work", type=Path, default=HERE / "data" / "camus_real",
                        help="where the prepared dataset is kept (default data/camus_real)")
    parser.add_argument("--model", action="append", default=[], help="more models to evaluate")
    parser.add_argument("--skip-builtin", action="store_true", help="only the --model ones")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=HERE / "benchmarks" / "results" / "real_camus.json")
    args = parser.parse_args()
    candidates = [args.source] if args.source else [Path(p) for p in DEFAULT_SOURCES if p]
    source = next((p for p in candidates if p.is_file()), None)
    if source is None:
        print("no CAMUS file found (give --source or set CARDIGAN_CAMUS): skipped")
        return
    from engine.evaluation.evaluate import evaluate, format_report
    from engine.evaluation.report_json import report_text
    from engine.progress import Progress

    def progress(event: Progress) -> None:
        if event.done == event.total:
            print(f"  {event.stage} done", flush=True)

    data = prepared(source, args.work)
    models = ([] if args.skip_builtin else ["simulator", "demo"]) + args.model
    reports = {}
    for model in models:
        print(f"evaluating {model} on {data}", flush=True)
        started = time.perf_counter()
        reports[model] = evaluate(model, data, device=args.device, progress=progress)
        print(format_report(reports[model]), flush=True)
        print(f"({time.perf_counter() - started:.0f} s)", flush=True)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    document = {"data": str(source.name), "reports": {**previous.get("reports", {}), **reports}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report_text(document))
    print("\n| model | fidelity mean (of ceiling) | fidelity, deformed masks | downstream LV / myo / LA "
          "(mean, of real-trained) | downstream endo / epi / LA (CAMUS) | grey LV / myo / LA / bg "
          "| two-sample AUC | diversity | time |")
    print("| --- " * 9 + "|")
    for name, report in document["reports"].items():
        print(row(name, report))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
