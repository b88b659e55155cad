"""Batch export of synthetic image/mask pairs as a segmentation dataset.

``sources``  where the masks come from: generated patients or a folder of label maps
``writers``  the three output layouts: prepared folders (png), the seed's HDF5, CAMUS 2023 NIfTI
``run``      ``export_dataset``: synthesize patient by patient, stage, commit, manifest
"""

from .run import EXPORT_FORMATS, export_dataset

__all__ = ["EXPORT_FORMATS", "export_dataset"]
