import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image

from engine.errors import MaskError
from engine.labels import LABELS, NUM_CLASSES, colorize, one_hot, validate_label_map
from engine.maskio import read_label_map, read_label_png, write_label_png


def test_label_table_is_the_design_table():
    assert [(lab.id, lab.name) for lab in LABELS] == [
        (0, "Background"), (1, "LV cavity"), (2, "Myocardium"), (3, "Left atrium")]
    assert [lab.shortcut for lab in LABELS] == ["0", "1", "2", "3"]
    assert len({lab.color for lab in LABELS}) == NUM_CLASSES


def test_bad_values_are_named_not_clipped():
    labels = np.zeros((8, 8), np.uint8)
    labels[0, 0], labels[1, 1] = 7, 255
    with pytest.raises(MaskError, match=r"mask.png: values 7 and 255 are not labels"):
        validate_label_map(labels, "mask.png")


def test_one_bad_value_is_named_in_the_singular():
    with pytest.raises(MaskError, match=r"^mask.png: value 4 is not a label \(allowed"):
        validate_label_map(np.full((8, 8), 4, np.uint8), "mask.png")


def test_many_bad_values_are_counted_past_the_ones_shown():
    from engine.labels import not_labels
    assert not_labels(list(range(4, 14))) == "values 4, 5, 6, 7, 8, 9, 10 and 3 more are not labels"
    assert not_labels(list(range(4, 12))) == "values 4, 5, 6, 7, 8, 9, 10 and 11 are not labels"


def test_float_maps_with_fractions_are_refused():
    with pytest.raises(MaskError, match="0.5"):
        validate_label_map(np.full((4, 4), 0.5), "m")
    assert validate_label_map(np.full((4, 4), 2.0), "m").dtype == np.uint8


def test_one_hot_channel_k_is_label_k():
    labels = np.array([[0, 1], [2, 3]], np.uint8)
    encoded = one_hot(labels)
    assert encoded.shape == (1, 4, 2, 2)
    for k in range(4):
        assert np.array_equal(encoded[0, k].numpy(), (labels == k).astype(np.float32))


def test_png_round_trip(tmp_path):
    labels = np.random.default_rng(0).integers(0, 4, (40, 56)).astype(np.uint8)
    path = tmp_path / "m.png"
    write_label_png(path, labels)
    assert Image.open(path).mode == "L"
    assert np.array_equal(read_label_png(path), labels)


def test_writing_bad_labels_writes_nothing(tmp_path):
    with pytest.raises(MaskError):
        write_label_png(tmp_path / "m.png", np.full((4, 4), 9, np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_colour_png_is_refused_with_what_is_expected(tmp_path):
    labels = np.random.default_rng(1).integers(0, 4, (16, 16)).astype(np.uint8)
    Image.fromarray(colorize(labels)).save(tmp_path / "colour.png")
    with pytest.raises(MaskError, match="colour image; expected an 8-bit single-channel label map"):
        read_label_png(tmp_path / "colour.png")


def test_grey_rgb_png_is_accepted(tmp_path):
    labels = np.random.default_rng(2).integers(0, 4, (16, 16)).astype(np.uint8)
    Image.fromarray(np.stack([labels] * 3, -1)).save(tmp_path / "grey.png")
    assert np.array_equal(read_label_png(tmp_path / "grey.png"), labels)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(MaskError, match="no such file"):
        read_label_map(tmp_path / "nope.png")
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(MaskError, match="not a readable image"):
        read_label_map(tmp_path / "junk.png")


@pytest.mark.parametrize("name", ["p_4CH_ED_gt.mhd", "p_4CH_ED_gt.nii.gz"])
def test_camus_ground_truth_keeps_orientation(tmp_path, name):
    labels = np.zeros((30, 20), np.uint8)  # rows x columns, non-square
    labels[2:5, 1:4] = 3  # near the top-left corner
    labels[20:28, 10:18] = 1
    sitk.WriteImage(sitk.GetImageFromArray(labels), str(tmp_path / name))
    assert np.array_equal(read_label_map(tmp_path / name), labels)


def test_camus_file_with_bad_values(tmp_path):
    sitk.WriteImage(sitk.GetImageFromArray(np.full((8, 8), 5, np.uint8)), str(tmp_path / "x_gt.mhd"))
    with pytest.raises(MaskError, match="label value 5 is not ours .* nothing names it; relabel it to 1-3"):
        read_label_map(tmp_path / "x_gt.mhd")


def test_write_nifti_round_trips_a_frame_and_a_stack_and_refuses_other_names(tmp_path):
    import SimpleITK as sitk

    from engine.errors import CardiganError
    from engine.maskio import nifti_suffix, read_volume_label, write_nifti

    labels = np.zeros((40, 30), np.uint8)
    labels[5:20, 4:12], labels[20:35, 10:25] = 1, 3
    write_nifti(tmp_path / "m.nii.gz", labels)
    assert (read_volume_label(tmp_path / "m.nii.gz") == labels).all()  # rows stay rows
    stack = np.stack([labels * 50, labels * 60])
    write_nifti(tmp_path / "s.NII", stack, spacing_mm=0.3)
    volume = sitk.ReadImage(str(tmp_path / "s.NII"))
    assert volume.GetSize() == (30, 40, 2) and volume.GetSpacing() == pytest.approx((0.3, 0.3, 1.0))
    assert (sitk.GetArrayFromImage(volume) == stack).all()
    assert [nifti_suffix(n) for n in ("a.nii.gz", "a.NII", "a.png", "a.gz")] == [".nii.gz", ".nii", None, None]
    with pytest.raises(CardiganError, match="ends in .nii.gz or .nii"):
        write_nifti(tmp_path / "m.png", labels)
    with pytest.raises(CardiganError, match="shape"):
        write_nifti(tmp_path / "v.nii.gz", np.zeros((2, 2, 2, 2), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.nii.gz", "s.NII"]  # nothing else left



def test_a_mask_scaled_for_viewing_is_refused_with_the_way_back():
    from engine.labels import validate_label_map

    scaled = np.array([[0, 85], [170, 255]], np.uint8)
    with pytest.raises(MaskError, match=r"values 85, 170 and 255 are not labels: .*multiplied by 85.*divide it by 85"):
        validate_label_map(scaled, "seen.png")
    with pytest.raises(MaskError, match=r"values 7 and 85 are not labels \(allowed"):
        validate_label_map(np.array([[0, 7], [85, 1]], np.uint8), "other.png")  # not the viewing scale
    assert (validate_label_map(scaled // 85, "fixed.png") == [[0, 1], [2, 3]]).all()


def test_a_label_files_stem_drops_only_a_known_suffix():
    from engine.maskio import mask_name_stem

    names = {"case.seg.nrrd": "case", "case.NII.GZ": "case", "p_4CH_ED_gt.mhd": "p_4CH_ED_gt",
             "x.nrrd": "x", "mask.png": "mask", "notes.txt": "notes.txt", "a.b.nii": "a.b"}
    assert {name: mask_name_stem(name) for name in names} == names


def test_a_palette_png_reads_as_a_viewer_shows_it(tmp_path):
    labels = np.array([[0, 1, 2, 3, 1], [3, 2, 1, 0, 0], [1, 1, 2, 2, 3]], np.uint8)
    # a grey map whose palette an optimiser reordered: index i shows grey order[i]
    order = [3, 0, 2, 1]
    shuffled = Image.fromarray(np.array([order.index(v) for v in labels.ravel()], np.uint8).reshape(labels.shape), "P")
    shuffled.putpalette([g for v in order for g in (v, v, v)])
    shuffled.save(tmp_path / "shuffled.png")
    assert np.array_equal(read_label_png(tmp_path / "shuffled.png"), labels)
    # a palette that colours the classes (Pascal VOC's way): the indices are the labels
    coloured = Image.fromarray(labels, "P")
    coloured.putpalette([0, 0, 0, 200, 30, 30, 30, 200, 30, 30, 30, 200])
    coloured.save(tmp_path / "coloured.png")
    assert np.array_equal(read_label_png(tmp_path / "coloured.png"), labels)
    # greys scaled for viewing (0, 85, 170, 255): the indices are the labels
    scaled = Image.fromarray(labels, "P")
    scaled.putpalette([g for v in (0, 85, 170, 255) for g in (v, v, v)])
    scaled.save(tmp_path / "scaled.png")
    assert np.array_equal(read_label_png(tmp_path / "scaled.png"), labels)


def test_a_killed_volume_write_leaves_nothing_that_looks_like_a_volume(tmp_path, monkeypatch):
    import SimpleITK as sitk

    from engine.maskio import write_nifti

    write_nifti(tmp_path / "case_gt.nii.gz", np.ones((6, 5), np.uint8))
    real = sitk.WriteImage

    def killed(image, name, *args):
        real(image, name, *args)  # the bytes are out, then Ctrl-C before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(sitk, "WriteImage", killed)
    with pytest.raises(KeyboardInterrupt):
        write_nifti(tmp_path / "case_gt.nii.gz", np.full((6, 5), 2, np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case_gt.nii.gz"]  # nothing beside it
    assert np.array_equal(read_label_map(tmp_path / "case_gt.nii.gz"), np.ones((6, 5), np.uint8))  # kept whole


def test_a_loop_with_one_painted_frame_reads_as_that_frame(tmp_path):
    from engine.maskio import write_nifti

    frame = np.zeros((6, 5), np.uint8)
    frame[1:4, 1:3] = 1
    frame[4, :] = 3
    loop = np.zeros((4, 6, 5), np.uint8)
    loop[2] = frame  # a cine opened in ITK-SNAP, one frame painted
    write_nifti(tmp_path / "loop_gt.nii.gz", loop)
    assert np.array_equal(read_label_map(tmp_path / "loop_gt.nii.gz"), frame)
    loop[0] = frame
    write_nifti(tmp_path / "two_gt.nii.gz", loop)
    with pytest.raises(MaskError, match="labels on 2 frames"):
        read_label_map(tmp_path / "two_gt.nii.gz")


def test_nifti_pixels_span_the_same_field_at_any_size(tmp_path):
    import SimpleITK as sitk

    from engine.maskio import write_nifti

    for width in (128, 256, 512):
        write_nifti(tmp_path / f"w{width}.nii.gz", np.zeros((width // 2, width), np.uint8))
        spacing = sitk.ReadImage(str(tmp_path / f"w{width}.nii.gz")).GetSpacing()
        assert spacing[0] * width == pytest.approx(0.6 * 256) and spacing[0] == spacing[1]
    write_nifti(tmp_path / "given.nii", np.zeros((4, 8, 8), np.uint8), spacing_mm=0.25)
    assert sitk.ReadImage(str(tmp_path / "given.nii")).GetSpacing() == pytest.approx((0.25, 0.25, 1.0))


def test_the_allowed_labels_are_named_as_the_studio_names_them():
    """A refused mask's message lists the classes with "LV" in capitals, as every panel shows it."""
    from engine.labels import validate_label_map
    from engine.maskio import EXPECTED

    with pytest.raises(MaskError) as refused:
        validate_label_map(np.array([[0, 7], [1, 2]], np.uint8), "other.png")
    assert "allowed: 0 background, 1 LV cavity, 2 myocardium, 3 left atrium" in str(refused.value)
    assert "1 (LV cavity)" in EXPECTED and "lv cavity" not in EXPECTED


def test_an_unreadable_image_is_told_in_words_not_by_an_exception_class(tmp_path):
    """A file that is no image, and a PNG cut short, each say what is wrong in one plain line."""
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(MaskError) as junk:
        read_label_map(tmp_path / "junk.png")
    assert "no image format known here" in str(junk.value) and "Error" not in str(junk.value)
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "whole.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "whole.png").read_bytes()[:60])
    with pytest.raises(MaskError) as cut:
        read_label_map(tmp_path / "cut.png")
    assert "not a readable image" in str(cut.value) and "Error" not in str(cut.value)
    assert len(str(cut.value).splitlines()) == 1


@pytest.mark.parametrize("images, masks", [("x.nii.gz", "x_gt.nii.gz"), ("Case.NII.GZ", "Case_gt.NII.GZ"),
                                           ("x.nii", "x_gt.nii"), ("p_4CH_ED.mhd", "p_4CH_ED_gt.mhd"),
                                           ("loop", "loop_gt")])
def test_the_masks_of_images_are_named_by_one_rule_both_ways(tmp_path, images, masks):
    from engine.maskio import images_path_for, mask_path_for

    assert mask_path_for(tmp_path / images) == tmp_path / masks
    assert images_path_for(tmp_path / masks) == tmp_path / images
    assert images_path_for(tmp_path / masks.replace("_gt", "_GT")).name.lower() == images.lower()
    assert images_path_for(tmp_path / images) is None and images_path_for(tmp_path / "_gt.nii.gz") is None


def test_the_studio_finds_a_loops_images_by_the_rule_the_export_names_them_by(tmp_path, monkeypatch):
    import engine.maskio as maskio
    from cardigan_app.mask_reading import images_beside
    from engine.cine.writers import write_loop

    monkeypatch.setattr(maskio, "MASKS_MARK", "_labels")  # the rule changed in its one place ...
    masks = np.zeros((3, 16, 16), np.uint8)
    masks[:, 4:8, 4:8] = 1
    written = write_loop(tmp_path / "loop.nii.gz", np.zeros((3, 16, 16), np.uint8), masks, fps=10)
    assert [path.name for path in written] == ["loop.nii.gz", "loop_labels.nii.gz"]  # ... is the export's
    assert images_beside(written[1]) == written[0]  # ... and the studio's way back
