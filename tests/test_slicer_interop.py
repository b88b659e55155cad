"""Segmentations exchanged with slicerio, the 3D Slicer project's own reader and writer of
``.seg.nrrd`` files: what we write reads there as Slicer would show it, and what it writes
(Slicer's values and names, one or several layers) reads here as our label map."""

from __future__ import annotations

import numpy as np
import pytest
import slicerio

from engine.errors import MaskError
from engine.labels import LABELS
from engine.maskio import read_label_map
from engine.slicer_segments import write_segmentation
from label_maps import small_heart


def slicer_file(path, layers: np.ndarray, segments) -> None:
    """``layers`` (L, H, W) of Slicer's values; ``segments`` (name, value, layer)."""
    voxels = np.moveaxis(layers, 1, 2)[..., None]  # slicerio's voxels are indexed (column, row, slice)
    segmentation = {
        "voxels": voxels[0] if len(layers) == 1 else voxels, "encoding": "gzip",
        "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]),
        "containedRepresentationNames": ["Binary labelmap"], "masterRepresentation": "Binary labelmap",
        "segments": [{"id": f"Segment_{i + 1}", "name": name, "labelValue": value, "layer": layer,
                      "color": [0.5, 0.5, 0.5]} for i, (name, value, layer) in enumerate(segments)],
    }
    slicerio.write_segmentation(str(path), segmentation)


def test_slicerio_reads_our_segmentation_with_each_class_named_coloured_and_in_place(tmp_path):
    labels = small_heart()
    labels[labels == 3] = 0  # an absent class keeps its empty segment
    path = tmp_path / "mask.seg.nrrd"
    write_segmentation(path, labels)
    seen = slicerio.read_segmentation(str(path))
    assert [(s["name"], s["labelValue"], s["layer"]) for s in seen["segments"]] == [
        (lab.name, lab.id, 0) for lab in LABELS[1:]]
    assert [s["color"] for s in seen["segments"]] == [
        pytest.approx([c / 255 for c in lab.color], abs=1e-4) for lab in LABELS[1:]]
    assert seen["segments"][0]["extent"] == [10, 21, 7, 22, 0, 0]
    assert [s["terminology"]["type"] for s in seen["segments"]] == [
        ["SCT", "87878005", "Left ventricle"], ["SCT", "74281007", "Myocardium"], ["SCT", "82471001", "Left atrium"]]
    assert {s["terminology"]["category"][1] for s in seen["segments"]} == {"123037004"}  # anatomical structure
    assert np.array_equal(seen["voxels"][:, :, 0].T, labels)
    step = 0.6 * 256 / labels.shape[1]  # a 15 cm field, as 0.6 mm pixels at 256
    assert np.diag(seen["ijkToLPS"])[:3] == pytest.approx([step, step, 1.0])


def test_a_segmentation_slicerio_writes_reads_by_its_names_in_one_layer_or_several(tmp_path):
    labels = small_heart()
    theirs = np.select([labels == 1, labels == 2, labels == 3], [7, 5, 9], 0).astype(np.uint8)
    slicer_file(tmp_path / "one.seg.nrrd", theirs[None],
                [("Left ventricle", 7, 0), ("Myocardium", 5, 0), ("Left atrium", 9, 0)])
    assert np.array_equal(read_label_map(tmp_path / "one.seg.nrrd"), labels)

    # contours drawn as filled areas: the epicardium holds the cavity, the endocardium and the
    # atrium lie in a second layer (Slicer keeps overlapping segments in layers of their own)
    layers = np.zeros((2, *labels.shape), np.uint8)
    layers[0][(labels == 1) | (labels == 2)] = 1
    layers[1][labels == 1] = 1
    layers[1][labels == 3] = 2
    for segments in ([("LV epicardium", 1, 0), ("LV endocardium", 1, 1), ("LA", 2, 1)],
                     [("LV endocardium", 1, 1), ("LA", 2, 1), ("Epicardium", 1, 0)]):  # either order
        slicer_file(tmp_path / "two.seg.nrrd", layers, segments)
        assert np.array_equal(read_label_map(tmp_path / "two.seg.nrrd"), labels)
    # a segment named as the wall itself claims only the wall: over the cavity it is refused
    slicer_file(tmp_path / "two.seg.nrrd", layers, [("Myocardium", 1, 0), ("LV", 1, 1), ("LA", 2, 1)])
    with pytest.raises(MaskError, match="'LV' overlaps a segment of Myocardium in 192 pixels"):
        read_label_map(tmp_path / "two.seg.nrrd")
    layers[0][labels == 1] = 0
    slicer_file(tmp_path / "two.seg.nrrd", layers, [("Myocardium", 1, 0), ("LV", 1, 1), ("LA", 2, 1)])
    assert np.array_equal(read_label_map(tmp_path / "two.seg.nrrd"), labels)


def test_segments_slicerio_codes_in_standard_terminology_read_by_their_codes(tmp_path):
    labels = small_heart()
    theirs = np.select([labels == 1, labels == 2, labels == 3], [1, 2, 3], 0).astype(np.uint8)
    segmentation = {
        "voxels": theirs.T[..., None], "encoding": "gzip", "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]),
        "segments": [{"id": f"Segment_{v}", "name": f"Segment_{v}", "labelValue": v, "layer": 0,
                      "terminology": {"contextName": "Segmentation category and type - 3D Slicer General Anatomy list",
                                      "category": ["SCT", "123037004", "Anatomical Structure"], "type": code}}
                     for v, code in ((1, ["SCT", "87878005", "Left ventricle"]), (2, ["SCT", "74281007", "Myocardium"]),
                                     (3, ["SCT", "82471001", "Left atrium"]))],
    }
    slicerio.write_segmentation(str(tmp_path / "coded.seg.nrrd"), segmentation)
    assert np.array_equal(read_label_map(tmp_path / "coded.seg.nrrd"), labels)


def test_a_segment_slicerio_names_as_the_right_heart_reads_as_background(tmp_path):
    from engine.maskio import read_volume_label

    labels = small_heart()
    slicer_file(tmp_path / "rv.seg.nrrd", labels[None],
                [("LV", 1, 0), ("Myocardium", 2, 0), ("Right atrium", 3, 0)])
    said: list[str] = []
    assert np.array_equal(read_volume_label(tmp_path / "rv.seg.nrrd", notify=said.append),
                          np.where(labels == 3, 0, labels))
    assert said == ["rv.seg.nrrd: segment 'Right atrium' read as background (the right heart, as CAMUS labels it)"]


def reference_geometry(width: int, height: int, slices: int = 1) -> list[dict]:
    """Slicer's conversion parameter naming the reference image: its IJK-to-RAS matrix, then
    its extent."""
    matrix = "-0.6;0;0;0;0;-0.6;0;0;0;0;1;0;0;0;0;1"
    return [{"name": "Reference image geometry",
             "value": f"{matrix};0;{width - 1};0;{height - 1};0;{slices - 1};", "description": "geometry"}]


def test_a_segmentation_slicer_cropped_to_its_segments_is_put_back_on_the_image_grid(tmp_path):
    labels = np.zeros((64, 48), np.uint8)
    labels[10:50, 6:38] = small_heart()
    rows, cols = np.nonzero(labels)
    block = labels[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    segmentation = {
        "voxels": block.T[..., None], "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]), "encoding": "gzip",
        "segments": [{"id": f"s{v}", "name": name, "labelValue": v, "layer": 0}
                     for v, name in ((1, "LV"), (2, "Myocardium"), (3, "LA"))],
        "conversionParameters": reference_geometry(48, 64),
        "referenceImageExtentOffset": [int(cols.min()), int(rows.min()), 0],
    }
    slicerio.write_segmentation(str(tmp_path / "cropped.seg.nrrd"), segmentation)
    assert np.array_equal(read_label_map(tmp_path / "cropped.seg.nrrd"), labels)
    segmentation["referenceImageExtentOffset"] = [40, 0, 0]  # would reach past the image's edge
    slicerio.write_segmentation(str(tmp_path / "outside.seg.nrrd"), segmentation)
    with pytest.raises(MaskError, match="outside the reference image"):
        read_label_map(tmp_path / "outside.seg.nrrd")


def test_of_a_loop_segmented_as_a_volume_the_one_painted_frame_is_the_mask(tmp_path):
    labels = small_heart()
    frames = np.zeros((5, *labels.shape), np.uint8)
    frames[3] = labels  # ED of a five-frame loop
    segmentation = {
        "voxels": np.transpose(frames, (2, 1, 0)), "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]), "encoding": "gzip",
        "segments": [{"id": f"s{v}", "name": name, "labelValue": v, "layer": 0}
                     for v, name in ((1, "LV"), (2, "Myocardium"), (3, "LA"))],
        "conversionParameters": reference_geometry(labels.shape[1], labels.shape[0], 5),
        "referenceImageExtentOffset": [0, 0, 0],
    }
    slicerio.write_segmentation(str(tmp_path / "loop.seg.nrrd"), segmentation)
    assert np.array_equal(read_label_map(tmp_path / "loop.seg.nrrd"), labels)
    frames[0] = labels
    segmentation["voxels"] = np.transpose(frames, (2, 1, 0))
    slicerio.write_segmentation(str(tmp_path / "loop.seg.nrrd"), segmentation)
    with pytest.raises(MaskError, match="segments on 2 slices"):
        read_label_map(tmp_path / "loop.seg.nrrd")


def test_a_loop_segmented_as_a_volume_tells_how_its_segments_were_read_once(tmp_path):
    from engine.maskio import read_volume_label

    labels = small_heart()
    frames = np.zeros((5, *labels.shape), np.uint8)
    frames[1], frames[3] = labels, labels  # painted on two frames: read frame by frame, told once
    lv = {"contextName": "Segmentation category and type - 3D Slicer General Anatomy list",
          "category": ["SCT", "123037004", "Anatomical Structure"], "type": ["SCT", "87878005", "Left ventricle"]}
    segmentation = {
        "voxels": np.transpose(frames, (2, 1, 0)), "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]), "encoding": "gzip",
        "segments": [{"id": "s1", "name": "Segment_1", "labelValue": 1, "layer": 0, "terminology": lv},
                     {"id": "s2", "name": "Myocardium", "labelValue": 2, "layer": 0},
                     {"id": "s3", "name": "LA", "labelValue": 3, "layer": 0}],
    }
    slicerio.write_segmentation(str(tmp_path / "loop.seg.nrrd"), segmentation)
    said: list[str] = []
    assert np.array_equal(read_volume_label(tmp_path / "loop.seg.nrrd", loop=True, notify=said.append), frames)
    assert said == ["loop.seg.nrrd: segment 'Segment_1' read as LV cavity by its terminology (Left ventricle)"]


LPS_OF_CROPPED_BLOCK = np.array([[0, -0.3, 0, 12.5], [-0.3, 0, 0, 40.0], [0, 0, 1.5, -7.0], [0, 0, 0, 1]])


def coded(value: str, meaning: str) -> dict:
    return {"contextName": "Segmentation category and type - 3D Slicer General Anatomy list",
            "category": ["SCT", "123037004", "Anatomical Structure"], "type": ["SCT", value, meaning]}


def user_segmentation(path, segments) -> np.ndarray:
    """A segmentation as Slicer saves one: cropped to its segments on a 48 x 64 reference image
    with its own spacing, origin and a direction that swaps and flips the axes; ``segments``
    (name, colour, terminology or None) for values 1, 2, 3. The label map it holds on the full grid."""
    labels = np.zeros((64, 48), np.uint8)
    labels[10:50, 6:38] = small_heart()
    rows, cols = np.nonzero(labels)
    block = labels[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    slicerio.write_segmentation(str(path), {
        "voxels": block.T[..., None], "ijkToLPS": LPS_OF_CROPPED_BLOCK, "encoding": "gzip",
        "segments": [{"id": f"s{v}", "name": name, "labelValue": v, "layer": 0, "color": colour,
                      **({"terminology": terminology} if terminology else {})}
                     for v, (name, colour, terminology) in enumerate(segments, 1)],
        "conversionParameters": [{"name": "Reference image geometry", "description": "geometry",
                                  "value": "0;-0.3;0;0;-0.3;0;0;0;0;0;1.5;0;0;0;0;1;0;47;0;63;0;0;"}],
        "referenceImageExtentOffset": [int(cols.min()), int(rows.min()), 0]})
    return labels


def users_segments(path, labels: np.ndarray, segments) -> None:
    """``labels`` (our ids, on a 0.6 mm grid) saved by slicerio with ``segments`` (name, value,
    colour, terminology or None), the user's own."""
    slicerio.write_segmentation(str(path), {
        "voxels": labels.T[..., None], "ijkToLPS": np.diag([0.6, 0.6, 1.0, 1.0]), "encoding": "gzip",
        "segments": [{"id": f"s{i}", "name": name, "labelValue": value, "layer": 0, "color": colour,
                      **({"terminology": terminology} if terminology else {})}
                     for i, (name, value, colour, terminology) in enumerate(segments)]})


def test_a_segmentation_written_back_keeps_its_users_names_colours_and_terminology(tmp_path):
    from engine.slicer_segments import read_kept_segments

    labels = small_heart()
    labels[labels == 3] = 0  # no atrium in the user's file
    users_segments(tmp_path / "user.seg.nrrd", labels, [
        ("LV endocardium", 1, [0.9, 0.2, 0.1], coded("87878005", "Left ventricle")),
        ("Heart muscle", 2, [0.2, 0.8, 0.3], coded("74281007", "Myocardium"))])  # placed by its terminology
    kept = read_kept_segments(tmp_path / "user.seg.nrrd")
    edited = read_label_map(tmp_path / "user.seg.nrrd")
    edited[small_heart() == 3] = 3  # the atrium painted new
    write_segmentation(tmp_path / "back.seg.nrrd", edited, kept=kept)
    back = slicerio.read_segmentation(str(tmp_path / "back.seg.nrrd"))
    assert [(s["name"], s["labelValue"]) for s in back["segments"]] == [
        ("LV endocardium", 1), ("Heart muscle", 2), ("Left atrium", 3)]
    assert [s["color"] for s in back["segments"]] == [
        pytest.approx([0.9, 0.2, 0.1], abs=1e-4), pytest.approx([0.2, 0.8, 0.3], abs=1e-4),
        pytest.approx([c / 255 for c in LABELS[3].color], abs=1e-4)]
    assert [s["terminology"]["type"] for s in back["segments"]] == [
        ["SCT", "87878005", "Left ventricle"], ["SCT", "74281007", "Myocardium"], ["SCT", "82471001", "Left atrium"]]
    assert np.array_equal(read_label_map(tmp_path / "back.seg.nrrd"), edited)
    kept_again = read_kept_segments(tmp_path / "back.seg.nrrd")
    assert {label_id: kept_again[label_id] for label_id in kept} == kept  # and again, as often as it goes round


def test_a_class_merged_from_several_segments_keeps_the_first_and_the_right_heart_none(tmp_path):
    from engine.slicer_segments import read_kept_segments

    labels = small_heart()
    labels[12:16, 14:18] = 4  # a papillary muscle carved out of the cavity
    labels[4:26, 0:6] = 5  # the right ventricle
    segments = [("Cavity", 1, [0.9, 0.2, 0.1], None), ("Wall", 2, [0.2, 0.8, 0.3], None),
                ("Atrium", 3, [0.1, 0.1, 0.9], None), ("Papillary muscle", 4, [0.5, 0.5, 0.1], None),
                ("RV", 5, [0.3, 0.3, 0.3], coded("53085002", "Right ventricle"))]
    for order in (segments, [segments[3], *segments[:3], segments[4]]):
        users_segments(tmp_path / "user.seg.nrrd", labels, order)
        kept = read_kept_segments(tmp_path / "user.seg.nrrd")
        assert {label_id: segment.name for label_id, segment in kept.items()} == {
            1: order[0][0], 2: "Wall", 3: "Atrium"}  # the cavity's first segment in the file's order
        write_segmentation(tmp_path / "back.seg.nrrd", read_label_map(tmp_path / "user.seg.nrrd"), kept=kept)
        back = slicerio.read_segmentation(str(tmp_path / "back.seg.nrrd"))
        assert [s["name"] for s in back["segments"]] == [order[0][0], "Wall", "Atrium"]
    # segments named without a terminology are given ours beside the tags they had
    assert [s["terminology"]["type"][1] for s in back["segments"]] == ["87878005", "74281007", "82471001"]


def test_a_segmentation_opened_edited_and_exported_in_the_studio_goes_back_to_slicer_in_place(
        window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from cardigan_app.export import SLICER_FILTER

    labels = user_segmentation(tmp_path / "case.seg.nrrd", [
        ("Segment_1", [0.9, 0.1, 0.1], coded("87878005", "Left ventricle")),
        ("Myocardium", [0.1, 0.9, 0.1], coded("74281007", "Myocardium")),
        ("LA", [0.1, 0.1, 0.9], coded("82471001", "Left atrium"))])
    assert window.files.open_path(tmp_path / "case.seg.nrrd", confirmed=True)
    assert np.array_equal(window.document.labels, labels)
    assert "'Segment_1' read as LV cavity by its terminology" in window.statusBar().currentMessage()
    edited = labels.copy()
    edited[edited == 3] = 0  # the atrium taken out
    window.document.replace(edited, "erase the atrium")
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "back"), SLICER_FILTER)))
    assert window.exporter.export_mask()  # File > Export mask, as a 3D Slicer segmentation
    back = slicerio.read_segmentation(str(tmp_path / "back.seg.nrrd"))
    assert np.array_equal(back["voxels"][:, :, 0].T, edited)  # the whole reference frame, not the block
    # the block's first voxel (column 12, row 14 of the frame) lies where it lay in the user's file
    assert back["ijkToLPS"][:3, :3] == pytest.approx(LPS_OF_CROPPED_BLOCK[:3, :3])
    assert (back["ijkToLPS"] @ [12, 14, 0, 1])[:3] == pytest.approx(LPS_OF_CROPPED_BLOCK[:3, 3])
    # each class's segment as the user named, coloured and coded it (the atrium's, now empty, too)
    assert [(s["name"], s["labelValue"]) for s in back["segments"]] == [("Segment_1", 1), ("Myocardium", 2), ("LA", 3)]
    assert [s["color"] for s in back["segments"]] == [
        pytest.approx(c, abs=1e-4) for c in ([0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.9])]
    assert [s["terminology"]["type"][1] for s in back["segments"]] == ["87878005", "74281007", "82471001"]
    assert np.array_equal(read_label_map(tmp_path / "back.seg.nrrd"), edited)


def test_a_whole_heart_segmentation_opens_in_the_studio_with_its_right_heart_as_background(
        window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []  # a refusal would be shown here, not wait on a dialog
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _parent, _title, text, *a: shown.append(text)))
    for name, terminology, said in (
            ("Right ventricle", None, "segment 'Right ventricle' read as background"),
            ("Segment_3", coded("53085002", "Right ventricle"), "segment 'Segment_3' (coded Right ventricle) read as "
                                                                "background (the right heart, as CAMUS labels it)")):
        labels = user_segmentation(tmp_path / "whole_heart.seg.nrrd", [
            ("LV", [0.9, 0.1, 0.1], None), ("Myocardium", [0.1, 0.9, 0.1], None), (name, [0.1, 0.1, 0.9], terminology)])
        assert window.files.open_path(tmp_path / "whole_heart.seg.nrrd", confirmed=True), shown
        assert np.array_equal(window.document.labels, np.where(labels == 3, 0, labels))
        assert f"whole_heart.seg.nrrd: {said}" in window.statusBar().currentMessage()


def test_a_segmentation_with_a_structure_we_do_not_know_is_refused_in_the_studio_and_loses_nothing(
        window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _parent, _title, text, *a: shown.append(text)))
    before = window.document.labels.copy()
    for name, terminology, words in (
            ("Aorta", None, "segment 'Aorta' is a structure CAMUS does not label; remove it in Slicer's Segment Editor"),
            ("Segment_7", None, "segment 'Segment_7' is none of LV cavity, Myocardium, Left atrium; rename it"),
            ("LV cavity", coded("53085002", "Right ventricle"),
             "'LV cavity' is coded as Right ventricle (SCT 53085002), the right heart, but named as LV cavity")):
        user_segmentation(tmp_path / "whole_heart.seg.nrrd", [
            ("LV", [0.9, 0.1, 0.1], None), ("Myocardium", [0.1, 0.9, 0.1], None), (name, [0.1, 0.1, 0.9], terminology)])
        assert not window.files.open_path(tmp_path / "whole_heart.seg.nrrd", confirmed=True)
        assert words in shown[-1] and "\n" not in shown[-1]
        assert np.array_equal(window.document.labels, before)


def test_a_segmentation_slicer_saved_cropped_beside_its_image_opens_over_that_image(tmp_path):
    """Slicer saves a scene's volume beside its segmentation, which it crops to its segments:
    the image is brought under the mask put back on the image's grid, pixel for pixel."""
    import SimpleITK as sitk

    from cardigan_app.mask_reading import read_mask_file
    from engine.maskio import volume_geometry

    labels = user_segmentation(tmp_path / "case.seg.nrrd", [("LV", [0.9, 0.1, 0.1], None),
                                                            ("Myocardium", [0.1, 0.9, 0.1], None),
                                                            ("LA", [0.1, 0.1, 0.9], None)])
    frames = (np.arange(64 * 48).reshape(1, 64, 48) % 253).astype(np.uint8)
    image = sitk.GetImageFromArray(frames)
    volume_geometry(tmp_path / "case.seg.nrrd").apply(image)  # the reference image's grid, as Slicer records it
    sitk.WriteImage(image, str(tmp_path / "case.nrrd"))
    read = read_mask_file(tmp_path / "case.seg.nrrd")
    assert np.array_equal(read.labels, labels) and np.array_equal(read.frames, frames)
    assert "case.nrrd, the image saved beside it, shown under it" in read.notes
