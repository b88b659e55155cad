"""Coordinate search over uniform ranges, shared by the fitting scripts.

Each pass tries moving each end of each named range by its step, outward and inward; a move
that lowers the loss is kept, a side with no improving move halves its step. Stops after
``passes`` or when no move helped and every step is below ``min_step``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Ranges = dict[str, tuple[float, float]]


def search_ranges(table: Ranges, names, evaluate: Callable[[Ranges], float], steps: dict,
                  bounds: dict, passes: int, log, min_width: float, min_step: float) -> Ranges:
    """The ranges of ``table`` (only ``names`` move, within ``bounds``) that ``evaluate``
    scores lowest, starting from ``steps[(name, side)]``."""
    best = evaluate(table)
    log(f"start: loss {best:.3f}")
    for sweep in range(passes):
        improved = False
        for name in names:
            for side in (0, 1):
                for direction in (1.0, -1.0):
                    low, high = table[name]
                    value = float(np.clip((low, high)[side] + direction * steps[(name, side)], *bounds[name]))
                    candidate_range = (value, high) if side == 0 else (low, value)
                    if candidate_range[1] - candidate_range[0] < min_width:
                        continue
                    candidate = {**table, name: candidate_range}
                    score = evaluate(candidate)
                    if score < best - 1e-4:
                        best, table, improved = score, candidate, True
                        break
                else:
                    steps[(name, side)] *= 0.5
        log(f"pass {sweep + 1}: loss {best:.3f}")
        if not improved and max(steps.values()) < min_step:
            break
    return table
