"""The built-in ``simulator`` model: the physics-flavoured ultrasound simulator as a model."""

from __future__ import annotations

import numpy as np

from ..labels import label_table


class SimulatorModel:
    """Label map -> simulated B-mode image; no weights, runs on the CPU, varies with the seed."""

    name = "simulator"
    kind = "simulator"
    path = None
    stochastic = True
    min_size = 32

    def check_input_size(self, height: int, width: int) -> str | None:
        if height < self.min_size or width < self.min_size:
            return f"the simulator needs label maps of at least {self.min_size}x{self.min_size}"
        return None

    def render(self, labels: np.ndarray, seed: int, fan=None) -> np.ndarray:
        """(H, W) label map -> (H, W) float32 image in [-1, 1], inside ``fan`` when given."""
        from ..simulator import simulate

        image = simulate(labels, seed=seed, fan=fan)
        return image.astype(np.float32) / 127.5 - 1.0

    def summary(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": None,
            "architecture": {"type": "ultrasound simulator (speckle, point-spread function, "
                                     "log compression, scan conversion)"},
            "parameters": 0,
            "encoder_parameters": 0,
            "image_size": None,
            "output_channels": 1,
            "stochastic": True,
            "labels": label_table(),
            "provenance": {"source": "built in"},
        }
