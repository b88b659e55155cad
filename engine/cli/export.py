"""``cardigan export``: synthetic image/mask pairs in bulk, as a segmentation dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.border_jitter import DEFAULT_JITTER, REFERENCE_SIDE, scaled_jitter
from ..data.export_layouts import HDF5_FILE as HDF5_NAME  # the hdf5 layout's file in the export folder
from ..data.export_layouts import LAYOUT_LINES, layout_summary
from ..maskio import MASK_FILE_PATTERNS
from .cine import bpm_value, file_identity, positive_number
from .options import add_device_argument, add_model_argument, int_in_range, seed_value, style_scale_value

MAX_RANDOM = 1_000_000  # as engine.export.run checks (not imported here: parsing stays light)
MAX_VARIATIONS = 1000
# --cine's timing when not given (the studio's Export batch dialog starts from these too)
CINE_FPS, CINE_BPM, CINE_CYCLE = 40.0, 65.0, "half"
CINE_CYCLES = ("half", "full")
HELP = "export synthetic image/mask pairs (png folders, the seed's HDF5, CAMUS NIfTI or nnU-Net)"
DESCRIPTION = (
    "Synthesize images for a folder of label maps (--masks, names kept) or for N generated "
    "patients (--random N: 2CH and 4CH at ED and ES each, drawn from the shape model of real "
    "CAMUS hearts; with --like DATASET from a shape model built from a dataset's or folder's "
    "masks), K variations per map, and write a "
    "segmentation dataset: png (prepared folders + manifest), hdf5 (the seed's layout), "
    "nifti (the CAMUS 2023 layout) or nnunet (an nnU-Net v2 raw dataset). A non-empty output "
    "folder is refused without --overwrite.")


def format_help() -> str:
    """``--format``'s help: each layout as the engine describes it (the studio's tooltips say
    the same), in argparse's terms (a ``%`` doubled)."""
    layouts = "; ".join(f"{name}: {layout_summary(name)}" for name in LAYOUT_LINES)
    return f"{layouts} (default png)".replace("%", "%%")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--masks", type=Path, help=f"folder of label maps ({MASK_FILE_PATTERNS}); their "
                        "patients are split 80/10/10 anew (by --seed), a split folder they sit in is not kept")
    source.add_argument("--random", type=int_in_range(1, MAX_RANDOM), metavar="N",
                        help="N generated patients, each 2 views x 2 instants: --random 3 gives 12 pairs")
    parser.add_argument("--out", type=Path, required=True,
                        help=f"output folder, for every format (hdf5: the file is OUT/{HDF5_NAME})")
    parser.add_argument("--variations", type=int_in_range(1, MAX_VARIATIONS), default=1, metavar="K",
                        help="images per mask (default 1)")
    parser.add_argument("--format", default="png", choices=list(LAYOUT_LINES), help=format_help())
    parser.add_argument("--seed", type=seed_value, default=0,
                        help="seed of the split, the generated patients and the images (default 0)")
    parser.add_argument("--like", type=Path, default=None, metavar="DATASET",
                        help="with --random: new patients drawn from a shape model built from these "
                             "masks (a prepared dataset's train split or a folder of masks named "
                             "<patient>_<2CH|4CH>_<ED|ES>; needs 8 patients or more)")
    parser.add_argument("--like-fallback", action="store_true",
                        help="with --like: when the dataset is too small for a shape model, draw "
                             "from the shipped one instead (with a note) rather than stop")
    parser.add_argument("--style-scale", type=style_scale_value, default=None, metavar="S",
                        help="spread of a noise model's style channels, above 0 and at most 1: 1 gives "
                             "the most variety (datasets for segmenters); default: the model's own")
    parser.add_argument("--border-jitter", type=float, default=None, metavar="PX",
                        help="draw each image from its mask with the borders moved smoothly by about PX "
                             "pixels, keeping the unmoved mask in the pair, as expert outlines do not "
                             f"sit exactly on an image's edges (default {DEFAULT_JITTER:g}; pixels of a 256-pixel "
                             "mask, in proportion for other sizes; 0: each image drawn from its mask as it "
                             "is; cine loops: 0)")
    parser.add_argument("--size", type=int_in_range(32, 2048), default=None,
                        help="generated masks' size (with --random; default: the model's own size, 256 "
                             "for the simulator); another size is drawn at the model's and resampled")
    cine = parser.add_argument_group("cine loops (--cine)")
    cine.add_argument("--cine", action="store_true",
                      help="export loops with per-frame masks instead of still pairs: every patient view "
                           "(with --masks: each <patient>_<view> with ED and ES masks) becomes a sequence")
    # None when not given: a loop's option without --cine is refused, not silently dropped
    cine.add_argument("--fps", type=positive_number, default=None,
                      help=f"frames per second (default {CINE_FPS:g})")
    cine.add_argument("--bpm", type=bpm_value, default=None, help=f"heart rate, 20-250 (default {CINE_BPM:g})")
    cine.add_argument("--cycle", choices=CINE_CYCLES, default=None,
                      help="half: ED -> ES, as CAMUS stores its sequences (default); full: a seamless cycle")
    add_device_argument(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export in --out")


def jitter_amount(pixels_at_256: float, size: int | None) -> str:
    """How far ``--border-jitter`` moves the borders, in words, for masks ``size`` pixels
    across (None: masks of their own sizes, read from a folder): "3 px", "0.75 px (3 px at
    256, scaled to the 64-pixel masks)" or "3 px at 256, scaled to each mask's size"."""
    if size is None:
        return f"{pixels_at_256:g} px at {REFERENCE_SIDE}, scaled to each mask's size"
    if size == REFERENCE_SIDE:
        return f"{pixels_at_256:g} px"
    return (f"{scaled_jitter(pixels_at_256, (size, size)):.2g} px ({pixels_at_256:g} px at {REFERENCE_SIDE}, "
            f"scaled to the {size}-pixel masks)")


def source_conflict(args: argparse.Namespace) -> str | None:
    """Why the options given cannot go together (--like with --masks, --like-fallback without
    --like, a loop's --fps, --bpm or --cycle without --cine), in one line, or None."""
    if args.like is not None and args.masks is not None:
        return "--like makes new patients and goes with --random N, not with --masks"
    if args.like_fallback and args.like is None:
        return "--like-fallback goes with --like DATASET"
    loop_options = [f"--{name}" for name in ("fps", "bpm", "cycle") if getattr(args, name) is not None]
    if loop_options and not args.cine:
        return (f"{', '.join(loop_options)} set{'s' if len(loop_options) == 1 else ''} the timing of cine loops; "
                "add --cine to export loops, or leave it out for still pairs")
    return None


def run(args: argparse.Namespace) -> int:
    from ..data.border_jitter import jitter_problem
    from ..errors import CardiganError
    from ..export import export_dataset
    from ..data.staging import check_not_a_source, check_output
    from ..export.sources import (check_like_folder, check_masks_folder, generated_mask_side,
                                  mask_side_in_words)
    from ..export.writers import check_export_folder, nnunet_name_problem, spacing_line
    from .terminal import TerminalProgress, note

    conflict = source_conflict(args)
    if conflict:  # before anything is checked or said about the export
        raise CardiganError(conflict)
    if args.border_jitter is not None and (problem := jitter_problem(args.border_jitter)):
        raise CardiganError(f"--border-jitter {problem}")
    check_export_folder(args.out.expanduser(), args.format)  # before the notes on what the export will do
    check_not_a_source(args.out, tuple(path for path in (args.masks, args.like) if path is not None))
    if args.masks is not None:
        check_masks_folder(args.masks.expanduser())  # before the notes on what the export will do
    # an --out that is taken is refused as the only line, before the notes on what the export would do
    check_output(args.out.expanduser(), args.overwrite, replaces="export")
    if args.cine:
        return run_cine(args)
    if args.like is not None:
        # before the notes (a split left empty is warned of), from the masks' names alone
        check_like_folder(args.like.expanduser(), args.like_fallback)
    if args.format == "nnunet" and (advice := nnunet_name_problem(args.out)):  # the first note: before any work
        note(advice)
    synth = open_synthesizer(args)  # before the notes on the masks: what size it draws at
    side = generated_mask_side(synth.native_size, args.size)
    jitter = DEFAULT_JITTER if args.border_jitter is None else args.border_jitter
    if jitter > 0:
        note(f"each image is drawn from its mask with the borders moved by about "
             f"{jitter_amount(jitter, side if args.random else None)}; the pairs keep the true masks "
             "(--border-jitter 0: drawn as they are)")

    if args.random:
        from ..export.sources import random_plan

        plan, empty = random_plan(args.random, args.seed, variations=args.variations)
        note(f"{plan}; {mask_side_in_words(side, synth.native_size, args.size is not None)}")
        if empty:
            note(f"warning: no patient in {' or '.join(empty)} (use --random 3 or more for every split)")
    else:
        note(f"the masks' patients are split 80/10/10 into train, valid and test anew (seed {args.seed}); "
             "the split of a folder they come from is not kept")
        if args.size is not None:
            note("--size sizes generated masks (--random); masks from a folder keep their own size")
    out = args.out.expanduser()
    before = file_identity(out)
    bars = TerminalProgress()
    try:
        manifest = export_dataset(synth, args.out, masks=args.masks, random=args.random,
                                  like=args.like, like_fallback=args.like_fallback, notify=note,
                                  variations=args.variations, format=args.format, seed=args.seed,
                                  size=side, device=args.device, overwrite=args.overwrite,
                                  progress=bars, style_scale=args.style_scale,
                                  border_jitter=jitter)
    except KeyboardInterrupt:
        from .main import interrupted

        bars.close()
        return interrupted(what_the_export_stop_left(out, before))
    finally:
        bars.close()
    counts = ", ".join(f"{split} {n}" for split, n in manifest["counts"].items())
    if args.format == "nnunet":
        tr = manifest["counts"]["train"] + manifest["counts"]["valid"]
        counts += f" pairs: imagesTr {tr} (train and valid), imagesTs {manifest['counts']['test']} (test)"
    else:
        counts += " pairs"
    note(f"wrote {args.out} ({args.format}): {counts}")
    spacing = spacing_line(manifest["output"].get("pixel_spacing", []))
    if spacing:
        note(spacing)
    return 0


def open_synthesizer(args: argparse.Namespace):
    """The export's model, loaded on its device (with --style-scale)."""
    from ..synthesizer import Synthesizer

    return Synthesizer(args.model, device=args.device, style_scale=args.style_scale)


def cine_timing(args: argparse.Namespace):
    """The :class:`engine.cine.Timing` of ``export --cine``: --fps, --bpm and --cycle, each
    the default where it was not given."""
    from ..cine import Timing

    return Timing(bpm=CINE_BPM if args.bpm is None else args.bpm, fps=CINE_FPS if args.fps is None else args.fps,
                  cycle=args.cycle or CINE_CYCLE)


def run_cine(args: argparse.Namespace) -> int:
    """``export --cine``; Ctrl-C stops it wherever it is (within a batch of frames) and says
    what it left (:func:`what_the_export_stop_left`)."""
    from ..errors import CardiganError
    from ..export.cine import export_cine
    from ..export.sources import generated_mask_side, mask_side_in_words
    from .terminal import TerminalProgress, note

    if args.like is not None or args.like_fallback or args.variations != 1 or args.border_jitter:  # None: not asked
        raise CardiganError("--cine takes --masks or --random, without --like, --like-fallback, --variations "
                            "or --border-jitter")
    timing = cine_timing(args)
    synth = open_synthesizer(args)
    side = generated_mask_side(synth.native_size, args.size)
    if args.random and synth.native_size not in (None, (side, side)):  # the model's own size goes unsaid
        note(f"generated {mask_side_in_words(side, synth.native_size, args.size is not None)}")
    out = args.out.expanduser()
    before = file_identity(out)
    bars = TerminalProgress()
    try:
        manifest = export_cine(synth, args.out, masks=args.masks, random=args.random, format=args.format,
                               size=args.size, seed=args.seed, timing=timing, device=args.device,
                               overwrite=args.overwrite, progress=bars, style_scale=args.style_scale)
    except KeyboardInterrupt:
        from .main import interrupted

        bars.close()
        return interrupted(what_the_export_stop_left(out, before))
    finally:
        bars.close()
    efs = [s["ejection_fraction_area"] for s in manifest["sequences"]]
    note(f"wrote {args.out} ({args.format}): {len(efs)} sequences, "
         f"{sum(s['frames'] for s in manifest['sequences'])} frames, EF by area "
         f"{min(efs):.0f}-{max(efs):.0f} %")
    return 0


def what_the_export_stop_left(out: Path, before: tuple | None) -> str:
    """Ctrl-C's account of an export to ``out`` (``before``: :func:`file_identity` of ``out``
    when it began). An export is put in place whole or not at all: either the finished
    dataset replaced what was at ``out`` before the stop, or nothing was written and what was
    there is as it was."""
    if file_identity(out) != before:
        return f"the export was written in full to {out} before the stop"
    kept = f"; the {out.name} that was there is as it was" if before is not None and _has_content(out) else ""
    return f"nothing was written to {out} (an export is written whole or not at all){kept}"


def _has_content(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError:
        return False
