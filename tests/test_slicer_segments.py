"""3D Slicer segmentations and NRRD / MetaImage label maps, read as cardiGAN masks."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from engine.cli.main import main
from engine.errors import MaskError
from engine.maskio import read_label_map, read_volume_label
from engine.segment_names import class_of_segment
from label_maps import small_heart
from slicer_files import SLICER_DEFAULT_TAGS, terminology_tags, write_segmentation

LV, MYO, LA = "SCT^87878005^Left ventricle", "SCT^74281007^Myocardium", "SCT^82471001^Left atrium"
RV, RA = "SCT^53085002^Right ventricle", "SCT^73829009^Right atrium"


@pytest.mark.parametrize("name, expected", [
    ("LV cavity", 1), ("Left ventricle", 1), ("LV endocardium", 1), ("lv", 1), ("Blood pool", 1),
    ("Myocardium", 2), ("LV epicardium", 2), ("LV wall", 2), ("myo", 2),
    ("Left atrium", 3), ("LA", 3), ("atrium_left", 3), ("Background", 0),
    ("Tumor", None), ("Segment_1", None), ("Aorta", None),
    # the right heart is background, as CAMUS labels it; a name that is not plainly it is none of ours
    ("Right atrium", 0), ("Right ventricle", 0), ("RV", 0), ("ra", 0), ("RV wall", 0), ("RV myocardium", 0),
    ("Right ventricular outflow tract", 0), ("Right heart", 0), ("right_atrial_appendage", 0),
    ("Right myocardium", None), ("Right coronary artery", None), ("Right lung", None), ("LV and RV", None),
    ("RV septum", None), ("Left and right atria", None),
    # a right chamber named in another language is the right heart, not the left one its chamber's word says
    ("Ventricule droit", 0), ("Oreillette droite", 0), ("Atrio destro", 0), ("Ventricolo destro", 0),
    ("Ventriculus dexter", 0), ("Atrium dextrum", 0), ("rechter Ventrikel", 0),
    ("Ventricule gauche", 1), ("Atrio sinistro", 3), ("Miocardio destro", None),
    # CAMUS's myocardium holds the septum, its cavity the papillary muscles; fat and the atria's
    # septum are none of ours, whatever else their names say ("epicardial" is no epicardium)
    ("Interventricular septum", 2), ("Septum", 2), ("Septum interventriculaire", 2), ("Tabique interventricular", 2),
    ("Setto interventricolare", 2), ("Kammerscheidewand", 2), ("Septal wall", 2), ("LV Epi", 2),
    ("Papillary muscle", 1), ("Anterolateral papillary muscle", 1), ("Muscle papillaire", 1),
    ("Músculo papilar", 1), ("Papillarmuskel", 1), ("Trabeculae carneae", 1), ("RV papillary muscle", 0),
    ("Epicardial fat", None), ("Pericardial fat", None), ("Epicardial adipose tissue", None),
    ("Graisse épicardique", None), ("Grasa epicárdica", None), ("Epikardiales Fettgewebe", None),
    ("Interatrial septum", None), ("Atrial septum", None), ("Septum interauriculaire", None), ("Vorhofseptum", None),
    # what lies between an atrium and a ventricle is neither ("atrioventricular" begins as "atrium")
    ("Left atrioventricular valve", None), ("Right atrioventricular valve", None),
    # a wall or cavity of a structure CAMUS does not label is that structure's, not ours
    ("Aortic wall", None), ("Paroi aortique", None), ("Aortenwand", None), ("Pulmonary vein wall", None),
    ("Coronary artery wall", None), ("Mitral valve annulus", None), ("Vena cava lumen", None),
    # a leading "la" before a ventricle's word is the French or Spanish article, not the LA
    ("La cavité ventriculaire gauche", 1), ("La paroi du ventricule gauche", 2),
    ("La pared del ventrículo izquierdo", 2), ("La oreillette gauche", 3), ("LA cavity", 3), ("La", 3),
    ("Válvula auriculoventricular izquierda", None), ("Atrioventricular groove", None),
    # the left atrium's own wall is neither the atrium's cavity CAMUS labels nor the LV's wall
    ("LA wall", None), ("Left atrial wall", None), ("Left atrial myocardium", None), ("LA epicardium", None),
    ("Paroi de l'oreillette gauche", None), ("Wand des linken Vorhofs", None), ("LA endocardium", 3),
    ("Left atrial appendage", 3), ("Right atrial wall", 0),
])
def test_segments_are_classed_by_their_names(name, expected):
    assert class_of_segment(name) == expected


@pytest.mark.parametrize("accented, plain, expected", [
    # Spanish, Portuguese, French, Italian, German: the accent (or a capital accented letter, or
    # a decomposed one) never splits a word, so the name reads as its unaccented spelling
    ("Ventrículo derecho", "Ventriculo derecho", 0), ("Ventrículo izquierdo", "Ventriculo izquierdo", 1),
    ("Aurícula derecha", "Auricula derecha", 0), ("VENTRÍCULO DERECHO", "ventriculo derecho", 0),
    ("Ventrículo direito", "Ventriculo direito", 0), ("Ventrículo esquerdo", "Ventriculo esquerdo", 1),
    ("Átrio direito", "Atrio direito", 0), ("Átrio esquerdo", "Atrio esquerdo", 3),
    ("Épicarde", "Epicarde", 2), ("Cavité ventriculaire gauche", "Cavite ventriculaire gauche", 1),
    ("Ventri\u0301culo derecho", "Ventriculo derecho", 0),  # the accent as a combining mark of its own
    ("Rechter Vorhof (Atrium dextrum)", "rechter vorhof atrium dextrum", 0),
    ("\uff2c\uff36 cavity", "LV cavity", 1),  # full-width letters
])
def test_accented_and_unaccented_names_read_alike(accented, plain, expected):
    assert class_of_segment(accented) == class_of_segment(plain) == expected


@pytest.mark.parametrize("name, expected", [
    # the left heart's chambers and wall in the languages whose side words are known
    ("Oreillette gauche", 3), ("Aurícula izquierda", 3), ("Linker Vorhof", 3), ("Left auricle", 3),
    ("Miocárdio", 2), ("Miocardio ventricolare sinistro", 2), ("Paroi du ventricule gauche", 2),
    ("Pared del ventrículo izquierdo", 2), ("Linker Ventrikel", 1), ("Linke Kammer", 1),
    ("Cavité du ventricule gauche", 1), ("Cavidad ventricular izquierda", 1),
    # and the right heart's, which must not read as the left one's
    ("Rechtes Atrium", 0), ("Rechte Herzkammer", 0), ("Oreillette droite", 0), ("Right auricle", 0),
    ("Wand des rechten Ventrikels", 0), ("Miocardio destro", None),
    # German: adjectives of a side and a chamber in one word ("linksatrial", "linksventrikulär"),
    # "Herzvorhof" (atrium), "Herzohr" (its appendage), "Herzmuskel" (myocardium), "Kavum"/"Höhle"
    # (cavity); the atrium's wall and septum are refused as "LA wall" and "Interatrial septum" are
    ("Linksatriale Wand", None), ("Linksatriales Myokard", None), ("LA-Wand", None), ("Vorhofseptum", None),
    ("Vorhofscheidewand", None), ("Interatriales Septum", None), ("Linker Herzvorhof", 3), ("Herzvorhof links", 3),
    ("Linkes Atrium", 3), ("Linkes Herzohr", 3), ("Linksatriales Cavum", 3), ("Vorhofhöhle", 3),
    ("Linksatrialer Thrombus", 3), ("Linksventrikuläres Myokard", 2), ("Linksventrikulare Wand", 2), ("LV-Myokard", 2),
    ("LV-Wand", 2), ("Myokard", 2), ("Herzmuskel", 2), ("Epikard", 2), ("Kammerseptum", 2),
    ("Interventrikuläres Septum", 2), ("Linksventrikuläre Höhle", 1), ("Linksventrikulaere Hoehle", 1),
    ("LV-Kavum", 1), ("Linksventrikuläres Cavum", 1), ("Kammerhöhle", 1), ("Linke Herzkammer", 1),
    ("Linksventrikulärer Thrombus", 1), ("Endokard", 1),
    ("Rechter Herzvorhof", 0), ("Rechtsventrikuläres Myokard", 0), ("Rechtsatriale Wand", 0),
    ("Rechtsventrikulär und linksventrikulär", None),
    # French, with its abbreviations "OG", "VG" (left atrium, ventricle), "OD", "VD" (right); "de la"
    # is "of the", not the LA; the apex ("pointe") is a region
    ("Paroi auriculaire gauche", None), ("Paroi atriale gauche", None), ("Myocarde auriculaire", None),
    ("Paroi de l'OG", None), ("Septum interatrial", None), ("OG", 3), ("Cavité de l'OG", 3),
    ("Thrombus de l'OG", 3), ("Auricule gauche", 3), ("Cavité atriale gauche", 3), ("Atrium gauche", 3),
    ("Thrombus intra-auriculaire gauche", 3), ("Myocarde ventriculaire gauche", 2), ("Myocarde du VG", 2),
    ("Paroi ventriculaire gauche", 2), ("Paroi du VG", 2), ("Myocarde de la paroi latérale", 2),
    ("Myocarde de la pointe", 2), ("Myocarde", 2), ("VG", 1), ("Cavité VG", 1), ("Cavité ventriculaire gauche", 1),
    ("Thrombus intraventriculaire gauche", 1), ("Endocarde", 1), ("Pointe du VG", None), ("Apex du VG", None),
    ("VD", 0), ("OD", 0), ("Paroi du VD", 0), ("VG et VD", None),
    # Spanish: "AI" (aurícula izquierda) is English for artificial intelligence too, so a name
    # holding it is refused, even where "de la" is the article
    ("Pared de la AI", None), ("AI", None), ("LV cavity (AI)", None),
    ("Pared auricular izquierda", None), ("Miocardio auricular", None), ("Tabique interauricular", None),
    ("Septo interauricular", None), ("Orejuela izquierda", 3), ("Orejuela de la aurícula izquierda", 3),
    ("Cavidad auricular izquierda", 3), ("Atrio izquierdo", 3), ("Miocardio ventricular izquierdo", 2),
    ("Pared ventricular izquierda", 2), ("Miocardio del VI", 2), ("Miocardio de la pared lateral", 2),
    ("Septo interventricular", 2), ("Miocardio", 2), ("VI", 1), ("Cavidad del VI", 1), ("Ventrículo izquierdo", 1),
    ("Trombo intraventricular", 1), ("Endocardio", 1), ("Punta del VI", None), ("AD", 0), ("Pared del VD", 0),
    ("Ventrículo derecho", 0), ("VI y VD", None),
    # Italian: "AS", "VS" (atrio, ventricolo sinistro) are English "as", "vs" too, so a name holding
    # one is refused; "AD", "VD" are the right heart as in Spanish
    ("AS", None), ("VS", None), ("Parete dell'AS", None), ("Miocardio del VS", None), ("LV vs LA", None),
    ("Parete atriale sinistra", None), ("Miocardio atriale", None), ("Setto interatriale", None),
    ("Auricola sinistra", 3), ("Cavità atriale sinistra", 3), ("Parete ventricolare sinistra", 2),
    ("Miocardio ventricolare", 2), ("Setto interventricolare", 2), ("Cavità ventricolare sinistra", 1),
    ("Ventricolo sinistro", 1), ("Punta del ventricolo sinistro", None), ("Atrio destro", 0), ("Ventricolo destro", 0),
    # Portuguese, with its abbreviations "AE", "VE" (átrio, ventrículo esquerdo)
    ("Parede atrial esquerda", None), ("Miocárdio atrial", None), ("Parede do AE", None), ("Septo interatrial", None),
    ("AE", 3), ("Cavidade do AE", 3), ("Apêndice atrial esquerdo", 3), ("Aurícula esquerda", 3),
    ("Miocárdio ventricular esquerdo", 2), ("Parede ventricular esquerda", 2), ("Miocárdio do VE", 2),
    ("VE", 1), ("Cavidade do VE", 1), ("Cavidade ventricular esquerda", 1), ("Ponta do VE", None),
    ("Ventrículo direito", 0), ("Parede do VD", 0), ("VE e VD", None),
    # Latin, as anatomy names them
    ("Atrium sinistrum", 3), ("Auricula sinistra", 3), ("Paries atrii sinistri", None), ("Septum interatriale", None),
    ("Myocardium ventriculi sinistri", 2), ("Septum interventriculare", 2), ("Ventriculus sinister", 1),
    ("Cavitas ventriculi sinistri", 1),
])
def test_the_left_hearts_structures_are_read_in_other_languages(name, expected):
    assert class_of_segment(name) == expected


@pytest.mark.parametrize("names", [
    ("Ventrículo izquierdo", "Miocárdio", "Átrio esquerdo", "Ventrículo derecho"),  # with accents
    ("Linkerventrikel", "Myocard", "Linkerboezem", "Rechterkamer"),  # Dutch
], ids=["accents", "dutch"])
def test_a_segmentation_named_in_another_language_is_read_by_those_names(tmp_path, names):
    labels = small_heart()
    values = labels.copy()
    values[4:26, 0:6] = 4  # the right ventricle
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, values[None], [(name, value, 0) for value, name in enumerate(names, start=1)])
    said: list[str] = []
    assert np.array_equal(read_volume_label(path, notify=said.append), labels)
    assert said == [f"case.seg.nrrd: segment '{names[3]}' read as background (the right heart, as CAMUS "
                    "labels it)"]


def test_a_slicer_segmentation_is_read_by_its_segment_names_not_its_values(tmp_path):
    labels = small_heart()
    slicer = np.zeros_like(labels)  # Slicer numbered the segments in the order they were made
    slicer[labels == 3], slicer[labels == 2], slicer[labels == 1] = 1, 2, 3
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, slicer[None], [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("LV cavity", 3, 0)])
    assert np.array_equal(read_label_map(path), labels)


def test_overlapping_layers_merge_when_they_agree_and_are_refused_when_they_clash(tmp_path):
    labels = small_heart()
    first = np.where(labels == 2, 7, 0).astype(np.uint8)
    second = np.where(labels == 1, 1, np.where(labels == 3, 2, 0)).astype(np.uint8)
    path = tmp_path / "layers.seg.nrrd"
    write_segmentation(path, np.stack([first, second]),
                       [("Myocardium", 7, 0), ("LV cavity", 1, 1), ("Left atrium", 2, 1)])
    assert np.array_equal(read_label_map(path), labels)
    second[labels == 2] = 1  # the cavity drawn over the whole wall as well
    write_segmentation(path, np.stack([first, second]),
                       [("Myocardium", 7, 0), ("LV cavity", 1, 1), ("Left atrium", 2, 1)])
    with pytest.raises(MaskError, match="'LV cavity' overlaps a segment of Myocardium"):
        read_label_map(path)


def test_a_segmentation_from_before_slicer_4_11_reads_one_segment_per_layer(tmp_path):
    labels = small_heart()
    layers = np.stack([(labels == k).astype(np.uint8) for k in (2, 3, 1)])  # each segment 1 in its own layer
    path = tmp_path / "old.seg.nrrd"
    write_segmentation(path, layers, [("Myocardium", None, None), ("Left atrium", None, None),
                                      ("LV cavity", None, None)], legacy=True)
    assert np.array_equal(read_label_map(path), labels)
    single = tmp_path / "single.seg.nrrd"  # one layer and no fields: the segments' values are 1, 2, 3
    write_segmentation(single, np.where(labels == 3, 1, np.where(labels == 1, 3, labels))[None].astype(np.uint8),
                       [("Left atrium", None, None), ("Myocardium", None, None), ("LV cavity", None, None)], legacy=True)
    assert np.array_equal(read_label_map(single), labels)


@pytest.mark.parametrize("segments, words", [
    ([("Myocardium", 2, 0), ("Tumor", 3, 0)], "segment 'Tumor' is none of LV cavity, Myocardium, Left atrium"),
    ([("Myocardium", 2, 0), ("Aorta", 3, 0)], "segment 'Aorta' is a structure CAMUS does not label; remove it"),
    ([("Myocardium", 2, 0), ("Right coronary artery", 3, 0)],
     "segment 'Right coronary artery' is a structure CAMUS does not label"),
    ([("Myocardium", 2, 0)], "values [3] in layer 0 belong to no segment"),
    ([("Myocardium", 2, 0), ("LV cavity", 3, 4)], "lies in layer 4, but the file holds 1"),
    ([("Myocardium", "two", 0), ("LV cavity", 3, 0)], "damaged label value"),
])
def test_segmentations_that_cannot_be_a_mask_are_refused_in_one_line(tmp_path, segments, words):
    slicer = np.zeros((20, 20), np.uint8)
    slicer[2:10, 2:10], slicer[12:18, 12:18] = 2, 3
    path = tmp_path / "bad.seg.nrrd"
    write_segmentation(path, slicer[None], segments)
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert words in str(caught.value) and "\n" not in str(caught.value) and "bad.seg.nrrd" in str(caught.value)


def test_plain_nrrd_and_metaimage_label_maps_hold_our_ids(tmp_path):
    labels = small_heart()
    for name in ("plain.nrrd", "plain.mha"):
        sitk.WriteImage(sitk.GetImageFromArray(labels), str(tmp_path / name))
        assert np.array_equal(read_label_map(tmp_path / name), labels)
    sitk.WriteImage(sitk.GetImageFromArray(labels * 60), str(tmp_path / "grey.nrrd"))
    with pytest.raises(MaskError, match="not labels"):
        read_label_map(tmp_path / "grey.nrrd")


def test_synthesize_and_export_take_a_slicer_segmentation(tmp_path):
    labels = small_heart()
    masks = tmp_path / "masks"
    masks.mkdir()
    write_segmentation(masks / "patient0001_4CH_ED.seg.nrrd", labels[None],
                       [("LV cavity", 1, 0), ("Myocardium", 2, 0), ("Left atrium", 3, 0)])
    out = tmp_path / "one.npy"
    assert main(["synthesize", "--model", "simulator", "--mask", str(masks / "patient0001_4CH_ED.seg.nrrd"),
                 "--out", str(out)]) == 0
    assert np.load(out).shape[-2:] == labels.shape
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--border-jitter", "0",
                 "--out", str(tmp_path / "export")]) == 0
    exported = sorted((tmp_path / "export").glob("*/label/*.png"))
    assert [p.name for p in exported] == ["patient0001_4CH_ED.png"]  # the stem without .seg.nrrd
    assert np.array_equal(read_label_map(exported[0]), labels)


def test_a_mask_written_for_slicer_names_and_colours_its_classes_and_reads_back(tmp_path):
    from engine.labels import LABELS
    from engine.slicer_segments import segments_of, write_segmentation

    labels = small_heart()
    labels[labels == 3] = 0  # a class that is absent still gets its (empty) segment
    path = tmp_path / "mask.seg.nrrd"
    write_segmentation(path, labels)
    assert np.array_equal(read_label_map(path), labels)
    image = sitk.ReadImage(str(path))
    metadata = {key: image.GetMetaData(key) for key in image.GetMetaDataKeys()}
    assert [(s.name, s.value, s.layer) for s in segments_of(metadata, "m")] == [
        (lab.name, lab.id, 0) for lab in LABELS[1:]]
    assert metadata["Segment0_Extent"] == "10 21 7 22 0 0"  # columns, then rows, of the cavity
    assert metadata["Segment2_Extent"] == "0 -1 0 -1 0 -1"
    assert metadata["Segment1_Color"] == " ".join(f"{c / 255:.4f}" for c in LABELS[2].color)
    step = 0.6 * 256 / labels.shape[1]  # a 15 cm field, as 0.6 mm pixels at 256
    assert image.GetSpacing() == pytest.approx((step, step, 1.0))
    with pytest.raises(MaskError, match="not labels"):
        write_segmentation(tmp_path / "bad.seg.nrrd", labels * 9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.seg.nrrd"]


def test_a_mask_written_for_slicer_codes_each_class_in_standard_terminology(tmp_path):
    from engine.slicer_segments import write_segmentation

    path = tmp_path / "mask.seg.nrrd"
    write_segmentation(path, small_heart())
    image = sitk.ReadImage(str(path))
    context = "Segmentation category and type - 3D Slicer General Anatomy list"
    anatomy = "~^^~Anatomic codes - DICOM master list~^^~^^|"
    assert [image.GetMetaData(f"Segment{i}_Tags") for i in range(3)] == [
        f"TerminologyEntry:{context}~SCT^123037004^Anatomical Structure~SCT^{code}{anatomy}"
        for code in ("87878005^Left ventricle", "74281007^Myocardium", "82471001^Left atrium")]


def heart_in_slicer_values(labels: np.ndarray) -> np.ndarray:
    """``labels`` with Slicer's values: the atrium, the myocardium, the cavity made in that order."""
    return np.select([labels == 3, labels == 2, labels == 1], [1, 2, 3], 0).astype(np.uint8)[None]


def test_segments_whose_names_say_nothing_are_read_by_their_terminology(tmp_path):
    labels = small_heart()
    path = tmp_path / "coded.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("Segment_1", 1, 0, terminology_tags(LA)), ("Miocardio", 2, 0, terminology_tags(MYO)),
                        ("Ventricolo sinistro", 3, 0, terminology_tags(LV.replace("SCT", "sct")))])
    assert np.array_equal(read_label_map(path), labels)


def test_where_name_and_terminology_disagree_the_terminology_decides(tmp_path):
    labels = small_heart()
    path = tmp_path / "disagree.seg.nrrd"
    # the atrium and the cavity coded as what they are but each named as the other
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("LV cavity", 1, 0, terminology_tags(LA)), ("Myocardium", 2, 0, terminology_tags(MYO)),
                        ("Left atrium", 3, 0, terminology_tags(LV))])
    assert np.array_equal(read_label_map(path), labels)
    # the left ventricle's code is the whole ventricle: a wall named under it stays the wall
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("LA", 1, 0, terminology_tags(LA)), ("LV wall", 2, 0, terminology_tags(LV)),
                        ("LV", 3, 0, terminology_tags(LV))])
    assert np.array_equal(read_label_map(path), labels)


def test_a_terminology_we_do_not_know_leaves_the_segment_to_its_name(tmp_path):
    labels = small_heart()
    path = tmp_path / "tissue.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("Left atrium", 1, 0, SLICER_DEFAULT_TAGS), ("Myocardium", 2, 0, SLICER_DEFAULT_TAGS),
                        ("LV cavity", 3, 0, terminology_tags("SCT^80891009^Heart"))])
    assert np.array_equal(read_label_map(path), labels)
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("Segment_3", 3, 0, SLICER_DEFAULT_TAGS)])
    with pytest.raises(MaskError, match="segment 'Segment_3' is none of LV cavity, Myocardium, Left atrium"):
        read_label_map(path)


@pytest.mark.parametrize("tags", [
    "TerminologyEntry:", "TerminologyEntry", "TerminologyEntry:~~", "TerminologyEntry:garbage",
    "TerminologyEntry:ctx~SCT^123037004~SCT", "||::|~^~^|", "TerminologyEntry:a~b~^82471001^~c~d~e~f~g~h",
    terminology_tags(LA, modifier="SCT^24028007^Right"),  # a qualified type is not the plain structure
])
def test_a_damaged_or_unknown_terminology_never_stops_a_file_its_names_place(tmp_path, tags):
    labels = small_heart()
    path = tmp_path / "damaged.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("Left atrium", 1, 0, tags), ("Myocardium", 2, 0, tags), ("LV cavity", 3, 0, tags)])
    assert np.array_equal(read_label_map(path), labels)


@pytest.mark.parametrize("tags, words", [
    (terminology_tags(RV), "segment 'LV cavity' is coded as Right ventricle (SCT 53085002), the right heart, "
                           "but named as LV cavity"),
    (terminology_tags(MYO, region=RV), "segment 'LV cavity' is coded as Right ventricle (SCT 53085002)"),
])
def test_a_segment_coded_as_the_right_heart_but_named_as_ours_is_refused(tmp_path, tags, words):
    """Read as background it would drop a structure its name says we hold: neither wins."""
    labels = small_heart()
    path = tmp_path / "bad.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("LV cavity", 3, 0, tags)])
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert words in str(caught.value) and "\n" not in str(caught.value) and "bad.seg.nrrd" in str(caught.value)


def test_a_mask_written_for_slicer_reads_back_by_its_terminology_once_renamed(tmp_path):
    from engine.slicer_segments import write_segmentation as write_for_slicer

    labels = small_heart()
    path = tmp_path / "mask.seg.nrrd"
    write_for_slicer(path, labels)
    image = sitk.ReadImage(str(path))
    for index, name in enumerate(("Ventricule gauche", "Myocarde", "Oreillette gauche")):
        image.SetMetaData(f"Segment{index}_Name", name)  # renamed in Slicer, in French
    sitk.WriteImage(image, str(path), True)
    assert np.array_equal(read_label_map(path), labels)


def told_reading(path) -> list[str]:
    from engine.maskio import read_volume_label

    said: list[str] = []
    read_volume_label(path, notify=said.append)
    return said


def test_a_segment_read_by_its_terminology_is_told_in_one_line(tmp_path):
    labels = small_heart()
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("LA", 1, 0, terminology_tags(LA)), ("Myocardium", 2, 0, terminology_tags(MYO)),
                        ("Segment_1", 3, 0, terminology_tags(LV))])
    assert told_reading(path) == [
        "case.seg.nrrd: segment 'Segment_1' read as LV cavity by its terminology (Left ventricle)"]
    # the atrium and the cavity coded as what they are but each named as the other
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("LV cavity", 1, 0, terminology_tags(LA)), ("Segment_2", 2, 0, terminology_tags(MYO)),
                        ("Left atrium", 3, 0, terminology_tags(LV))])
    said = told_reading(path)
    assert said == ["case.seg.nrrd: segments read by their terminology: 'LV cavity' as left atrium (Left "
                    "atrium, not as its name says), 'Segment_2' as myocardium (Myocardium), 'Left atrium' as "
                    "LV cavity (Left ventricle, not as its name says)"]


@pytest.mark.parametrize("segments", [
    [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("LV cavity", 3, 0)],  # names alone
    [("LA", 1, 0, terminology_tags(LA)), ("Myocardium", 2, 0, terminology_tags(MYO)),
     ("LV", 3, 0, terminology_tags(LV))],  # names and codes that agree
    [("LA", 1, 0, terminology_tags(LA)), ("LV wall", 2, 0, terminology_tags(LV)),
     ("LV", 3, 0, terminology_tags(LV))],  # a wall under the whole ventricle's code is the wall
    [("Left atrium", 1, 0, SLICER_DEFAULT_TAGS), ("Myocardium", 2, 0, SLICER_DEFAULT_TAGS),
     ("LV cavity", 3, 0, SLICER_DEFAULT_TAGS)],  # Slicer's generic "Tissue": the names decide
    [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("LV cavity", 3, 0), ("Segment_9", 9, 0, terminology_tags(LA))],
])
def test_a_segmentation_read_as_its_names_say_is_read_without_a_word(tmp_path, segments):
    """The last: a segment read by its terminology that holds no pixel changes nothing."""
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(small_heart()), segments)
    assert told_reading(path) == []


def test_synthesize_and_export_print_how_a_segmentation_was_read(tmp_path, capsys):
    labels = small_heart()
    masks = tmp_path / "masks"
    masks.mkdir()
    write_segmentation(masks / "patient0001_4CH_ED.seg.nrrd", heart_in_slicer_values(labels),
                       [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("Segment_1", 3, 0, terminology_tags(LV))])
    said = "patient0001_4CH_ED.seg.nrrd: segment 'Segment_1' read as LV cavity by its terminology (Left ventricle)"
    assert main(["synthesize", "--model", "simulator", "--mask", str(masks / "patient0001_4CH_ED.seg.nrrd"),
                 "--out", str(tmp_path / "one.npy")]) == 0
    assert said in capsys.readouterr().err
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--border-jitter", "0",
                 "--out", str(tmp_path / "export")]) == 0
    err = capsys.readouterr().err
    assert "1 mask(s) with labels read by name or terminology: " + said in err


def test_export_sums_up_the_right_heart_read_as_background_without_calling_it_a_mapping(tmp_path, capsys):
    masks = tmp_path / "masks"
    masks.mkdir()
    write_segmentation(masks / "patient0001_4CH_ED.seg.nrrd", whole_heart(),
                       OURS + [("Right ventricle", 4, 0), ("Right atrium", 5, 0)])
    write_segmentation(masks / "patient0002_4CH_ED.seg.nrrd", heart_in_slicer_values(small_heart()),
                       [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("Segment_1", 3, 0, terminology_tags(LV))])
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--border-jitter", "0",
                 "--out", str(tmp_path / "export")]) == 0
    err = capsys.readouterr().err
    assert ("2 mask(s) with labels read by name or terminology: patient0001_4CH_ED.seg.nrrd: segments 'Right "
            "ventricle', 'Right atrium' read as background (the right heart, as CAMUS labels it); "
            "patient0002_4CH_ED.seg.nrrd: segment 'Segment_1' read as LV cavity by its terminology (Left ventricle)"
            ) in err
    assert "mapped" not in err


def test_the_studio_says_how_a_segmentation_was_read_when_opened_or_dropped(window, tmp_path):
    labels = small_heart()
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(labels),
                       [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("Segment_1", 3, 0, terminology_tags(LV))])
    said = "case.seg.nrrd: segment 'Segment_1' read as LV cavity by its terminology (Left ventricle)"
    assert window.files.open_path(path, confirmed=True)  # File > Open
    assert np.array_equal(window.document.labels, labels)
    assert said in window.statusBar().currentMessage()
    window.statusBar().clearMessage()
    assert window.open_any(path)  # dropped on the window
    assert np.array_equal(window.document.labels, labels)
    assert said in window.statusBar().currentMessage()


def contour_layers(labels: np.ndarray) -> np.ndarray:
    """``labels`` as contours drawn filled: layer 0 the area inside the outer outline (the wall
    and the cavity), layer 1 the cavity (1) and the atrium (2)."""
    layers = np.zeros((2, *labels.shape), np.uint8)
    layers[0][(labels == 1) | (labels == 2)] = 1
    layers[1][labels == 1] = 1
    layers[1][labels == 3] = 2
    return layers


@pytest.mark.parametrize("outer", ["Segment_1", "Contorno esterno", "LV"])
def test_a_filled_outline_coded_as_the_myocardium_is_the_wall_around_the_cavity(tmp_path, outer):
    """Whatever its name, a segment coded as the myocardium that holds the whole cavity is the
    area inside the outer outline ("LV", the whole ventricle, included); in either order."""
    from engine.maskio import read_volume_label

    labels = small_heart()
    path = tmp_path / "contours.seg.nrrd"
    for segments in ([(outer, 1, 0, terminology_tags(MYO)), ("LV cavity", 1, 1), ("LA", 2, 1)],
                     [("LV cavity", 1, 1), ("LA", 2, 1), (outer, 1, 0, terminology_tags(MYO))]):
        write_segmentation(path, contour_layers(labels), segments)
        said: list[str] = []
        assert np.array_equal(read_volume_label(path, notify=said.append), labels)
        assert len(said) == 1 and f"{outer!r} read as myocardium by its terminology (Myocardium" in said[0] \
            and "a filled outline: the cavity inside it kept" in said[0]


def test_a_wall_coded_as_the_myocardium_over_part_of_the_cavity_is_an_overlap(tmp_path):
    labels = small_heart()
    layers = contour_layers(labels)
    covered = labels == 1
    covered[np.nonzero(covered.any(axis=1))[0][-3:]] = False  # the cavity's last rows outside it
    layers[0] = (labels == 2) | covered
    path = tmp_path / "contours.seg.nrrd"
    write_segmentation(path, layers, [("Segment_1", 1, 0, terminology_tags(MYO)), ("LV cavity", 1, 1), ("LA", 2, 1)])
    with pytest.raises(MaskError, match="overlaps a segment of"):
        read_label_map(path)
    # a segment named as the wall itself is the band, never the area inside it, whatever it holds
    write_segmentation(path, contour_layers(labels),
                       [("Myocardium", 1, 0, terminology_tags(MYO)), ("LV cavity", 1, 1), ("LA", 2, 1)])
    with pytest.raises(MaskError, match="overlaps a segment of"):
        read_label_map(path)


def test_a_segment_named_as_the_right_heart_but_coded_as_ours_is_told_against_its_name(tmp_path):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, heart_in_slicer_values(small_heart()),
                       [("LA", 1, 0), ("Myocardium", 2, 0), ("Right ventricle", 3, 0, terminology_tags(LV))])
    assert told_reading(path) == ["case.seg.nrrd: segment 'Right ventricle' read as LV cavity by its terminology "
                                  "(Left ventricle, not as its name says)"]


PAPILLARY_MUSCLE = "SCT^88170004^Papillary muscle"  # a structure the table does not know


def whole_heart(right_heart: np.ndarray | None = None) -> np.ndarray:
    """``small_heart`` in Slicer's values (1 atrium, 2 wall, 3 cavity) with a right ventricle (4)
    left of the septum and a right atrium (5) below it, as a 4-chamber view holds them; or, with
    ``right_heart``, a second layer holding it (4) over the first."""
    layer = heart_in_slicer_values(small_heart())[0]
    if right_heart is not None:
        return np.stack([layer, np.where(right_heart, 4, 0).astype(np.uint8)])
    layer[4:26, 0:6], layer[27:38, 0:8] = 4, 5
    return layer[None]


OURS = [("Left atrium", 1, 0), ("Myocardium", 2, 0), ("LV cavity", 3, 0)]


@pytest.mark.parametrize("right_heart, note", [
    ([("Right ventricle", 4, 0), ("Right atrium", 5, 0)],
     "segments 'Right ventricle', 'Right atrium' read as background (the right heart, as CAMUS labels it)"),
    ([("RV", 4, 0, SLICER_DEFAULT_TAGS), ("RA", 5, 0, terminology_tags(RA))],
     "segments 'RV', 'RA' read as background (the right heart, as CAMUS labels it)"),
    ([("Segment_4", 4, 0, terminology_tags(RV)), ("Segment_5", 5, 0, terminology_tags(RA))],
     "segments 'Segment_4' (coded Right ventricle), 'Segment_5' (coded Right atrium) read as background "
     "(the right heart, as CAMUS labels it)"),
    ([("Segment_4", 4, 0, terminology_tags(MYO, region=RV)),
      ("Segment_5", 5, 0, terminology_tags(PAPILLARY_MUSCLE, region=RA))],  # in the right heart's regions
     "segments 'Segment_4' (coded Right ventricle), 'Segment_5' (coded Right atrium) read as background "
     "(the right heart, as CAMUS labels it)"),
])
def test_a_whole_heart_segmentation_reads_its_right_heart_as_background_and_says_so(tmp_path, right_heart, note):
    """By name, or by the code of the right ventricle or atrium (or a structure in their region)
    under a name that says nothing: CAMUS's 4-chamber views hold the right heart in the background."""
    from engine.maskio import read_volume_label

    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), OURS + right_heart)
    said: list[str] = []
    assert np.array_equal(read_volume_label(path, notify=said.append), small_heart())
    assert said == [f"case.seg.nrrd: {note}"]


def test_a_right_heart_note_and_a_terminology_note_share_the_one_line(tmp_path):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), [("Left atrium", 1, 0), ("Myocardium", 2, 0),
                                             ("Segment_1", 3, 0, terminology_tags(LV)), ("RV", 4, 0),
                                             ("Tissue", 5, 0, terminology_tags(RA))])
    assert told_reading(path) == [
        "case.seg.nrrd: segment 'Segment_1' read as LV cavity by its terminology (Left ventricle); segments 'RV', "
        "'Tissue' (coded Right atrium) read as background (the right heart, as CAMUS labels it)"]


def test_a_right_heart_drawn_over_our_classes_leaves_them_theirs_in_either_order(tmp_path):
    """Background never overwrites: a right ventricle painted over the septum and into the cavity
    (a layer of its own) leaves the wall and the cavity as they are, whichever segment was made first."""
    labels = small_heart()
    over = np.zeros(labels.shape, bool)
    over[4:26, 0:13] = True  # the whole septum and three columns of the cavity
    path = tmp_path / "case.seg.nrrd"
    for segments in (OURS + [("Right ventricle", 4, 1)], [("Right ventricle", 4, 1)] + OURS,
                     OURS + [("Segment_4", 4, 1, terminology_tags(RV))]):
        write_segmentation(path, whole_heart(right_heart=over), segments)
        assert np.array_equal(read_label_map(path), labels)


def test_a_right_heart_wholly_under_our_classes_is_not_said_to_be_read_as_background(tmp_path):
    labels = small_heart()
    under = np.zeros(labels.shape, bool)
    under[4:26, 6:9] = True
    assert (labels[under] > 0).all()  # the septum's band: all of it our classes'
    path = tmp_path / "case.seg.nrrd"
    for segments in (OURS + [("Right ventricle", 4, 1)], OURS + [("Segment_4", 4, 1, terminology_tags(RV))]):
        write_segmentation(path, whole_heart(right_heart=under), segments)
        said: list[str] = []
        assert np.array_equal(read_volume_label(path, notify=said.append), labels)
        assert said == []
    under[4:26, 0:9] = True  # and beyond the septum, where it leaves background
    write_segmentation(path, whole_heart(right_heart=under), OURS + [("Right ventricle", 4, 1)])
    assert told_reading(path) == [
        "case.seg.nrrd: segment 'Right ventricle' read as background (the right heart, as CAMUS labels it)"]


def test_a_segment_of_another_structure_beside_the_right_heart_is_still_refused(tmp_path):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0), ("Aorta", 5, 0)])
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == (f"{path}: segment 'Aorta' is a structure CAMUS does not label; remove it in "
                                 "Slicer's Segment Editor, or export only the LV cavity, myocardium and left atrium "
                                 "segments")


AORTA, PERICARDIUM = "SCT^15825003^Aorta", "SCT^76848001^Pericardium"


@pytest.mark.parametrize("name, tags, said", [
    # plainly a structure CAMUS does not label, by its name or its terminology: remove it
    ("Aorta", "", "segment 'Aorta' is a structure CAMUS does not label; remove it in Slicer's Segment Editor, "
                  "or export only the LV cavity, myocardium and left atrium segments"),
    ("Pericardium", "", "segment 'Pericardium' is a structure CAMUS does not label; remove it"),
    ("Right coronary artery", "", "segment 'Right coronary artery' is a structure CAMUS does not label; remove it"),
    ("Péricarde", "", "segment 'Péricarde' is a structure CAMUS does not label; remove it"),
    ("Válvula mitral", "", "segment 'Válvula mitral' is a structure CAMUS does not label; remove it"),
    ("Epicardial fat", "", "segment 'Epicardial fat' is a structure CAMUS does not label; remove it"),
    ("Pericardial fat", "", "segment 'Pericardial fat' is a structure CAMUS does not label; remove it"),
    ("Aortic wall", "", "segment 'Aortic wall' is a structure CAMUS does not label; remove it"),
    ("Graisse épicardique", "", "segment 'Graisse épicardique' is a structure CAMUS does not label; remove it"),
    ("Interatrial septum", "", "segment 'Interatrial septum' is a structure CAMUS does not label; remove it"),
    ("Left atrioventricular valve", "", "segment 'Left atrioventricular valve' is a structure CAMUS does not label; "
                                        "remove it"),
    ("Left atrial wall", "", "segment 'Left atrial wall' is a structure CAMUS does not label; remove it"),
    ("Segment_7", terminology_tags(AORTA), "segment 'Segment_7' (coded Aorta) is a structure CAMUS does not label; "
                                           "remove it"),
    ("Pericardium", terminology_tags(PERICARDIUM), "segment 'Pericardium' is a structure CAMUS does not label; "
                                                   "remove it"),
    # a name that says nothing we know may be one of ours under another name: rename it
    ("Segment_7", "", "segment 'Segment_7' is none of LV cavity, Myocardium, Left atrium; rename it in Slicer "
                      "(e.g. 'LV cavity') or remove it"),
    ("Label 4", "", "segment 'Label 4' is none of LV cavity, Myocardium, Left atrium; rename it"),
    ("Pared de la AI", "", "segment 'Pared de la AI' is none of LV cavity, Myocardium, Left atrium; rename it"),
    ("Paroi de l'OG", "", "segment \"Paroi de l'OG\" is a structure CAMUS does not label; remove it"),
    ("Segment_7", SLICER_DEFAULT_TAGS, "segment 'Segment_7' is none of LV cavity, Myocardium, Left atrium; rename it"),
])
def test_a_structure_camus_does_not_label_is_to_be_removed_and_an_unknown_name_renamed(tmp_path, name, tags, said):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0), (name, 5, 0, tags)])
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value).startswith(f"{path}: {said}")
    assert "\n" not in str(caught.value)


def test_a_septum_segment_is_part_of_the_wall_and_papillary_muscles_part_of_the_cavity(tmp_path):
    labels = small_heart()
    slicer = heart_in_slicer_values(labels)[0]
    slicer[4:26, 6:10] = 4  # the septal side of the wall, a segment of its own beside "Myocardium"
    slicer[12:16, 14:18] = 5  # a papillary muscle inside the cavity, carved out of its segment
    segments = OURS + [("Interventricular septum", 4, 0), ("Papillary muscle", 5, 0)]
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, slicer[None], segments)
    assert np.array_equal(read_label_map(path), labels)
    # drawn over the segments they belong to (in layers of their own), they merge with them
    over = np.zeros_like(slicer)
    over[4:26, 6:10], over[12:16, 14:18] = 4, 5
    write_segmentation(path, np.stack([heart_in_slicer_values(labels)[0], over]),
                       OURS + [("Interventricular septum", 4, 1), ("Papillary muscle", 5, 1)])
    assert np.array_equal(read_label_map(path), labels)
    # but a septum is a band of the wall: drawn into the cavity it overlaps it, as any wall does
    over[4:26, 6:12] = 4
    write_segmentation(path, np.stack([heart_in_slicer_values(labels)[0], over]),
                       OURS + [("Interventricular septum", 4, 1), ("Papillary muscle", 5, 1)])
    with pytest.raises(MaskError, match="overlaps a segment of"):
        read_label_map(path)


def test_an_epicardial_fat_segment_is_not_the_epicardium_even_where_it_holds_the_cavity(tmp_path):
    labels = small_heart()
    layers = np.zeros((2, *labels.shape), np.uint8)
    layers[0][labels > 0] = 1  # fat drawn as a filled area over the whole heart
    layers[1] = heart_in_slicer_values(labels)[0]
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, layers, [("Epicardial fat", 1, 0)] + [(n, v, 1) for n, v, _ in OURS])
    with pytest.raises(MaskError, match="segment 'Epicardial fat' is a structure CAMUS does not label; remove it"):
        read_label_map(path)



def srt_tags(structure: str, region: str = "^^") -> str:
    """:func:`terminology_tags` under SNOMED's old DICOM designator ``SRT``, as older Slicer files code it."""
    return terminology_tags(structure.replace("SCT^", "SRT^"), region.replace("SCT^", "SRT^"))


def test_segments_coded_with_snomeds_old_designator_srt_read_by_their_terminology(tmp_path):
    labels = small_heart()
    path = tmp_path / "old.seg.nrrd"
    write_segmentation(path, whole_heart(), [
        ("Segment_1", 1, 0, srt_tags(LA)), ("Segment_2", 2, 0, srt_tags(MYO)), ("Segment_3", 3, 0, srt_tags(LV)),
        ("Segment_4", 4, 0, srt_tags(RV)), ("Segment_5", 5, 0, srt_tags(MYO, region=RA))])
    assert told_reading(path)[0].endswith("segments 'Segment_4' (coded Right ventricle), 'Segment_5' (coded Right "
                                          "atrium) read as background (the right heart, as CAMUS labels it)")
    assert np.array_equal(read_label_map(path), labels)
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0), ("Segment_7", 5, 0, srt_tags(AORTA))])
    with pytest.raises(MaskError, match="segment 'Segment_7' \\(coded Aorta\\) is a structure CAMUS does not label"):
        read_label_map(path)


def old_slicer_tags(structure: str) -> str:
    """A ``TerminologyEntry`` as Slicer's General Anatomy list wrote it before SNOMED CT's codes:
    SNOMED RT's values under ``SRT``, its category too."""
    return (f"TerminologyEntry:Segmentation category and type - 3D Slicer General Anatomy list"
            f"~SRT^T-D000A^Anatomical Structure~{structure}~^^~Anatomic codes - DICOM master list~^^~^^|")


def test_segments_coded_as_older_slicer_files_code_them_read_by_their_terminology(tmp_path):
    """Older Slicer files give SRT the values of SNOMED RT ("T-32600", the left ventricle), not
    SNOMED CT's: a segment coded so is read as that code says."""
    labels = small_heart()
    path = tmp_path / "old.seg.nrrd"
    write_segmentation(path, whole_heart(), [
        ("Left atrium", 1, 0), ("Myocardium", 2, 0), ("Segment_3", 3, 0, old_slicer_tags("SRT^T-32600^Left Ventricle")),
        ("Segment_4", 4, 0, old_slicer_tags("SRT^T-32500^Right Ventricle")), ("Right atrium", 5, 0)])
    said = told_reading(path)[0]
    assert "segment 'Segment_3' read as LV cavity by its terminology (Left ventricle)" in said
    assert "'Segment_4' (coded Right ventricle)" in said
    assert np.array_equal(read_label_map(path), labels)
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0),
                                                    ("Segment_7", 5, 0, old_slicer_tags("SRT^T-42000^Aorta"))])
    with pytest.raises(MaskError, match="segment 'Segment_7' \\(coded Aorta\\) is a structure CAMUS does not label"):
        read_label_map(path)


IVS, IAS = "SCT^589001^Interventricular septum", "SCT^58095006^Interatrial septum"


@pytest.mark.parametrize("tags", [terminology_tags(IVS), old_slicer_tags("SRT^T-32410^Interventricular septum")])
def test_a_segment_coded_as_the_interventricular_septum_is_part_of_the_wall(tmp_path, tags):
    """As one named "Interventricular septum" is: CAMUS's myocardium holds the septum."""
    labels = small_heart()
    slicer = heart_in_slicer_values(labels)[0]
    slicer[4:26, 6:10] = 4  # the septal side of the wall, a segment of its own
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, slicer[None], OURS + [("Segment_4", 4, 0, tags)])
    assert np.array_equal(read_label_map(path), labels)
    assert told_reading(path) == ["case.seg.nrrd: segment 'Segment_4' read as myocardium by its terminology "
                                  "(Interventricular septum)"]
    # a band of the wall: drawn over the whole cavity it overlaps it, never taken as a filled outline
    over = np.where(labels == 1, 4, 0).astype(np.uint8)
    over[4:26, 6:10] = 4
    write_segmentation(path, np.stack([heart_in_slicer_values(labels)[0], over]),
                       OURS + [("Segment_4", 4, 1, tags)])
    with pytest.raises(MaskError, match="segment 'Segment_4' overlaps a segment of LV cavity"):
        read_label_map(path)


@pytest.mark.parametrize("tags", [terminology_tags(IAS), old_slicer_tags("SRT^T-32150^Interatrial septum")])
def test_a_segment_coded_as_the_interatrial_septum_is_to_be_removed(tmp_path, tags):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0), ("Segment_7", 5, 0, tags)])
    with pytest.raises(MaskError, match="segment 'Segment_7' \\(coded Interatrial septum\\) is a structure CAMUS "
                                        "does not label; remove it"):
        read_label_map(path)


@pytest.mark.parametrize("name, expected", [
    # German compounds of an atrium's word and a wall's are the atrium's own wall, as "LA wall" is
    ("Linke Vorhofwand", None), ("Vorhofwand", None), ("Vorhofmyokard", None), ("Linkes Vorhofmyokard", None),
    ("Vorhofmuskulatur", None), ("Atriumwand", None), ("Vorhofnarbe", None), ("LA scar", None),
    ("Linker Vorhof", 3), ("Vorhofendokard", 3), ("Vorhof", 3),
    # and a ventricle's with a wall's the LV's wall, not its cavity
    ("Linke Kammerwand", 2), ("Ventrikelmyokard", 2), ("Linke Kammer", 1),
    # a scar is fibrous myocardium within the wall; a thrombus lies in its chamber's cavity
    ("LV scar", 2), ("Myocardial scar", 2), ("Cicatrice ventriculaire gauche", 2), ("Infarto", 2),
    ("LV thrombus", 1), ("LV apical thrombus", 1), ("LA thrombus", 3), ("Thrombus", None),
    # a region is no tissue unless its name says one
    ("LV apex", None), ("Left ventricular apex", None), ("Herzspitze", None), ("LV apical myocardium", 2),
    ("LV apex cavity", 1),
    # the LV outflow tract is the outflow part of the cavity, the RV's the right heart
    ("Left ventricular outflow tract", 1), ("LVOT", 1), ("RVOT", 0),
])
def test_wall_compounds_scars_thrombi_regions_and_outflow_tracts_are_classed_by_their_names(name, expected):
    assert class_of_segment(name) == expected


@pytest.mark.parametrize("name, said", [
    ("Linke Vorhofwand", "segment 'Linke Vorhofwand' is a structure CAMUS does not label; remove it"),
    ("Vorhofmyokard", "segment 'Vorhofmyokard' is a structure CAMUS does not label; remove it"),
    ("Linksatriale Wand", "segment 'Linksatriale Wand' is a structure CAMUS does not label; remove it"),
    ("Pointe du VG", "segment 'Pointe du VG' is a region of the heart, not a tissue: none of LV cavity, "
                     "Myocardium, Left atrium; rename it in Slicer as what it holds (e.g. 'LV cavity') or remove it"),
    ("LV apex", "segment 'LV apex' is a region of the heart, not a tissue: none of LV cavity, Myocardium, "
                "Left atrium; rename it in Slicer as what it holds (e.g. 'LV cavity') or remove it"),
])
def test_an_atrial_wall_compound_is_to_be_removed_and_a_region_renamed(tmp_path, name, said):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0), (name, 5, 0)])
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == f"{path}: {said}" + (
        "" if "region" in said else " in Slicer's Segment Editor, or export only the LV cavity, myocardium and "
                                    "left atrium segments")


def test_a_scar_segment_carved_out_of_the_wall_is_part_of_the_wall(tmp_path):
    labels = small_heart()
    slicer = heart_in_slicer_values(labels)[0]
    slicer[4:12, 6:10] = 4  # a scar in the septal wall, a segment of its own
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, slicer[None], OURS + [("LV scar", 4, 0)])
    assert np.array_equal(read_label_map(path), labels)


@pytest.mark.parametrize("name, expected", [
    # a name joining two of our classes holds both: none of them
    ("LA and LV", None), ("LV + LA", None), ("LV/LA", None), ("LV & LA", None), ("LA-LV", None), ("LA LV", None),
    ("Left atrium and ventricle", None), ("LA and left ventricle", None), ("LV and myocardium", None),
    ("Cavity and wall", None), ("LV wall and cavity", None), ("LV endocardium and epicardium", None),
    ("LA and myocardium", None), ("LV cavity with myocardium", None), ("Left ventricle or left atrium", None),
    ("Ventricule et oreillette gauches", None), ("Ventrículo izquierdo y aurícula izquierda", None),
    ("Atrio e ventricolo sinistro", None), ("Linker Ventrikel und Vorhof", None),
    # a wall's or a cavity's word with a chamber's is that chamber's one structure; two names of one
    # class, or one of ours with a structure that is not, join no two of ours
    ("LV wall", 2), ("LV epicardium", 2), ("LA myocardium", None), ("LA cavity", 3), ("LV cavity wall", 2),
    ("Left atrioventricular valve", None), ("Myocardium and septum", 2), ("Myocardium/septum", 2),
    ("LV cavity and papillary muscles", 1), ("LV with papillary muscles", 1), ("LA with appendage", 3),
    ("LV and RV", None), ("Right atrium and ventricle", 0),
])
def test_a_name_joining_two_of_our_classes_is_none_of_them(name, expected):
    assert class_of_segment(name) == expected


@pytest.mark.parametrize("name, classes", [
    ("LA and LV", "left atrium and LV cavity"), ("LV + LA", "LV cavity and left atrium"),
    ("Cavity and wall", "LV cavity and myocardium"), ("LA and myocardium", "left atrium and myocardium"),
])
def test_a_segment_named_as_two_of_our_classes_is_to_be_renamed_as_what_it_holds(tmp_path, name, classes):
    path = tmp_path / "case.seg.nrrd"
    write_segmentation(path, whole_heart(), OURS + [("Right ventricle", 4, 0), (name, 5, 0)])
    with pytest.raises(MaskError) as caught:
        read_label_map(path)
    assert str(caught.value) == (f"{path}: segment {name!r} names {classes}, which one segment cannot hold apart; "
                                 "rename it in Slicer as what it holds (e.g. 'LV cavity') or split it into a "
                                 "segment per class")


@pytest.mark.parametrize("name, expected", [
    # Dutch: a side and a chamber in one word as German's ("Linkerventrikel": "linker ventrikel"),
    # "kamer" (ventricle), "boezem" (atrium), "hartspier", "hartwand", "tussenschot" (the wall)
    ("Linkerventrikel", 1), ("Linker ventrikel", 1), ("Linkerkamer", 1), ("Hartkamer", 1), ("Ventrikel links", 1),
    ("Linker ventrikel holte", 1), ("Linkerboezem", 3), ("Linker atrium", 3), ("Linkeratrium", 3),
    ("Linkerhartboezem", 3), ("Boezem links", 3), ("Trombus in de linkerboezem", 3),
    ("Myocard", 2), ("Hartspier", 2), ("Hartwand", 2), ("Wand", 2), ("Septum", 2), ("Tussenschot", 2),
    ("Kamerwand", 2), ("Linker kamerwand", 2), ("Linkerventrikelwand", 2), ("Kamertussenschot", 2),
    ("Myocard van de linker ventrikel", 2),
    ("Rechterventrikel", 0), ("Rechterkamer", 0), ("Rechterboezem", 0), ("Rechteratrium", 0), ("Kamer rechts", 0),
    ("Rechterventrikelwand", 0), ("Achtergrond", 0),
    # the atrium's wall and septum, as "LA wall" and "Interatrial septum"; a region; two of ours joined
    ("Boezemwand", None), ("Linkerboezemwand", None), ("Wand van de linkerboezem", None),
    ("Boezemtussenschot", None), ("Apex van de linker ventrikel", None), ("Linkerventrikel en linkerboezem", None),
    ("Linker ventrikel met hartspier", None), ("Linkerventrikel en rechterventrikel", None),
])
def test_the_left_hearts_structures_are_read_in_dutch(name, expected):
    assert class_of_segment(name) == expected
