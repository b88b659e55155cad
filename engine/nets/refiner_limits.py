"""The texture refiner's limits (its width and reach) and the checks that name a value outside
them; free of torch, so that option tables and the model schema read them without loading it."""

from __future__ import annotations

MIN_WIDTH, MAX_WIDTH = 4, 64
MIN_NEAR_FIELD, MAX_NEAR_FIELD = 0.01, 1.0


def width_problem(width) -> str | None:
    """Why ``width`` cannot be a refiner's width, or None."""
    if isinstance(width, bool) or not isinstance(width, int):
        return f"the refiner's width must be a whole number, not {str(width)[:24]!r}"
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        return f"the refiner's width is {width}; it must lie between {MIN_WIDTH} and {MAX_WIDTH}"
    return None


def near_field_problem(near_field) -> str | None:
    """Why ``near_field`` cannot be a refiner's reach (a share of the fan's depth), or None."""
    if isinstance(near_field, bool) or not isinstance(near_field, (int, float)):
        return f"the refiner's near field must be a number, not {str(near_field)[:24]!r}"
    if not MIN_NEAR_FIELD <= near_field <= MAX_NEAR_FIELD:
        return (f"the refiner's near field is {near_field}; it must lie between {MIN_NEAR_FIELD:g} and "
                f"{MAX_NEAR_FIELD:g} of the fan's depth")
    return None
