"""``cardigan tune``: set the output settings a model file carries and training does not:
the style scale, the pixel grain, the output tone, the depth gain, the tip gain, the speckle
shape, the fine filter, the pool detail, the ring-down, the border softening and the shading; or
fit the last nine to real images."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_model_argument, check_dataset_folder, check_model_out, float_in_range, style_scale_value

HELP = ("set a model's output settings (style scale, grain, tone, depth gain, tip gain, speckle shape, "
        "fine filter, pool detail, ring-down, border softening, shading) "
        "or fit them to real images")
DESCRIPTION = (
    "Write a copy of a generator model with other output settings: --style-scale (the spread of "
    "the noise map's style channels: below 1, fewer washed-out or dim seeds), --grain (white "
    "per-pixel grain in grey levels, added after the network) and --tone (a gamma curve on the "
    "output's grey levels, 1 = none) and --depth-gain (grey-level gains at evenly spaced depths "
    "of the fan, from the apex to the arc; 'none' for none) and --speckle-shape (the fine speckle's "
    "width along and across the beam and its gain, from the apex to the arc; 'none' for none). --fit-tone DATA "
    "chooses the tone instead: the curve that brings the model's mean grey level per region "
    "closest to the real images' on the prepared dataset's valid split; --fit-depth-gain DATA "
    "chooses the depth gain: per depth bin, the real images' mean grey level over the model's "
    "(below the top fifth of the depth it only darkens), "
    "on the same split (fitted after the tone when both are asked for); --fit-tip-gain DATA "
    "fits gains for the fan's first pixels below the probe, real's mean grey level over the "
    "model's at each pixel of depth (fitted after the depth gain); --fit-speckle-shape DATA fits the "
    "speckle shape, per depth bin the widths whose neighbour correlations come nearest the real "
    "images' (fitted after the tip gain); --fit-fine-filter DATA "
    "fits a 7 x 7 kernel the detail inside the fan is filtered with, so the finest speckle's "
    "spectrum matches the real images' of that split (fitted after the speckle shape); --fit-pool-detail DATA "
    "fits gains on the speckle inside the blood pools by depth, real pools' detail over the "
    "model's (fitted after the fine filter); --fit-ring-down DATA "
    "draws bands along the arcs of the near field per seed, as strong and as varied as the real "
    "images' beyond the model's own (fitted after the pool detail); --fit-border-soften DATA fades "
    "the edges drawn on the mask's borders, in patches per seed, border by border as strongly as "
    "the real images draw them (fitted after the ring-down); --fit-shading DATA "
    "draws the image's large-scale brightness layout per seed from a model of how the real "
    "images of that split differ from the model's of the same masks (fitted last; "
    "--shading-strength scales its spread). --beam DEG sets how far apart a beam model's noise nodes lie "
    "along the arcs (closer than in training: shorter grain from the same weights). The network's weights "
    "are copied unchanged; settings not given are kept, and the provenance records how each was "
    "changed. The fits measured in pixels (all but the tone, the depth gain and the shading) need "
    "a dataset prepared at the model's size. --out may be --model itself (with --overwrite): the "
    "file is replaced only once the new one is written.")


def grain_value(text: str) -> float:
    from ..nets.grain import MAX_GRAIN  # torch loads only once a command line is read

    return float_in_range(0.0, MAX_GRAIN, " grey levels")(text)


def tone_value(text: str) -> float:
    from ..nets.tone import MAX_TONE, MIN_TONE

    return float_in_range(MIN_TONE, MAX_TONE)(text)


def gains_value(text: str) -> tuple:
    """A comma-separated depth-gain curve, or none (an empty one)."""
    from ..nets.depth_gain import gains_problem

    if text.strip().lower() in ("none", ""):
        return ()
    try:
        gains = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a comma-separated list of numbers") from None
    problem = gains_problem(gains)
    if problem:
        raise argparse.ArgumentTypeError(f"the curve {problem}")
    return gains


def shape_value(text: str) -> tuple:
    """A speckle-shape curve as semicolon-separated AXIAL,LATERAL,GAIN triples, or none."""
    from ..nets.speckle_shape import shape_problem

    if text.strip().lower() in ("none", ""):
        return ()
    try:
        shape = tuple(tuple(float(v) for v in point.split(",")) for point in text.split(";"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a list of AXIAL,LATERAL,GAIN triples "
                                         "separated by semicolons") from None
    problem = shape_problem(shape)
    if problem:
        raise argparse.ArgumentTypeError(f"the curve {problem}")
    return shape


def shape_text(shape) -> str:
    """A speckle-shape curve as ``--speckle-shape`` takes it."""
    return ";".join(",".join(f"{v:g}" for v in point) for point in shape) or "none"


def filter_text(kernel) -> str:
    """The fine filter in a few words."""
    return f"{len(kernel)}x{len(kernel)} kernel" if kernel else "none"


def shading_text(shading) -> str:
    """The shading setting in a few words."""
    return f"{len(shading) - 1} directions" if shading else "none"


def shading_strength_value(text: str) -> float:
    return float_in_range(0.05, 3.0)(text)


def fitted_on(data, fit: dict) -> str:
    """How a fitted setting came about, as the provenance records it."""
    return f"fitted on {Path(data).resolve().name} ({fit['images']} valid pairs)"


def tuning_record(provenance: dict, tuned: dict) -> dict:
    """The provenance's ``tuned`` record: how each output setting was last changed (set,
    removed or fitted on which dataset), this run's over the model's earlier ones."""
    earlier = provenance.get("tuned")
    return {**(earlier if isinstance(earlier, dict) else {}), **tuned}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--out", required=True, help="the model file to write (.safetensors)")
    parser.add_argument("--style-scale", type=style_scale_value, default=None, metavar="S",
                        help="above 0, at most 1: the noise map's style channels' spread (models with noise)")
    parser.add_argument("--grain", type=grain_value, default=None, metavar="G", help="grey levels, 0-20")
    tone = parser.add_mutually_exclusive_group()
    tone.add_argument("--tone", type=tone_value, default=None, metavar="T", help="0.5-2; 1 = no curve")
    tone.add_argument("--fit-tone", metavar="DATA", default=None,
                      help="prepared dataset folder whose valid split the tone is fitted to")
    gain = parser.add_mutually_exclusive_group()
    gain.add_argument("--depth-gain", type=gains_value, default=None, metavar="G1,G2,...",
                      help="gains from the apex to the arc (0.25-4 each), or none")
    gain.add_argument("--fit-depth-gain", metavar="DATA", default=None,
                      help="prepared dataset folder whose valid split the depth gain is fitted to")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--speckle-shape", type=shape_value, default=None, metavar="A,L,G;...",
                       help="the speckle's width along (A) and across (L) the beam in pixels and its gain (G), "
                            "from the apex to the arc, or none")
    shape.add_argument("--fit-speckle-shape", metavar="DATA", default=None,
                       help="prepared dataset folder whose valid split the speckle shape is fitted to")
    tip = parser.add_mutually_exclusive_group()
    tip.add_argument("--tip-gain", choices=["none"], default=None, help="none: remove the tip gain")
    tip.add_argument("--fit-tip-gain", metavar="DATA", default=None,
                     help="prepared dataset folder whose valid split the tip gain is fitted to")
    fine = parser.add_mutually_exclusive_group()
    fine.add_argument("--fine-filter", choices=["none"], default=None,
                      help="none: remove the fine filter")
    fine.add_argument("--fit-fine-filter", metavar="DATA", default=None,
                      help="prepared dataset folder whose valid split the fine filter is fitted to")
    parser.add_argument("--beam", type=float_in_range(0.25, 30.0, " degrees"), default=None, metavar="DEG",
                        help="a beam model's noise nodes this many degrees apart along the arcs (shorter grain "
                             "below its training value)")
    pools = parser.add_mutually_exclusive_group()
    pools.add_argument("--pool-detail", choices=["none"], default=None,
                       help="none: remove the pool detail")
    pools.add_argument("--fit-pool-detail", metavar="DATA", default=None,
                       help="prepared dataset folder whose valid split the pool detail is fitted to")
    rings = parser.add_mutually_exclusive_group()
    rings.add_argument("--ring-down", choices=["none"], default=None,
                       help="none: remove the per-seed ring-down")
    rings.add_argument("--fit-ring-down", metavar="DATA", default=None,
                       help="prepared dataset folder whose valid split the ring-down is fitted to")
    borders = parser.add_mutually_exclusive_group()
    borders.add_argument("--border-soften", choices=["none"], default=None,
                         help="none: remove the border softening")
    borders.add_argument("--fit-border-soften", metavar="DATA", default=None,
                         help="prepared dataset folder whose valid split the border softening is fitted to")
    shading = parser.add_mutually_exclusive_group()
    shading.add_argument("--shading", choices=["none"], default=None,
                         help="none: remove the per-seed shading")
    shading.add_argument("--fit-shading", metavar="DATA", default=None,
                         help="prepared dataset folder whose valid split the shading is fitted to")
    parser.add_argument("--shading-strength", type=shading_strength_value, default=None, metavar="S",
                        help="with --fit-shading: the drawn layouts' spread over the real residuals' (default 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


# what the command line sets ("set": a value) or removes ("remove": its option given "none"),
# in the order the settings are applied
SETTINGS = (("style_scale", "set"), ("grain", "set"), ("tone", "set"), ("depth_gain", "set"),
            ("speckle_shape", "set"), ("tip_gain", "remove"), ("fine_filter", "remove"),
            ("pool_detail", "remove"), ("ring_down", "remove"), ("border_soften", "remove"), ("beam", "set"),
            ("shading", "remove"))
SET_OPTIONS = tuple("--" + name.replace("_", "-") for name, how in SETTINGS if how == "set")
REMOVE_OPTIONS = tuple("--" + name.replace("_", "-") for name, how in SETTINGS if how == "remove")


def given_settings(args: argparse.Namespace) -> dict:
    """The settings the command line sets or removes (a removed one is ``()``), by name."""
    given = {}
    for name, how in SETTINGS:
        value = getattr(args, name)
        if how == "remove":
            value = () if value else None
        if value is not None:
            given[name] = value
    return given


def nothing_to_change() -> str:
    """The refusal of a tune that names no setting: which options change one."""
    from .tune_fits import FITS

    fits = ", ".join("--" + option.replace("_", "-") for _, option, _ in FITS)
    return (f"nothing to change: set {', '.join(SET_OPTIONS)}, remove with {', '.join(REMOVE_OPTIONS)} none, "
            f"or fit with {fits} DATA")


def run(args: argparse.Namespace) -> int:
    from ..errors import CardiganError
    from ..models import open_model, save_model_file
    from ..models.tuning import tune_model
    from .terminal import TerminalProgress
    from .tune_fits import FITS

    if args.shading_strength is not None and not args.fit_shading:
        raise CardiganError("--shading-strength goes with --fit-shading")
    settings = given_settings(args)
    if not settings and not any(getattr(args, option) for _, option, _ in FITS):
        raise CardiganError(nothing_to_change())
    for _, option, _ in FITS:  # every fit's dataset, before the model is read or a fit is run
        if getattr(args, option):
            check_dataset_folder(getattr(args, option), "--" + option.replace("_", "-"), split="valid")
    out = Path(args.out)
    check_model_out(out, args.overwrite)
    model = tune_model(open_model(args.model), **settings)
    tuned = {name: "removed" if value == () else "set" for name, value in settings.items()}
    for setting, option, fitter in FITS:
        data = getattr(args, option)
        if not data:
            continue
        with TerminalProgress() as bars:
            fit, value, report = fitter(data, model, bars, args)
        print(report)
        model = tune_model(model, **{setting: value})
        tuned[setting] = fitted_on(data, fit)
    record = tuning_record(model.provenance, tuned)
    save_model_file(model, out, provenance={"tuned": record} if record else None)
    config = model.config
    gains = ",".join(f"{g:g}" for g in config.depth_gain) or "none"
    print(f"wrote {out}: style scale {config.style_scale:g}, grain {config.grain:g}, tone {config.tone:g}, "
          f"depth gain {gains}, tip gain {','.join(f'{g:g}' for g in config.tip_gain) or 'none'}, "
          f"speckle shape {shape_text(config.speckle_shape)}, "
          f"fine filter {filter_text(config.fine_filter)}, "
          f"pool detail {','.join(f'{g:g}' for g in config.pool_detail) or 'none'}, "
          f"ring-down {len(config.ring_down) or 'none'}{' directions' if config.ring_down else ''}, "
          f"border softening {','.join(f'{s:g}' for s in config.border_soften) or 'none'}, "
          f"shading {shading_text(config.shading)}, beam {config.beam:g}\u00b0")
    return 0
