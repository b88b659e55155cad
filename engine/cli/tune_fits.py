"""The fits ``cardigan tune`` runs, in the order it runs them.

Each fit measures real images of a prepared dataset's valid split against the model's own of
the same masks and returns the setting that closes the gap. A fitter here takes (dataset,
model, progress, command-line arguments) and returns (the fit's result, the setting's value,
one line or a few saying what was fitted); ``tune`` applies the value and records where it
came from. Later fits see the model with the earlier ones applied.
"""

from __future__ import annotations


def _tone(data, model, bars, args):
    from ..evaluation.tone_fit import fit_model_tone

    fit = fit_model_tone(data, model, "valid", progress=bars)
    untoned_gap = max(abs(g) for g in fit["gaps"][1.0].values())
    return fit, fit["best"], (
        f"tone {fit['best']:g} fitted on {fit['images']} valid pairs; grey-level gap per region "
        + "   ".join(f"{name} {gap:+.1f}" for name, gap in fit["gaps"][fit["best"]].items())
        + f" (largest at tone 1: {untoned_gap:.1f})")


def _depth_gain(data, model, bars, args):
    from ..evaluation.depth_fit import fit_model_depth_gain

    fit = fit_model_depth_gain(data, model, "valid", progress=bars)
    return fit, fit["gains"], (
        f"depth gain fitted on {fit['images']} valid pairs; mean grey level per depth bin, real / model: "
        + "  ".join(f"{r:.0f}/{s:.0f}" for r, s in zip(fit["real"], fit["synthetic"])))


def _tip_gain(data, model, bars, args):
    from ..evaluation.tip_fit import fit_model_tip_gain

    fit = fit_model_tip_gain(data, model, "valid", progress=bars)
    return fit, fit["gains"], (
        f"tip gain fitted on {fit['images']} valid pairs; mean grey level per pixel of depth, real / model: "
        + "  ".join("-" if r != r else f"{r:.0f}/{m:.0f}" for r, m in zip(fit["real"], fit["synthetic"])))


def _speckle_shape(data, model, bars, args):
    from ..evaluation.speckle_fit import fit_model_speckle_shape

    fit = fit_model_speckle_shape(data, model, "valid", progress=bars)
    rows = ["  " + "   ".join(f"{r:.2f} {b:.2f} {a:.2f}" for r, b, a in zip(real[1:], before[1:], after[1:]))
            for real, before, after in zip(fit["real"], fit["synthetic"], fit["fitted"])]
    return fit, fit["shape"], "\n".join(
        [f"speckle shape fitted on {fit['images']} valid pairs; per depth bin, lateral / axial correlation "
         "real, model before, after:"] + rows)


def _fine_filter(data, model, bars, args):
    from ..evaluation.fine_filter_fit import fit_model_fine_filter

    fit = fit_model_fine_filter(data, model, "valid", progress=bars)
    octave = fit["finest_octave"]
    return fit, fit["fine_filter"], (
        f"fine filter fitted on {fit['images']} valid pairs ({fit['windows']} windows inside the fans); "
        "finest octave, falloff / vertical over horizontal: real "
        + ", model ".join(f"{octave[k]['falloff']:.2f} / {octave[k]['anisotropy']:.2f}" for k in ("real", "model"))
        + f", filtered {octave['filtered']['falloff']:.2f} / {octave['filtered']['anisotropy']:.2f}")


def _pool_detail(data, model, bars, args):
    from ..evaluation.pool_detail_fit import fit_model_pool_detail

    fit = fit_model_pool_detail(data, model, "valid", progress=bars)
    return fit, fit["gains"], (
        f"pool detail fitted on {fit['images']} valid pairs; median detail of the pools by their mean depth, "
        "real / model: " + "  ".join("-" if r != r else f"{r:.1f}/{m:.1f}"
                                     for r, m in zip(fit["real"], fit["synthetic"])))


def _ring_down(data, model, bars, args):
    from ..evaluation.ring_down_fit import RANGES, fit_model_ring_down

    fit = fit_model_ring_down(data, model, "valid", progress=bars)
    return fit, fit["ring_down"], (
        f"ring-down fitted on {fit['images']} valid pairs: {len(fit['ring_down'])} directions; bands along "
        "the arcs by depth, real / model before / after: "
        + "  ".join(f"{low:g}-{high:g} {r:.1f}/{s:.1f}/{f:.1f}" for (low, high), r, s, f
                    in zip(RANGES, fit["real"], fit["synthetic"], fit["fitted"])))


def _border_soften(data, model, bars, args):
    from ..evaluation.border_soften_fit import fit_model_border_soften
    from ..evaluation.borders import BORDERS

    fit = fit_model_border_soften(data, model, "valid", progress=bars)
    return fit, fit["strengths"], (
        f"border softening fitted on {fit['images']} valid pairs; edge at each border over 5-10 px away, "
        "real / model before / after (strength): "
        + "  ".join(f"{name} {r:.2f}/{s:.2f}/{f:.2f} ({k:g})" for (name, _, _), r, s, f, k
                    in zip(BORDERS, fit["real"], fit["synthetic"], fit["fitted"], fit["strengths"])))


def _shading(data, model, bars, args):
    from ..evaluation.shading_fit import DEFAULT_STRENGTH, fit_model_shading
    from .tune import shading_text

    strength = DEFAULT_STRENGTH if args.shading_strength is None else args.shading_strength
    fit = fit_model_shading(data, model, "valid", strength=strength, progress=bars)
    return fit, fit["shading"], (
        f"shading fitted on {fit['images']} valid pairs: {shading_text(fit['shading'])} keep "
        f"{fit['explained']:.0%} of the real-minus-model variance (spread {fit['spread']:.2f} log units "
        f"per cell), strength {strength:g}")


# (the model setting, the option naming the dataset it is fitted to, the fitter), in fitting order
FITS = (
    ("tone", "fit_tone", _tone),
    ("depth_gain", "fit_depth_gain", _depth_gain),
    ("tip_gain", "fit_tip_gain", _tip_gain),
    ("speckle_shape", "fit_speckle_shape", _speckle_shape),
    ("fine_filter", "fit_fine_filter", _fine_filter),
    ("pool_detail", "fit_pool_detail", _pool_detail),
    ("ring_down", "fit_ring_down", _ring_down),
    ("border_soften", "fit_border_soften", _border_soften),
    ("shading", "fit_shading", _shading),
)
