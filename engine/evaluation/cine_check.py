"""How a model's cine loops move: the loop measures of :mod:`engine.cine.measures` in an evaluation.

CAMUS stores only each sequence's ED and ES frames, so there is no real loop to compare with;
what is reported is how steady a model's loops are, beside the worst case of a fresh seed every
frame. ``loops`` shape-model hearts (:meth:`engine.anatomy.ShapeModel.draw`, seeds from
``seed``; 4CH and 2CH in turn, the median fan of each view) beat one full cycle of ``frames``
frames at the evaluation's image size, drawn as ``cardigan cine`` draws them
(:func:`engine.cine.synthesize_loop`: one noise map carried with the tissue, fresh speckle in
the pools, brightness held steady). Each figure is the median over the loops:

- ``flicker``: grey-level change from frame to frame where the labels stay
  (:func:`~engine.cine.measures.flicker`); ``flicker_fresh_seeds`` the same loops drawn with a
  new seed every frame;
- ``far_field_flicker``: median and worst frame pair of the far field's σ 4 blur
  (:func:`~engine.cine.measures.far_field_flicker`);
- ``brightness_jumps``: per region, median and largest frame-to-frame step of its mean grey
  (:func:`~engine.cine.measures.brightness_jumps`);
- ``tracking_share``: moving-wall patches whose speckle follows the motion
  (:func:`~engine.cine.measures.speckle_tracking`).
"""

from __future__ import annotations

import statistics

import numpy as np

from ..progress import Cancelled, Progress, ProgressCallback, StopCheck, never_stop, no_progress

VIEWS = ("4CH", "2CH")
BPM = 65.0


def _median(rows: list[dict], *keys: str) -> float:
    values = []
    for row in rows:
        value = row
        for key in keys:
            value = value[key]
        if value == value:  # NaN: a loop without that region or that far field
            values.append(value)
    return float(statistics.median(values)) if values else float("nan")


def cine_check(synth, size: int, loops: int = 3, frames: int = 16, seed: int = 0,
               progress: ProgressCallback = no_progress, should_stop: StopCheck = never_stop) -> dict:
    """The module's figures for ``synth`` (a :class:`~engine.synthesizer.Synthesizer`) on
    ``loops`` loops of ``frames`` frames at ``size`` x ``size``."""
    from ..anatomy import ShapeModel
    from ..cine import Timing, synthesize_loop
    from ..cine.loop import loop_from_heart
    from ..cine.measures import brightness_jumps, far_field_flicker, flicker, speckle_tracking
    from ..synthesizer import to_uint8

    shapes = ShapeModel.default()
    timing = Timing(bpm=BPM, fps=frames * BPM / 60.0, frames=frames)
    rows = []
    for index in range(loops):
        if should_stop():
            raise Cancelled()
        view = VIEWS[index % len(VIEWS)]
        loop = loop_from_heart(shapes, shapes.draw(seed + index), view, size, timing)
        images = synthesize_loop(synth, loop, seed=seed + index)
        fresh = np.stack([to_uint8(synth.synthesize(mask, seed=seed + 10_000 * (index + 1) + k))
                          for k, mask in enumerate(loop.masks)])
        rows.append({"flicker": flicker(images, loop.masks), "flicker_fresh_seeds": flicker(fresh, loop.masks),
                     "far_field_flicker": far_field_flicker(images, loop.masks),
                     "brightness_jumps": brightness_jumps(images, loop.masks),
                     "tracking_share": speckle_tracking(images, loop.masks, loop.field,
                                                        loop.phases)["share_better_displaced"]})
        progress(Progress("cine loops", index + 1, loops))
    if not rows:
        return {"loops": 0, "frames": frames}
    regions = rows[0]["brightness_jumps"]
    return {"loops": loops, "frames": frames,
            "flicker": _median(rows, "flicker"), "flicker_fresh_seeds": _median(rows, "flicker_fresh_seeds"),
            "far_field_flicker": {k: _median(rows, "far_field_flicker", k) for k in ("median", "worst")},
            "brightness_jumps": {region: {k: _median(rows, "brightness_jumps", region, k) for k in ("median", "worst")}
                                 for region in regions},
            "tracking_share": _median(rows, "tracking_share")}
