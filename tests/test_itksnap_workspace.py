"""ITK-SNAP workspaces (.itksnap): read as a mask with its labels mapped by name, written
beside a NIfTI pair, and followed when moved."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import SimpleITK as sitk

from engine.cli.main import main
from engine.errors import MaskError
from engine.itksnap_workspace import labels_from_workspace, read_workspace, write_workspace
from engine.maskio import read_label_map, write_label_png, write_nifti
from label_maps import small_heart


def itksnap_xml(saved_in, image, segmentation, table) -> str:
    """A workspace laid out as ITK-SNAP saves one (absolute paths, its DOCTYPE, a label table
    under the main layer); ``table`` holds (index, name) pairs."""
    elements = "".join(
        f'<folder key="Element[{i}]"><entry key="Alpha" value="255" /><entry key="Color" value="255 0 0" />'
        f'<entry key="Flags" value="1 1" /><entry key="Index" value="{index}" />'
        f'<entry key="Label" value="{name}" /></folder>' for i, (index, name) in enumerate(table))
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<!--ITK-SNAP (itksnap.org) Project File-->
<!DOCTYPE registry [
<!ELEMENT registry (entry*,folder*)>
<!ELEMENT folder (entry*,folder*)>
<!ELEMENT entry EMPTY>
<!ATTLIST folder key CDATA #REQUIRED>
<!ATTLIST entry key CDATA #REQUIRED>
<!ATTLIST entry value CDATA #REQUIRED>
]>
<registry>
  <entry key="SaveLocation" value="{saved_in}" />
  <entry key="Version" value="20230925" />
  <folder key="Layers" >
    <folder key="Layer[000]" >
      <entry key="AbsolutePath" value="{image}" />
      <entry key="Role" value="MainRole" />
      <folder key="LayerMetaData" ><entry key="Alpha" value="255" /></folder>
      <folder key="ProjectMetaData" ><folder key="IRIS" ><folder key="LabelTable" >
        <entry key="NumberOfElements" value="{len(table)}" />{elements}
      </folder></folder></folder>
    </folder>
    <folder key="Layer[001]" >
      <entry key="AbsolutePath" value="{segmentation}" />
      <entry key="Role" value="SegmentationRole" />
    </folder>
  </folder>
</registry>
"""


def case(tmp_path, values: np.ndarray, table, name="case.itksnap"):
    image = (np.arange(values.size).reshape(values.shape) % 200).astype(np.uint8)
    write_nifti(tmp_path / "echo.nii.gz", image)
    write_nifti(tmp_path / "echo_seg.nii.gz", values)
    path = tmp_path / name
    path.write_text(itksnap_xml(tmp_path, tmp_path / "echo.nii.gz", tmp_path / "echo_seg.nii.gz", table))
    return path, image


DEFAULT_TABLE = [(i, f"Label {i}") for i in range(1, 7)]  # ITK-SNAP's six labels, unrenamed


def test_a_workspace_in_camus_numbering_under_default_names_reads_as_it_is(tmp_path):
    path, _ = case(tmp_path, small_heart(), DEFAULT_TABLE)
    workspace = read_workspace(path)
    assert workspace.main_image == tmp_path / "echo.nii.gz"
    assert workspace.segmentation == tmp_path / "echo_seg.nii.gz"
    assert workspace.label_names[2] == "Label 2" and len(workspace.label_names) == 6
    assert np.array_equal(read_label_map(path), small_heart())


def test_labels_are_mapped_by_their_names_and_an_unknown_one_in_use_is_refused(tmp_path):
    theirs = np.select([small_heart() == 1, small_heart() == 2, small_heart() == 3], [5, 7, 9], 0).astype(np.uint8)
    table = [(5, "LV endocardium"), (7, "Myocardium"), (9, "Left atrium"), (11, "Tumor")]
    path, _ = case(tmp_path, theirs, table)
    assert np.array_equal(read_label_map(path), small_heart())  # "Tumor" is listed but not painted
    theirs[0, 0] = 11
    path, _ = case(tmp_path, theirs, table)
    with pytest.raises(MaskError, match=r"case.itksnap: label 11 \('Tumor'\) is none of LV cavity"):
        read_label_map(path)
    theirs[0, 0] = 4  # a value the table does not list and that is not one of ours
    path, _ = case(tmp_path, theirs, table)
    with pytest.raises(MaskError, match="label value 4 is none of"):
        read_label_map(path)


def test_a_moved_workspace_finds_its_layers_where_they_moved_with_it(tmp_path):
    (tmp_path / "saved").mkdir()
    path, _ = case(tmp_path / "saved", small_heart(), DEFAULT_TABLE)
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "saved", moved)  # the recorded absolute paths no longer exist
    workspace = read_workspace(moved / "case.itksnap")
    assert workspace.segmentation == moved / "echo_seg.nii.gz"
    assert np.array_equal(labels_from_workspace(workspace), small_heart())


def test_the_workspace_written_beside_a_pair_reads_back_with_the_classes_named(tmp_path):
    from engine.labels import LABELS

    labels = small_heart()
    write_nifti(tmp_path / "pair.nii.gz", np.full(labels.shape, 90, np.uint8))
    write_nifti(tmp_path / "pair_gt.nii.gz", labels)
    write_workspace(tmp_path / "pair.itksnap", tmp_path / "pair.nii.gz", tmp_path / "pair_gt.nii.gz")
    text = (tmp_path / "pair.itksnap").read_text()
    # as ITK-SNAP writes them: absolute paths (it reads relative ones from its own working folder),
    # the folder they were saved in (to find them when they move together) and the format's version
    assert f'value="{(tmp_path / "pair_gt.nii.gz").resolve().as_posix()}"' in text and "SegmentationRole" in text
    assert f'key="SaveLocation" value="{tmp_path.resolve().as_posix()}"' in text and 'key="Version"' in text
    workspace = read_workspace(tmp_path / "pair.itksnap")
    assert workspace.label_names == {lab.id: lab.name for lab in LABELS[1:]}
    assert np.array_equal(labels_from_workspace(workspace), labels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pair.itksnap", "pair.nii.gz", "pair_gt.nii.gz"]
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    shutil.copytree(tmp_path, moved)  # the three files moved together: found where they went
    (tmp_path / "pair_gt.nii.gz").unlink()
    workspace = read_workspace(moved / "pair.itksnap")
    assert workspace.segmentation == moved / "pair_gt.nii.gz"
    assert np.array_equal(labels_from_workspace(workspace), labels)


@pytest.mark.parametrize("content, words", [
    ("not xml at all", "its XML cannot be read"),
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'  # entities that
     + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))  # grow 10^8-fold
     + ']><registry><entry key="SaveLocation" value="&i;"/></registry>', "its XML cannot be read"),
    ('<?xml version="1.0"?><svg></svg>', "its XML is a <svg>, not a <registry>"),
    ('<registry><folder key="Layers"><folder key="Layer[000]"><entry key="AbsolutePath" value="a.nii.gz"/>'
     '<entry key="Role" value="MainRole"/></folder></folder></registry>', "holds no segmentation layer"),
    ('<registry><folder key="Layers"><folder key="Layer[000]"><entry key="AbsolutePath" value="gone.nii.gz"/>'
     '<entry key="Role" value="SegmentationRole"/></folder></folder></registry>', "segmentation layer cannot be read"),
])
def test_what_is_not_a_usable_workspace_is_refused_in_one_line(tmp_path, content, words):
    (tmp_path / "bad.itksnap").write_text(content)
    with pytest.raises(MaskError, match=words) as caught:
        read_label_map(tmp_path / "bad.itksnap")
    assert "\n" not in str(caught.value)


def test_a_segmentation_of_several_frames_is_refused(tmp_path):
    path, _ = case(tmp_path, small_heart(), DEFAULT_TABLE)
    sitk.WriteImage(sitk.GetImageFromArray(np.stack([small_heart(), small_heart()])), str(tmp_path / "echo_seg.nii.gz"))
    with pytest.raises(MaskError, match="labels on 2 frames"):
        read_label_map(path)


def test_synthesize_takes_a_workspace_as_its_mask(tmp_path):
    path, _ = case(tmp_path, small_heart(), DEFAULT_TABLE)
    assert main(["synthesize", "--model", "simulator", "--mask", str(path), "--out", str(tmp_path / "o.png")]) == 0
    assert (tmp_path / "o.png").is_file()


@pytest.mark.parametrize("saved_in", ["C:/Users/echo/case", "C:\\Users\\echo\\case", "\\\\lab\\share\\case"])
def test_a_workspace_saved_on_windows_finds_its_files_where_they_went(tmp_path, saved_in):
    labels = small_heart()
    case(tmp_path, labels, DEFAULT_TABLE)
    separator = "/" if "/" in saved_in else "\\"
    text = itksnap_xml(saved_in, f"{saved_in}{separator}echo.nii.gz", f"{saved_in}{separator}echo_seg.nii.gz",
                       DEFAULT_TABLE)
    (tmp_path / "windows.itksnap").write_text(text)
    workspace = read_workspace(tmp_path / "windows.itksnap")
    assert workspace.segmentation == tmp_path / "echo_seg.nii.gz" and workspace.main_image == tmp_path / "echo.nii.gz"
    assert np.array_equal(labels_from_workspace(workspace), labels)


def test_a_negative_label_value_is_refused_in_one_line(tmp_path):
    values = small_heart().astype(np.int16)
    values[0, 0] = -4
    path, _ = case(tmp_path, values, DEFAULT_TABLE)
    with pytest.raises(MaskError, match="label value -4 is none of"):
        read_label_map(path)


def test_a_workspace_over_a_loop_takes_its_one_painted_frame(tmp_path):
    labels = small_heart()
    loop = np.zeros((3, *labels.shape), np.uint8)
    loop[1] = labels
    path, _ = case(tmp_path, loop, DEFAULT_TABLE)
    assert np.array_equal(read_label_map(path), labels)


def entries_listed(monkeypatch) -> list[str]:
    """The names of the folder entries anything lists from now on (os.scandir, os.listdir,
    Path.iterdir), as a list that grows as they are listed."""
    import os
    from pathlib import Path

    listed: list[str] = []
    real_scandir, real_listdir, real_iterdir = os.scandir, os.listdir, Path.iterdir

    class CountedScandir:
        def __init__(self, *args):
            self.entries = real_scandir(*args)

        def __iter__(self):
            for entry in self.entries:
                listed.append(entry.name)
                yield entry

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.entries.close()

        def close(self):
            self.entries.close()

    def listdir(*args):
        names = real_listdir(*args)
        listed.extend(names)
        return names

    def iterdir(self):
        for path in real_iterdir(self):
            listed.append(path.name)
            yield path

    monkeypatch.setattr(os, "scandir", CountedScandir)
    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(Path, "iterdir", iterdir)
    return listed


def described_volume(folder, description_name: str):
    """A NIfTI painted with ITK-SNAP's labels 4-6 among 3,000 other files, and a label
    description named ``description_name`` beside it that names them."""
    labels = small_heart()
    write_nifti(folder / "case_gt.nii.gz", np.where(labels > 0, labels + 3, 0).astype(np.uint8))
    for index in range(3000):
        (folder / f"frame_{index:04d}.png").touch()
    for index in range(3):
        (folder / f"note_{index}.txt").write_text("not a label description\n")
    lines = ['0 0 0 0 0 0 0 "Clear Label"', '4 255 0 0 1 1 1 "LV cavity"', '5 0 255 0 1 1 1 "Myocardium"',
             '6 0 0 255 1 1 1 "Left atrium"']
    (folder / description_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return labels


@pytest.mark.parametrize("name", ["case_gt.txt", "case_labels.txt", "labels.txt", "itksnap_labels.txt"])
def test_a_label_description_under_a_name_it_usually_has_is_found_without_listing_the_folder(
        tmp_path, monkeypatch, name):
    """The folder was listed whole to find it: slow in a folder of a loop's thousands of frames."""
    from engine.itksnap_workspace import label_descriptions_beside

    described_volume(tmp_path, name)
    listed = entries_listed(monkeypatch)
    found = label_descriptions_beside(tmp_path / "case_gt.nii.gz")
    assert found is not None and found[0].name == name and found[1][5] == "Myocardium"
    assert listed == []


def test_a_label_description_under_another_name_is_still_found_and_the_listing_stops_there(tmp_path, monkeypatch):
    from engine.itksnap_workspace import label_descriptions_beside
    from engine.maskio import read_volume_label

    labels = described_volume(tmp_path, "segmentation names.txt")
    listed = entries_listed(monkeypatch)
    found = label_descriptions_beside(tmp_path / "case_gt.nii.gz")
    assert found is not None and found[0].name == "segmentation names.txt"
    assert listed[-1] == "segmentation names.txt" and len(listed) == len(set(listed))  # listed once, up to it
    assert np.array_equal(read_volume_label(tmp_path / "case_gt.nii.gz"), labels)


def whole_heart_values() -> np.ndarray:
    """``small_heart`` painted with ITK-SNAP's labels 4-6 (cavity, wall, atrium) and the right
    ventricle (7) and atrium (8) beside them, as a 4-chamber view holds them."""
    labels = small_heart()
    values = np.where(labels > 0, labels + 3, 0).astype(np.uint8)
    values[4:26, 0:6], values[27:38, 0:8] = 7, 8
    return values


def test_labels_described_as_the_right_heart_read_as_background_and_say_so(tmp_path):
    from engine.maskio import read_volume_label

    write_nifti(tmp_path / "case_gt.nii.gz", whole_heart_values())
    lines = ['0 0 0 0 0 0 0 "Clear Label"', '4 255 0 0 1 1 1 "LV cavity"', '5 0 255 0 1 1 1 "Myocardium"',
             '6 0 0 255 1 1 1 "Left atrium"', '7 0 255 255 1 1 1 "Right ventricle"', '8 255 0 255 1 1 1 "RA"']
    write_description(tmp_path / "labels.txt", lines)
    said: list[str] = []
    assert np.array_equal(read_volume_label(tmp_path / "case_gt.nii.gz", notify=said.append), small_heart())
    assert said == ["case_gt.nii.gz: labels 4 'LV cavity' \u2192 1 LV cavity, 5 'Myocardium' \u2192 2 myocardium, "
                    "6 'Left atrium' \u2192 3 left atrium, by the names in labels.txt; labels 7 'Right ventricle', "
                    "8 'RA' read as background (the right heart, as CAMUS labels it)"]
    lines[-1] = '8 255 0 255 1 1 1 "Aorta"'  # not the right heart: refused, not dropped
    write_description(tmp_path / "labels.txt", lines)
    with pytest.raises(MaskError) as caught:
        read_volume_label(tmp_path / "case_gt.nii.gz")
    assert str(caught.value) == (f"{tmp_path / 'case_gt.nii.gz'}: label 8 ('Aorta') is a structure CAMUS does not "
                                 "label (only the LV cavity, myocardium and left atrium); relabel it to 0 (background)")
    lines[-1] = '8 255 0 255 1 1 1 "Structure 8"'  # a name that says nothing: perhaps one of ours, renamed
    write_description(tmp_path / "labels.txt", lines)
    with pytest.raises(MaskError) as caught:
        read_volume_label(tmp_path / "case_gt.nii.gz")
    assert str(caught.value) == (f"{tmp_path / 'case_gt.nii.gz'}: label 8 ('Structure 8') is none of LV cavity, "
                                 "Myocardium, Left atrium; rename it in labels.txt, or relabel it to 1-3")


def test_a_workspace_label_named_as_the_right_heart_reads_as_background(tmp_path):
    values = small_heart()
    values[values == 2] = 5
    values[4:26, 0:6] = 2  # the right ventricle, painted with ITK-SNAP's label 2
    table = [(1, "Label 1"), (2, "Right ventricle"), (3, "Label 3"), (5, "Myocardium")]
    path, _ = case(tmp_path, values, table)
    said: list[str] = []
    assert np.array_equal(labels_from_workspace(read_workspace(path), notify=said.append), small_heart())
    assert said == ["case.itksnap: labels 5 'Myocardium' \u2192 2 myocardium, by the names in the workspace's label "
                    "table; label 2 'Right ventricle' read as background (the right heart, as CAMUS labels it)"]


def test_labels_named_with_accents_are_mapped_by_those_names(tmp_path):
    from engine.maskio import read_volume_label

    write_nifti(tmp_path / "case_gt.nii.gz", whole_heart_values())
    lines = ['4 255 0 0 1 1 1 "Ventrículo izquierdo"', '5 0 255 0 1 1 1 "Épicarde"', '6 0 0 255 1 1 1 "Átrio esquerdo"',
             '7 0 255 255 1 1 1 "Ventrículo derecho"', '8 255 0 255 1 1 1 "Aurícula derecha"']
    write_description(tmp_path / "labels.txt", lines)
    said: list[str] = []
    assert np.array_equal(read_volume_label(tmp_path / "case_gt.nii.gz", notify=said.append), small_heart())
    assert said == ["case_gt.nii.gz: labels 4 'Ventrículo izquierdo' \u2192 1 LV cavity, 5 'Épicarde' \u2192 2 myocardium, "
                    "6 'Átrio esquerdo' \u2192 3 left atrium, by the names in labels.txt; labels 7 'Ventrículo derecho', "
                    "8 'Aurícula derecha' read as background (the right heart, as CAMUS labels it)"]


@pytest.mark.parametrize("name, said", [
    ("Pericardium", "label 7 ('Pericardium') is a structure CAMUS does not label (only the LV cavity, myocardium and "
                    "left atrium); clear it in ITK-SNAP (move its voxels to Clear Label), or relabel it to 0"),
    ("Arteria coronaria derecha", "label 7 ('Arteria coronaria derecha') is a structure CAMUS does not label"),
    ("Epicardial fat", "label 7 ('Epicardial fat') is a structure CAMUS does not label"),
    ("Pericardial fat", "label 7 ('Pericardial fat') is a structure CAMUS does not label"),
    ("Tumor", "label 7 ('Tumor') is none of LV cavity, Myocardium, Left atrium; rename it in ITK-SNAP's label "
              "editor (e.g. 'LV cavity') or clear it, or relabel it to 1-3"),
    # a label named as two of our classes holds both: to be painted apart, or renamed as what it holds
    ("LA and LV", "label 7 ('LA and LV') names left atrium and LV cavity, which one label cannot hold apart; paint "
                  "each as a label of its own, or, if it holds one, rename it in ITK-SNAP's label editor"),
    ("LV and myocardium", "label 7 ('LV and myocardium') names LV cavity and myocardium, which one label cannot"),
])
def test_a_workspace_label_camus_does_not_label_is_to_be_cleared_and_an_unknown_one_renamed(tmp_path, name, said):
    values = small_heart()
    values[4:26, 0:6] = 7
    path, _ = case(tmp_path, values, [(1, "Label 1"), (2, "Label 2"), (3, "Label 3"), (7, name)])
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value).startswith(f"case.itksnap: {said}")


def test_a_workspace_label_of_the_septum_or_a_papillary_muscle_reads_as_camus_counts_it(tmp_path):
    values = small_heart()
    values[4:26, 6:10] = 4  # the septal side of the wall
    values[12:16, 14:18] = 5  # a papillary muscle in the cavity
    table = [(1, "Label 1"), (2, "Label 2"), (3, "Label 3"), (4, "Interventricular septum"), (5, "Papillary muscle")]
    path, _ = case(tmp_path, values, table)
    assert np.array_equal(read_label_map(path), small_heart())


def write_description(path, lines: list[str]) -> None:
    """An ITK-SNAP label description file holding ``lines``."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def swapped_map(folder, suffix: str, lines: list[str] | None = None):
    """``small_heart`` painted as an ITK-SNAP user may: 1 the wall, 2 the cavity, 3 the atrium,
    saved as ``case_gt`` + ``suffix``, with a label description beside it holding ``lines``
    (by default names saying so); returns (the file, the heart in our ids)."""
    labels = small_heart()
    values = labels.copy()
    values[labels == 1], values[labels == 2] = 2, 1
    path = folder / f"case_gt{suffix}"
    if suffix == ".png":
        write_label_png(path, values)
    else:
        write_nifti(path, values)
    if lines is None:
        lines = ['0 0 0 0 0 0 0 "Clear Label"', '1 0 255 0 1 1 1 "Myocardium"', '2 255 0 0 1 1 1 "LV blood pool"',
                 '3 0 0 255 1 1 1 "Left atrium"']
    write_description(folder / "labels.txt", lines)
    return path, labels


@pytest.mark.parametrize("suffix", [".nii.gz", ".png"])
def test_a_map_in_ids_0_to_3_is_mapped_by_a_description_that_names_them_otherwise(tmp_path, suffix):
    """The map was taken in our numbering whatever the description beside it said: the cavity
    and the wall swapped without a word."""
    path, labels = swapped_map(tmp_path, suffix)
    said: list[str] = []
    assert np.array_equal(read_label_map(path, notify=said.append), labels)
    assert said == [f"case_gt{suffix}: labels 1 'Myocardium' \u2192 2 myocardium, 2 'LV blood pool' \u2192 1 LV cavity, "
                    "by the names in labels.txt"]


@pytest.mark.parametrize("names", [
    ["Clear Label", "LV cavity", "Myocardium", "Left atrium"],  # our numbering
    ["Clear Label", "Label 1", "Label 2", "Label 3"],  # ITK-SNAP's defaults
    ["Clear Label", "Label 1", "Myocardium"],  # one named as ours, the others unnamed
    ["Clear Label"],
])
def test_a_map_in_ids_0_to_3_beside_a_description_in_our_numbering_or_default_names_is_taken_as_it_is(tmp_path, names):
    labels = small_heart()
    write_nifti(tmp_path / "case_gt.nii.gz", labels)
    write_description(tmp_path / "case_gt.txt", [f'{v} 255 0 0 1 1 1 "{name}"' for v, name in enumerate(names)])
    said: list[str] = []
    assert np.array_equal(read_label_map(tmp_path / "case_gt.nii.gz", notify=said.append), labels)
    assert said == []


def test_a_right_heart_name_on_label_3_reads_as_background_and_says_so(tmp_path):
    labels = small_heart()
    write_nifti(tmp_path / "case_gt.nii.gz", labels)
    write_description(tmp_path / "labels.txt", ['1 255 0 0 1 1 1 "LV"', '2 0 255 0 1 1 1 "Myocardium"',
                                                '3 0 0 255 1 1 1 "Right ventricle"'])
    said: list[str] = []
    assert np.array_equal(read_label_map(tmp_path / "case_gt.nii.gz", notify=said.append),
                          np.where(labels == 3, 0, labels))
    assert said == ["case_gt.nii.gz: label 3 'Right ventricle' read as background (the right heart, as CAMUS "
                    "labels it)"]


def test_a_description_naming_some_ids_otherwise_and_leaving_others_unnamed_is_refused_in_one_line(tmp_path):
    lines = ['0 0 0 0 0 0 0 "Clear Label"', '1 255 0 0 1 1 1 "Label 1"', '2 0 255 0 1 1 1 "LV cavity"']
    path, _ = swapped_map(tmp_path, ".nii.gz", lines)
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == (
        f"{path}: labels.txt names label 2 'LV cavity' otherwise than our numbering (1 LV cavity, 2 myocardium, "
        "3 left atrium) but leaves labels 1, 3 unnamed, so what they hold cannot be told; name them in labels.txt, "
        "or remove labels.txt if the map is in our numbering")


def test_an_unknown_name_on_an_id_0_to_3_is_refused_with_the_way_to_go_on(tmp_path):
    lines = ['1 255 0 0 1 1 1 "LV"', '2 0 255 0 1 1 1 "Myocardium"', '3 0 0 255 1 1 1 "Tumor"']
    path, _ = swapped_map(tmp_path, ".png", lines)
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == (f"{path}: label 3 ('Tumor') is none of LV cavity, Myocardium, Left atrium; "
                                 "rename it in labels.txt, or remove labels.txt if the map is in our numbering")


def test_a_label_png_the_studio_wrote_holds_our_ids_whatever_a_description_beside_it_says(tmp_path):
    """Saved from the studio beside the description it was mapped by, it was mapped again."""
    from engine.fan import FAN_KEY

    path, _ = swapped_map(tmp_path, ".png")
    labels = small_heart()
    write_label_png(path, labels, {FAN_KEY: "{}"})
    assert np.array_equal(read_label_map(path), labels)


@pytest.mark.parametrize("suffix", [".nii.gz", ".png"])
def test_a_map_in_ids_0_to_3_without_a_description_reads_no_text_file_and_lists_no_folder(
        tmp_path, monkeypatch, suffix):
    import engine.itksnap_workspace as itksnap_workspace

    path, labels = swapped_map(tmp_path, suffix)
    (tmp_path / "labels.txt").rename(tmp_path / "segmentation names.txt")  # found only by listing the folder
    read: list[str] = []
    real_read = itksnap_workspace.read_label_descriptions
    monkeypatch.setattr(itksnap_workspace, "read_label_descriptions", lambda p: read.append(p.name) or real_read(p))
    beside = {file.name for file in tmp_path.iterdir()}
    listed = entries_listed(monkeypatch)
    assert np.array_equal(read_label_map(path), np.choose(labels, [0, 2, 1, 3]))  # as it is
    assert read == [] and not beside & set(listed)  # (reading a NIfTI lists a temporary folder of its own)


def itksnap_numbered_png(folder, name: str = "case_gt.png"):
    """``small_heart`` painted with ITK-SNAP's labels 4-6 (cavity, wall, atrium), saved as a
    PNG (the studio's writer takes only our ids); returns (the file, the heart in our ids)."""
    from PIL import Image

    labels = small_heart()
    Image.fromarray(np.where(labels > 0, labels + 3, 0).astype(np.uint8)).save(folder / name)
    return folder / name, labels


NUMBERED_4_TO_6 = ['0 0 0 0 0 0 0 "Clear Label"', '4 255 0 0 1 1 1 "LV cavity"', '5 0 255 0 1 1 1 "Myocardium"',
                   '6 0 0 255 1 1 1 "Left atrium"']


def test_a_png_in_itksnap_numbering_is_mapped_by_its_description_as_a_volume_is(tmp_path, capsys):
    """A PNG painted with labels 4-6 was refused even with the description beside it."""
    from engine.export.sources import folder_masks

    path, labels = itksnap_numbered_png(tmp_path)
    (tmp_path / "volume").mkdir()
    write_nifti(tmp_path / "volume" / "case_gt.nii.gz", np.where(labels > 0, labels + 3, 0).astype(np.uint8))
    for folder in (tmp_path, tmp_path / "volume"):
        write_description(folder / "labels.txt", NUMBERED_4_TO_6)
    said: list[str] = []
    assert np.array_equal(read_label_map(path, notify=said.append), labels)
    assert np.array_equal(read_label_map(tmp_path / "volume" / "case_gt.nii.gz", notify=said.append), labels)
    assert said[0] == said[1].replace(".nii.gz", ".png") == (
        "case_gt.png: labels 4 'LV cavity' \u2192 1 LV cavity, 5 'Myocardium' \u2192 2 myocardium, 6 'Left atrium' "
        "\u2192 3 left atrium, by the names in labels.txt")
    told: list[str] = []
    (patient,) = folder_masks(tmp_path, told.append)  # an export's source folder
    assert np.array_equal(patient.items[0].labels, labels)
    assert told == [f"1 mask(s) with labels read by name or terminology: {said[0]}"]
    assert main(["synthesize", "--model", "simulator", "--mask", str(path), "--out", str(tmp_path / "echo.png")]) == 0
    assert said[0] in capsys.readouterr().err
    write_description(tmp_path / "labels.txt", NUMBERED_4_TO_6[:-1] + ['6 0 0 255 1 1 1 "Aorta"'])  # as refused
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == (f"{path}: label 6 ('Aorta') is a structure CAMUS does not label (only the LV "
                                 "cavity, myocardium and left atrium); relabel it to 0 (background)")


def test_a_png_in_itksnap_numbering_without_a_description_is_refused_as_before(tmp_path):
    path, _ = itksnap_numbered_png(tmp_path)
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == (f"{path}: values 4, 5 and 6 are not labels (allowed: 0 background, 1 LV cavity, "
                                 "2 myocardium, 3 left atrium)")
