"""Batch export of synthetic image/mask pairs as a segmentation dataset.

``sources``  where the masks come from: generated patients or a folder of label maps
``writers``  the four output layouts: prepared folders (png), the seed's HDF5, CAMUS 2023 NIfTI,
             nnU-Net v2's raw dataset
``run``      ``export_dataset``: synthesize patient by patient, stage, commit, manifest

``file_name_problem`` is the check ``export_dataset`` makes first (an output named as a file,
``out.h5`` or ``out.jpg``, is refused as ``phantom`` and ``prepare`` refuse one: every layout is
a folder), from the name alone, for a caller to say before it starts;
``nnunet_name_problem`` is advice a caller gives before it starts an nnU-Net export (a folder
nnU-Net would not find by its name), which the export itself does not refuse.
"""

from ..data.export_layouts import layout_description
from .run import EXPORT_FORMATS, export_dataset
from .writers import file_name_problem, layout_line, main_output, nnunet_name_problem

__all__ = ["EXPORT_FORMATS", "export_dataset", "file_name_problem", "layout_description", "layout_line",
           "main_output", "nnunet_name_problem"]
