"""What ``cardigan refine`` trains with (:class:`RefinerSettings`); free of torch, so that the
command's option table reads its defaults without loading it."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import CardiganError
from ..nets.refiner_limits import near_field_problem, width_problem


@dataclass(frozen=True)
class RefinerSettings:
    iters: int = 1200
    batch_size: int = 8
    width: int = 16
    lambda_reg: float = 10.0  # the self-regularisation's weight
    lambda_detail: float = 300.0  # the weight holding the fine detail's energy per 4x4 block to the input's
    lr: float = 2e-4  # the refiner's; the critic learns at twice this
    near_field: float | None = None  # confine the change to this top share of the fan's depth (None: the whole fan)
    every: int = 1  # draw every N-th train pair
    seed: int = 0
    checkpoint_every: int = 100

    def check(self) -> "RefinerSettings":
        for name in ("iters", "batch_size", "every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise CardiganError(f"the refiner's {name.replace('_', ' ')} must be at least 1")
        if not self.lambda_reg >= 0 or not self.lambda_detail >= 0 or not self.lr > 0:
            raise CardiganError("the refiner's regularisation weights must be >= 0 and its learning rate > 0")
        problem = width_problem(self.width) or (
            near_field_problem(self.near_field) if self.near_field is not None else None)
        if problem:  # a ValueError, as the refiner itself raises for it
            raise ValueError(problem)
        return self
