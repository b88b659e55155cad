"""``cardigan cine``: a beating heart, from two key frames or from generated patients."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from .options import add_device_argument, add_model_argument, float_in_range, int_in_range, read_mask, seed_value

HELP = "synthesize a cine loop (a beating heart) from ED and ES masks or generated patients"
DESCRIPTION = ("Synthesize a loop: with --ed and --es the heart moves between your two masks; with "
               "--random N, N patients from the shape model of real hearts beat along their own motion. "
               "Timing is physiological (ejection in about a third of the cycle, then rapid filling, "
               "diastasis and atrial contraction); with a model that takes noise (the demo model) one noise "
               "map moves with the tissue, so speckle follows the wall, while the blood pools' speckle is new "
               "every frame, as flowing blood's is (the simulator keeps its speckle still on the picture, the "
               "wall moving through it); the brightness does not jump from frame to frame. --out names the file: .gif, .mp4, .nii.gz "
               "(images, with the masks beside it as *_gt.nii.gz), .h5, .dcm (an ultrasound DICOM loop), or a "
               "folder of PNG frames; with --random, --out is a folder and --format picks the file type (one "
               "loop, --random 1, may be named as a file).")


def positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def bpm_value(text: str) -> float:
    """An argparse type: a heart rate the loops can be drawn at."""
    from ..cine.timing import MAX_BPM, MIN_BPM  # numpy loads only once a command line is read

    return float_in_range(MIN_BPM, MAX_BPM, " bpm")(text)


bpm_value.__name__ = "heart rate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--ed", type=Path, help="the end-diastole mask (label PNG or CAMUS ground truth)")
    parser.add_argument("--es", type=Path, help="the end-systole mask, same view and size")
    parser.add_argument("--random", type=int_in_range(1, 10_000), metavar="N",
                        help="N generated patients instead of --ed/--es")
    parser.add_argument("--view", choices=("2CH", "4CH", "both"), default="4CH",
                        help="view of generated patients (default 4CH)")
    parser.add_argument("--size", type=int_in_range(32, 1024), default=None,
                        help="size of generated masks (default: the model's own size, 256 for the "
                             "simulator); another size is drawn at the model's and resampled")
    parser.add_argument("--out", required=True, type=Path, help="output file, or folder (see above)")
    parser.add_argument("--format", choices=("gif", "mp4", "nifti", "hdf5", "dicom", "png"), default=None,
                        help="file type of each loop with --random (default gif)")
    parser.add_argument("--fps", type=positive_number, default=None,
                        help="frames per second (default 40; at least bpm / 40, two frames a beat; the file plays "
                             "at the nearest rate that fits whole frames in a beat; not with --frames, which sets it)")
    parser.add_argument("--bpm", type=bpm_value, default=65.0, help="heart rate, 20-250 (default 65)")
    parser.add_argument("--frames", type=int_in_range(2, 2000), default=None,
                        help="number of frames over the cycle (default: as fps and bpm give); the "
                             "file then plays at the rate that keeps the heart rate")
    parser.add_argument("--cycle", choices=("full", "half"), default="full",
                        help="full: ED -> ES -> ED, seamless (default); half: ED -> ES as CAMUS stores it")
    parser.add_argument("--seed", type=seed_value, default=0,
                        help="seed of the loop's look (default 0); with --random, of the hearts, fans and looks too: "
                             "the same patients export --cine --random draws from it")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing loop files (a folder of PNG frames is never replaced)")
    add_device_argument(parser)


SUFFIXES = {"gif": ".gif", "mp4": ".mp4", "nifti": ".nii.gz", "hdf5": ".h5", "dicom": ".dcm", "png": ""}


def _loop_file_kind(path: Path) -> str | None:
    """The file type ``path`` names by its suffix (gif, mp4, nifti, hdf5), or None for a
    folder name (any other name, whatever its dots)."""
    from ..cine.writers import output_kind
    from ..errors import CardiganError

    try:
        kind = output_kind(path)
    except CardiganError:
        return None
    return None if kind == "folder" else kind


def _refuse_format_clash(out: Path, named: str, fmt: str | None) -> None:
    """A one-line error when ``--format`` was given and is not the type ``--out`` names."""
    from ..errors import CardiganError

    if fmt not in (None, named):
        raise CardiganError(f"--out {out}: the name says {named} and --format says {fmt}; give one of them")


def run(args: argparse.Namespace) -> int:
    from ..cine import Timing, loop_from_key_frames, synthesize_loop, write_loop
    from ..cine.writers import output_kind
    from ..errors import CardiganError, MaskError
    from ..fan import fan_from_text, view_of_name
    from ..maskio import mask_path_for, read_png_text
    from ..export.sources import generated_mask_side, mask_side_in_words
    from ..synthesizer import Synthesizer
    from .terminal import TerminalProgress, note

    if (args.random is None) == (args.ed is None and args.es is None):
        raise CardiganError("give --ed and --es, or --random N")
    if args.random is None and (args.ed is None or args.es is None):
        raise CardiganError("a loop from masks needs both --ed and --es")
    if args.random is None and (args.view != "4CH" or args.size is not None):
        note("--view and --size are for generated patients (--random); a loop from masks keeps their view and size")
    if args.frames is not None and args.fps is not None:
        raise CardiganError("give --fps or --frames, not both: --frames spreads its frames over one "
                            "heart cycle at --bpm, which sets the frame rate")
    timing = Timing(bpm=args.bpm, fps=40.0 if args.fps is None else args.fps, cycle=args.cycle,
                    frames=args.frames).checked()
    jobs = []  # (output path, loop maker given the side of generated masks, seed, DICOM series)
    if args.random is None:
        kind = output_kind(args.out)
        _refuse_format_clash(args.out, "png" if kind == "folder" else kind, args.format)
        targets = [args.out] + ([mask_path_for(args.out)] if kind == "nifti" else [])
        for target in targets:
            _check_target(target, args.overwrite, kind == "folder", out=args.out)
        ed, es = read_mask(args.ed, "ed"), read_mask(args.es, "es")
        view, es_view = view_of_name(args.ed.name), view_of_name(args.es.name)
        if view and es_view and view != es_view:
            raise MaskError(f"--ed {args.ed.name} is a {view} view and --es {args.es.name} a {es_view} view: "
                            "the key frames of one loop show one view")
        for line in key_frame_doubts(ed, es):
            note(line)
        fan, _ = fan_from_text(read_png_text(args.ed), view)
        jobs.append((args.out, lambda side: loop_from_key_frames(ed, es, timing, view, fan), args.seed, {}))
    else:
        from ..cine.random_loops import random_loops
        from ..data.layout import patient_name

        views = ("2CH", "4CH") if args.view == "both" else (args.view,)
        file_kind = _loop_file_kind(args.out)
        if file_kind is not None and args.random * len(views) > 1:
            raise CardiganError(f"--out {args.out}: --random {args.random}{' --view both' if len(views) > 1 else ''} "
                                f"makes {args.random * len(views)} loops; --out names the folder they go in "
                                f"(--format {file_kind} picks their file type)")
        if file_kind is not None:
            _refuse_format_clash(args.out, file_kind, args.format)
        fmt = args.format or "gif"
        if file_kind is None:
            if args.out.exists() and not args.out.is_dir():
                raise CardiganError(f"--out {args.out}: is a file; with --random, --out is a folder")
            if not args.out.parent.is_dir():
                raise CardiganError(f"--out {args.out}: the folder {args.out.parent} does not exist")
        model, loops = random_loops(args.random, views, args.seed)  # the patients export --cine draws
        studies = {}  # a patient's DICOM loops: its views as series of one study
        for item in loops:
            if file_kind is None:  # the folder is made when the first loop is written
                target = args.out / f"{patient_name(item.index + 1, args.random)}_{item.view}{SUFFIXES[fmt]}"
                paths = [target] + ([mask_path_for(target)] if fmt == "nifti" else [])
            else:  # one loop, named by --out
                target = args.out
                paths = [target] + ([mask_path_for(target)] if file_kind == "nifti" else [])
            for path in paths:
                _check_target(path, args.overwrite, fmt == "png" and path is target and file_kind is None,
                              made_later=file_kind is None, out=args.out)
            series = (_dicom_series(studies, patient_name(item.index + 1, args.random), views.index(item.view))
                      if (file_kind or fmt) == "dicom" else {})
            jobs.append((target, lambda side, i=item: i.make(model, side, timing), item.look, series))
    # Ctrl-C stops the loop under way wherever it is, by the exception: the writers remove what
    # they wrote under temporary names on any exception, so a loop is in place whole or not at all
    synth = Synthesizer(args.model, device=args.device)
    side = generated_mask_side(synth.native_size, args.size)  # of generated patients' masks
    if args.random is not None and synth.native_size not in (None, (side, side)):  # the model's own size goes unsaid
        note(f"generated {mask_side_in_words(side, synth.native_size, args.size is not None)}")
    made_folder = args.out if jobs_folder(args) and not args.out.exists() else None
    finished: list[Path] = []  # the loops in place
    current = None  # (the loop under way, how its target was before it)
    try:
        with TerminalProgress() as bar:
            for target, make, seed, series in jobs:
                current = (target, file_identity(target))
                loop = make(side)
                bad = loop.invalid_frames()
                if bad:
                    note(f"{target.name}: {len(bad)} frame(s) are not a plausible heart (first: frame {bad[0]})")
                images = synthesize_loop(synth, loop, seed=seed, progress=bar)
                info = {"bpm": timing.bpm, "cycle": timing.cycle, "frames": loop.frames,
                        "ejection_fraction_area": round(loop.ejection_fraction(), 2),
                        "phases": [round(float(p), 4) for p in loop.phases], "model": synth.model.name,
                        "seed": seed}
                target.parent.mkdir(exist_ok=True)  # --random's folder, made once there is a loop to put in it
                written = write_loop(target, images, loop.masks, timing.playback_fps, info, progress=bar, **series)
                finished.append(target)
                current = None
                note(f"wrote {', '.join(str(p) for p in written)} ({loop.frames} frames at "
                     f"{timing.playback_fps:.3g} fps, {timing.bpm:g} bpm, EF by area {loop.ejection_fraction():.0f} %)")
    except KeyboardInterrupt:
        from .main import interrupted

        if current is not None and file_identity(current[0]) != current[1]:
            finished.append(current[0])  # the stop came after the loop was put in place
            current = None
        remove_if_empty(made_folder)
        return interrupted(what_the_stop_left(finished, len(jobs), current))
    except BaseException:  # a failed write (a full disk) leaves no empty folder it made either
        remove_if_empty(made_folder)
        raise
    return 0


def key_frame_doubts(ed, es) -> list[str]:
    """What looks wrong with a loop's key frames, in lines a user can act on: the same mask
    twice (a heart that stands still), or an LV larger at end-systole than at end-diastole
    (the two given the other way round)."""
    import numpy as np

    from ..labels import LV_CAVITY

    if np.array_equal(ed, es):
        return ["--ed and --es are the same mask: the heart stands still (EF 0 %); give the end-systole mask as --es"]
    ed_lv, es_lv = int((ed == LV_CAVITY).sum()), int((es == LV_CAVITY).sum())
    if es_lv > ed_lv:
        return [f"the LV cavity is larger at --es ({es_lv} px) than at --ed ({ed_lv} px): the loop beats "
                "backwards; were the two given the other way round?"]
    return []


def remove_if_empty(folder: Path | None) -> None:
    """Remove ``folder`` (--random's, made by this run; None: none was) when no loop went in."""
    if folder is not None and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def jobs_folder(args: argparse.Namespace) -> bool:
    """Whether ``--out`` is the folder that ``--random``'s loops go in."""
    return args.random is not None and _loop_file_kind(args.out) is None


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """What tells a file (or folder) at ``path`` from one put there later: None when there is none."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def what_the_stop_left(finished: list[Path], total: int, current: tuple[Path, object] | None) -> str:
    """Ctrl-C's account of the outputs: the loops written in full before it, and that the one
    under way was not (a file that was at its name is as it was)."""
    kept = ""
    if current is not None and current[1] is not None:
        kept = f"the {current[0].name} that was there is as it was"
    if not finished:
        return "nothing was written" + (f" ({kept})" if kept else "")
    if total == 1:
        return f"{finished[0].name} was written in full before the stop"
    whole = f"{len(finished)} of {total} loops were written in full to {finished[0].parent}"
    if current is None:
        return whole
    return f"{whole}; {current[0].name} was not" + (f" ({kept})" if kept else "")


def _dicom_series(studies: dict, patient: str, view_index: int) -> dict:
    """``write_loop``'s study and series number for one view of a generated patient (the
    patient's study made the first time it is asked for)."""
    from ..data.dicom_echo import DicomStudy

    if patient not in studies:
        studies[patient] = DicomStudy.new(patient)
    return {"study": studies[patient], "series_number": view_index + 1}


def _check_target(path: Path, overwrite: bool, folder: bool, made_later: bool = False,
                  out: Path | None = None) -> None:
    """Refuse before any work an output that exists (unless --overwrite, and never a folder
    with content) or whose folder is missing (unless it is ``made_later``: --random's). The
    message names the option where ``path`` is ``out``, what --out named, as the other
    commands do (``--out x.gif: already exists ...``); a file beside it or in its folder by its path."""
    from ..errors import CardiganError, already_exists

    named = f"--out {path}" if path == out else str(path)
    if not path.parent.is_dir() and not made_later:
        raise CardiganError(f"{named}: the folder {path.parent} does not exist")
    if path.exists():
        if folder:
            if not path.is_dir():
                raise CardiganError(f"{named}: exists and is not a folder")
            if any(path.iterdir()):
                raise CardiganError(f"{named}: the folder is not empty (a folder of PNG frames is never replaced, "
                                    "even with --overwrite: name a new folder or empty this one)")
        elif path.is_dir():
            raise CardiganError(f"{named}: is a folder; a loop file goes there (another name, or remove the folder)")
        elif not overwrite:
            raise CardiganError(already_exists(named))
