"""Exports hold to the rules of the tools a segmentation dataset is fed to: the CAMUS 2023
release's folder (what a loader written for it reads) and nnU-Net v2's raw dataset."""

import numpy as np
import SimpleITK as sitk

from engine.cine import Timing
from engine.cli.main import main
from engine.data.camus import read_cfg


def read(path):
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def test_a_cine_nifti_export_has_camus_key_frames_and_info_files(tmp_path, capsys):
    """CAMUS 2023 loaders find ED and ES in a half sequence by Info_<view>.cfg (1-based ED, ES,
    NbFrame) and read the key frames as <patient>_<view>_<ED|ES>[_gt].nii.gz beside it."""
    from engine.export.cine import export_cine

    out = tmp_path / "cine"
    export_cine("simulator", out, random=1, views=("4CH",), format="nifti", size=32, seed=1,
                timing=Timing(fps=12, bpm=60, cycle="half"))
    folder = out / "database_nifti" / "patient0001"
    info = read_cfg(folder / "Info_4CH.cfg")
    sequence, masks = read(folder / "patient0001_4CH_half_sequence.nii.gz"), read(
        folder / "patient0001_4CH_half_sequence_gt.nii.gz")
    assert (info["ED"], info["ES"], info["NbFrame"]) == ("1", str(len(sequence)), str(len(sequence)))
    for key, frame in (("ED", 0), ("ES", len(sequence) - 1)):
        image = sitk.ReadImage(str(folder / f"patient0001_4CH_{key}.nii.gz"))
        assert image.GetDimension() == 2
        assert np.array_equal(sitk.GetArrayFromImage(image), sequence[frame])
        assert np.array_equal(read(folder / f"patient0001_4CH_{key}_gt.nii.gz"), masks[frame])
    # and it prepares as a CAMUS 2023 folder does: the key frames as pairs
    assert main(["prepare", "--source", str(out), "--out", str(tmp_path / "prepared"), "--views", "4CH",
                 "--size", "32"]) == 0
    capsys.readouterr()
    assert len(list((tmp_path / "prepared").glob("*/label/*.png"))) == 2


def test_a_full_cycle_is_named_beside_camus_half_sequence_and_never_as_one(tmp_path):
    """CAMUS 2023 names only the half sequence (ED to ES); a full cycle was `_sequence`, a name of no release."""
    from engine.export.cine import export_cine

    manifest = export_cine("simulator", tmp_path / "cine", random=1, views=("4CH",), format="nifti", size=32,
                           seed=1, timing=Timing(fps=6, bpm=60, cycle="full"))
    folder = tmp_path / "cine" / "database_nifti" / "patient0001"
    assert sorted(p.name for p in folder.glob("*sequence*")) == ["patient0001_4CH_full_sequence.nii.gz",
                                                                 "patient0001_4CH_full_sequence_gt.nii.gz"]
    assert manifest["sequences"][0]["files"][0] == "database_nifti/patient0001/patient0001_4CH_full_sequence.nii.gz"


def test_nifti_frames_are_2d_as_camus_has_them_and_keep_their_masks_geometry(tmp_path):
    """A mask read from a 2-D NIfTI goes out as a 2-D frame with the mask's spacing, origin and
    direction (not a one-slice 3-D volume a CAMUS loader would find an axis too many in); a
    slice lying off the z = 0 plane of a 3-D volume keeps its third axis."""
    from engine.anatomy import template_mask
    from engine.export import export_dataset

    masks = tmp_path / "masks"
    masks.mkdir()
    for phase in ("ED", "ES"):
        flat = sitk.GetImageFromArray(template_mask("4CH", phase, seed=1, size=32))
        flat.SetSpacing((0.3, 0.4))
        flat.SetOrigin((5.0, -2.0))
        flat.SetDirection((-1.0, 0.0, 0.0, 1.0))
        sitk.WriteImage(flat, str(masks / f"flat_4CH_{phase}.nii.gz"))
        raised = sitk.GetImageFromArray(template_mask("2CH", phase, seed=2, size=32)[None])
        raised.SetOrigin((0.0, 0.0, 7.0))
        sitk.WriteImage(raised, str(masks / f"raised_2CH_{phase}.nii.gz"))
    export_dataset("simulator", tmp_path / "out", masks=masks, format="nifti")
    root = tmp_path / "out" / "database_nifti"
    for name in ("flat_4CH_ED.nii.gz", "flat_4CH_ED_gt.nii.gz"):
        frame = sitk.ReadImage(str(root / "flat" / name))
        assert frame.GetDimension() == 2 and frame.GetSize() == (32, 32)
        assert np.allclose(frame.GetSpacing(), (0.3, 0.4)) and np.allclose(frame.GetOrigin(), (5.0, -2.0))
        assert np.allclose(frame.GetDirection(), (-1.0, 0.0, 0.0, 1.0))
    raised = sitk.ReadImage(str(root / "raised" / "raised_2CH_ES_gt.nii.gz"))
    assert raised.GetDimension() == 3 and np.allclose(raised.GetOrigin(), (0.0, 0.0, 7.0))


def test_cine_nifti_cfgs_give_the_biplane_lv_ef_of_the_key_frames_in_both_cycles(tmp_path):
    """As a NIfTI pair export's, a cine export's Info_<view>.cfg gives one LVef per patient in
    both views: Simpson's biplane rule on the ED and ES key frames' masks written beside it."""
    from engine.anatomy.measures import masks_biplane_ef
    from engine.export.cine import export_cine

    for cycle in ("half", "full"):
        out = tmp_path / cycle
        export_cine("simulator", out, random=1, format="nifti", size=64, seed=1,
                    timing=Timing(fps=6, bpm=60, cycle=cycle))
        folder = out / "database_nifti" / "patient0001"
        masks = {(view, key): read(folder / f"patient0001_{view}_{key}_gt.nii.gz")
                 for view in ("2CH", "4CH") for key in ("ED", "ES")}
        measured = masks_biplane_ef(masks)
        assert measured is not None and 20 < measured < 90
        cfgs = [read_cfg(folder / f"Info_{view}.cfg") for view in ("2CH", "4CH")]
        assert cfgs[0]["LVef"] == cfgs[1]["LVef"] == str(round(measured, 2))
        assert {"ED", "ES", "NbFrame", "FrameRate"} <= set(cfgs[0])


def test_a_cine_nifti_export_of_one_view_gives_no_lv_ef(tmp_path):
    """Simpson's biplane rule needs both views: a 4CH-only export's cfg has no LVef."""
    from engine.export.cine import export_cine

    export_cine("simulator", tmp_path / "cine", random=1, views=("4CH",), format="nifti", size=32, seed=1,
                timing=Timing(fps=6, bpm=60, cycle="half"))
    assert "LVef" not in read_cfg(tmp_path / "cine" / "database_nifti" / "patient0001" / "Info_4CH.cfg")


def test_a_nifti_export_records_and_says_the_spacing_it_gave_masks_that_had_none(tmp_path, capsys):
    """A PNG mask carries no spacing: its NIfTI pair gets the default (a 15 cm wide field, 4.8
    mm at 32 px), recorded in the manifest and said as a default, not a measurement; a mask
    read from a volume keeps, and records, its own."""
    import json

    from engine.anatomy import template_mask
    from engine.data.imaging import save_png

    masks = tmp_path / "masks"
    masks.mkdir()
    for phase in ("ED", "ES"):
        save_png(masks / f"drawn_4CH_{phase}.png", template_mask("4CH", phase, seed=1, size=32))
        scanned = sitk.GetImageFromArray(template_mask("2CH", phase, seed=2, size=32))
        scanned.SetSpacing((0.3, 0.5))
        sitk.WriteImage(scanned, str(masks / f"scanned_2CH_{phase}.nii.gz"))
    out = tmp_path / "out"
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--format", "nifti",
                 "--out", str(out)]) == 0
    record = json.loads((out / "manifest.json").read_text())["output"]["pixel_spacing"]
    assert record == [{"mm": [0.3, 0.5], "from": "the mask's volume", "pairs": 2},
                      {"mm": [4.8, 4.8], "from": "default (the mask records none): a 15 cm wide field, "
                                                 "0.6 mm at 256 px", "pairs": 2}]
    for name, spacing in (("drawn/drawn_4CH_ES_gt", (4.8, 4.8)), ("scanned/scanned_2CH_ED_gt", (0.3, 0.5))):
        assert np.allclose(sitk.ReadImage(str(out / "database_nifti" / f"{name}.nii.gz")).GetSpacing(), spacing)
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "NIfTI pixel spacing 4.8 mm (2 pairs) is a default, not a measurement: the masks record none, so a 15 cm "
        "wide field is assumed (0.6 mm at 256 px; manifest.json: output.pixel_spacing)")


def test_prepare_refuses_a_cine_hdf5_export_saying_what_it_holds_and_what_it_reads(tmp_path):
    """A cine export's HDF5 holds loops (images, masks), not the seed's ED/ES pairs: prepare
    says so and names the layout it reads loops from, not only the datasets it missed."""
    import pytest

    from engine.data.prepare import prepare_dataset
    from engine.errors import DataError
    from engine.export.cine import export_cine

    export_cine("simulator", tmp_path / "cine", random=1, views=("4CH",), format="hdf5", size=32, seed=1,
                timing=Timing(bpm=60, fps=4))
    with pytest.raises(DataError, match=r"/4CH: holds a loop \(images and masks, as export --cine writes\), not the "
                                        r"seed's ED/ES pair \('im' and 'gt'\); export the loops as nifti"):
        prepare_dataset(tmp_path / "cine" / "synthetic.hdf5", tmp_path / "prep", size=32, workers=1)
    assert not (tmp_path / "prep").exists()
