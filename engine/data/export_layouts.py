"""The four layouts ``cardigan export`` writes, described once for whoever chooses one.

:data:`LAYOUT_NAMES` names each layout in a few words, :data:`LAYOUT_LINES` says where it puts
its pairs, :data:`LAYOUT_DETAILS` what else to know of it (what reads it, what it asks of the
masks or the folder). :data:`CINE_LAYOUT_LINES` says where the layouts that hold loops
(``export --cine``) put them, and :func:`no_loops_reason` why the others cannot. The command line's
``--format`` help, the studio's tooltip on each format and the line said of an output before an
export starts are all made from them, as the writers name the folders. Importing this module
imports nothing (no writer, no torch, no scipy): the command line reads it to build its help.
"""

from __future__ import annotations

# the folders and the file the layouts are made of, as the writers name them
NIFTI_FOLDER, SPLIT_LIST_FOLDER, HDF5_FILE = "database_nifti", "database_split", "synthetic.hdf5"
NNUNET_FOLDERS = ("imagesTr", "labelsTr", "imagesTs", "labelsTs")

# each layout in a few words, for a list to choose one from (the studio's Format box)
LAYOUT_NAMES = {
    "png": "image/label PNG folders (what training reads)",
    "hdf5": "one HDF5 file in the seed's layout",
    "nifti": "NIfTI volumes in the CAMUS 2023 layout",
    "nnunet": "nnU-Net v2's raw dataset layout",
}
# where each layout puts its pairs, said of an output before the export starts
LAYOUT_LINES = {
    "png": "train/, valid/ and test/, each with img/ and label/ PNGs (the prepared layout)",
    "hdf5": f"one file, {HDF5_FILE} (<split>/<patient>/<view>/im and gt),",
    "nifti": f"{NIFTI_FOLDER}/<patient>/ NIfTI volumes (the CAMUS 2023 layout), {SPLIT_LIST_FOLDER}/",
    "nnunet": f"{NNUNET_FOLDERS[0]}/ and {NNUNET_FOLDERS[1]}/ (train and valid), {NNUNET_FOLDERS[2]}/ and "
              f"{NNUNET_FOLDERS[3]}/ (test), dataset.json (nnU-Net v2's raw layout)",
}
# what else to know of a layout when choosing it: what reads it, what it asks of the masks or the folder
LAYOUT_DETAILS = {
    "png": "as prepare writes a dataset: training and the studio's dataset browser read it",
    "hdf5": "the seed's layout: each view's im (2, H, W, 1) and gt (2, H, W) hold its ED and ES, so both "
            "are needed, at one size",
    "nifti": "<patient>_<view>_<ED|ES>[_gt].nii.gz, with each patient's Info_<view>.cfg",
    "nnunet": "name the folder DatasetNNN_Name (e.g. Dataset501_Echo) so that nnU-Net finds it",
}
# where each layout that holds loops puts them (``export --cine``), as the cine writers name them
CINE_LAYOUT_LINES = {
    "nifti": f"{NIFTI_FOLDER}/<patient>/<patient>_<view>_half_sequence.nii.gz (_full_sequence for a full cycle) "
             f"with _gt beside it, its ED and ES frames and Info_<view>.cfg, {SPLIT_LIST_FOLDER}/",
    "hdf5": f"one file, {HDF5_FILE} (<split>/<patient>/<view>/images and masks, a frame each),",
    "png": "train/, valid/ and test/, each with img/ and label/ PNGs, a pair per frame (<patient>_<view>_f<k>)",
}


def no_loops_reason(format: str) -> str | None:
    """Why ``format`` cannot hold loops, in a sentence, or None when it can."""
    if format in CINE_LAYOUT_LINES:
        return None
    *others, last = CINE_LAYOUT_LINES
    return f"{LAYOUT_NAMES[format]} holds still pairs, not loops: loops are written as {', '.join(others)} or {last}"


def layout_contents(format: str, cine: bool = False) -> str:
    """What an export in ``format`` writes into its folder (:data:`LAYOUT_LINES`; with
    ``cine``, loops: :data:`CINE_LAYOUT_LINES`)."""
    return f"{(CINE_LAYOUT_LINES if cine else LAYOUT_LINES)[format]} and manifest.json"


def layout_summary(format: str) -> str:
    """What an export in ``format`` writes (:func:`layout_contents`), then what else to know
    of it (:data:`LAYOUT_DETAILS`): the command line's help on ``--format`` says it of each."""
    return f"{layout_contents(format)}; {LAYOUT_DETAILS[format]}"


def layout_description(format: str) -> str:
    """The layout ``format`` for someone choosing it (the studio's tooltip on it), in a sentence."""
    return f"Writes {layout_summary(format)}"
