import json

import h5py
import numpy as np
import pytest
import SimpleITK as sitk
from PIL import Image

from engine.anatomy import template_mask
from engine.cli.main import main
from engine.errors import DataError
from engine.export import export_dataset
from engine.maskio import read_label_png, write_label_png
from engine.progress import Cancelled
from engine.fan import Fan
from engine.synthesizer import Synthesizer, to_uint8


@pytest.fixture(scope="module")
def synth():
    return Synthesizer("simulator")


def expected_image(synth, labels, pair):
    """What the export should hold for ``labels``: its seed and the fan it recorded."""
    return to_uint8(synth.synthesize(labels, seed=pair["seed"], fan=Fan.from_dict(pair["fan"])))


def test_hdf5_export_reads_like_the_seed_file(synth, tmp_path):
    manifest = export_dataset(synth, tmp_path / "out", random=4, format="hdf5", size=64, seed=2)
    pairs = {p["stem"]: p for p in manifest["pairs"]}
    with h5py.File(tmp_path / "out" / "synthetic.hdf5", "r") as f:
        assert set(f.keys()) == {"train", "valid", "test"}
        seen = 0
        for split in ("train", "test", "valid"):  # the seed script's loop
            for patient in f[split]:
                for view in f[split][patient]:
                    im, gt = f[split][patient][view]["im"], f[split][patient][view]["gt"]
                    assert im.shape == (2, 64, 64, 1) and im.dtype == np.float32
                    assert gt.shape == (2, 64, 64) and gt.dtype == np.uint8
                    for t, phase in enumerate(("ED", "ES")):
                        frame = im[t, :, :, :]
                        assert 0.0 <= frame.min() and frame.max() <= 1.0
                        pair = pairs[f"{patient}_{view}_{phase}"]
                        assert pair["split"] == split
                        expected = expected_image(synth, gt[t], pair)
                        assert np.array_equal(np.round(frame[..., 0] * 255).astype(np.uint8), expected)
                        seen += 1
    assert seen == 16 and sum(manifest["counts"].values()) == 16


def test_nifti_export_with_variations(synth, tmp_path):
    manifest = export_dataset(synth, tmp_path / "out", random=2, variations=2, format="nifti",
                              size=64, seed=0)
    root = tmp_path / "out"
    patients = sorted(p.name for p in (root / "database_nifti").iterdir())
    assert patients == ["patient0001", "patient0001_v2", "patient0002", "patient0002_v2"]
    pair = next(p for p in manifest["pairs"] if p["stem"] == "patient0002_v2_4CH_ES")
    folder = root / "database_nifti" / "patient0002_v2"
    gt = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "patient0002_v2_4CH_ES_gt.nii.gz")))
    image = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / "patient0002_v2_4CH_ES.nii.gz")))
    assert gt.dtype == np.uint8 and set(np.unique(gt)) == {0, 1, 2, 3}
    assert np.array_equal(image, expected_image(synth, gt, pair))
    from engine.maskio import pixel_spacing_mm

    spacing = pixel_spacing_mm(gt.shape[-1])
    assert spacing == pytest.approx(0.6 * 256 / gt.shape[-1])  # the same 15 cm field as 0.6 mm at 256
    for name in ("patient0002_v2_4CH_ES_gt.nii.gz", "patient0002_v2_4CH_ES.nii.gz"):  # as every export writes
        assert sitk.ReadImage(str(folder / name)).GetSpacing() == pytest.approx((spacing,) * 2)
    assert (folder / "Info_4CH.cfg").read_text().startswith("ED: 1")
    lists = (root / "database_split" / "subgroup_training.txt").read_text().split()
    assert all(name in patients for name in lists)
    first = next(p for p in manifest["pairs"] if p["stem"] == "patient0002_4CH_ES")
    assert first["seed"] != pair["seed"]  # variations differ
    from engine.labels import LABELS

    # the label table for ITK-SNAP: id, colour, opacity, visibility, mesh, quoted name
    rows = [line for line in (root / "itksnap_labels.txt").read_text().splitlines() if not line.startswith("#")]
    parsed = [(line.split()[:7], line.split('"')[1]) for line in rows]
    assert [int(fields[0]) for fields, _ in parsed] == [lab.id for lab in LABELS]
    assert [name for _, name in parsed[1:]] == [lab.name for lab in LABELS[1:]]
    assert [tuple(int(v) for v in fields[1:4]) for fields, _ in parsed[1:]] == [lab.color for lab in LABELS[1:]]
    assert parsed[0][0][4] == "0" and all(fields[4:7] == ["1", "1", "1"] for fields, _ in parsed[1:])


def test_png_export_keeps_user_mask_names(synth, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    for name, view in (("alice_4CH_ED", "4CH"), ("bob_2CH_ES", "2CH"), ("free form", "4CH")):
        write_label_png(masks / f"{name}.png", template_mask(view, "ED", seed=1, size=64))
    manifest = export_dataset(synth, tmp_path / "out", masks=masks, format="png", seed=5)
    stems = sorted(p["stem"] for p in manifest["pairs"])
    assert stems == ["alice_4CH_ED", "bob_2CH_ES", "free form"]
    for pair in manifest["pairs"]:
        image = np.asarray(Image.open(tmp_path / "out" / pair["split"] / "img" / f"{pair['stem']}.png"))
        label = np.asarray(Image.open(tmp_path / "out" / pair["split"] / "label" / f"{pair['stem']}.png"))
        assert np.array_equal(label, np.asarray(Image.open(pair["source_mask"])))
        assert np.array_equal(image, expected_image(synth, label, pair))
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk["source"]["model"]["name"] == "simulator" and on_disk["pairs"] == manifest["pairs"]


def test_overwrite_refusal_and_cancel_leave_things_alone(synth, tmp_path):
    out = tmp_path / "out"
    export_dataset(synth, out, random=2, size=64)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(DataError, match="not empty"):
        export_dataset(synth, out, random=3, size=64)
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        export_dataset(synth, out, random=3, size=64, overwrite=True,
                       should_stop=lambda: next(calls) >= 1)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind
    export_dataset(synth, out, random=3, size=64, overwrite=True)
    assert sum(json.loads((out / "manifest.json").read_text())["counts"].values()) == 12


def test_hdf5_export_needs_complete_patients(synth, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "p1_4CH_ED.png", template_mask("4CH", "ED", seed=1, size=64))
    with pytest.raises(DataError, match="both ED and ES"):
        export_dataset(synth, tmp_path / "out", masks=masks, format="hdf5")
    assert not (tmp_path / "out").exists()
    write_label_png(masks / "p1_4CH_ES.png", template_mask("4CH", "ES", seed=1, size=96))
    with pytest.raises(DataError, match="at one size: p1 4CH is 64x64 at ED, 96x96 at ES"):
        export_dataset(synth, tmp_path / "out", masks=masks, format="hdf5")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == [masks]


def test_export_cli(tmp_path, capsys):
    assert main(["export", "--model", "simulator", "--random", "2", "--size", "64",
                 "--out", str(tmp_path / "out")]) == 0
    assert "train" in capsys.readouterr().err
    assert main(["export", "--model", "simulator", "--random", "2", "--size", "64",
                 "--out", str(tmp_path / "out")]) == 1
    assert "use --overwrite" in capsys.readouterr().err


def test_a_prepared_image_folder_given_as_masks_points_to_its_labels(tmp_path, capsys):
    from engine.data.phantom import write_phantom

    data = tmp_path / "data"
    write_phantom(data, count=2, size=64, seed=0)
    images = next(p for p in (data / s / "img" for s in ("train", "valid", "test")) if p.is_dir())
    code = main(["export", "--model", "simulator", "--masks", str(images), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the notes on jitter and splits
    assert code == 1 and error.startswith("cardigan: error:")
    assert "image folder" in error and str(images.parent / "label") in error
    assert not (tmp_path / "out").exists()
    lone = tmp_path / "img"  # no label folder beside it: the usual per-file report
    lone.mkdir()
    for path in sorted(images.iterdir())[:2]:
        (lone / path.name).write_bytes(path.read_bytes())
    assert main(["export", "--model", "simulator", "--masks", str(lone), "--out", str(tmp_path / "out")]) == 1
    assert "2 unusable mask(s)" in capsys.readouterr().err


def test_nnunet_export_is_a_raw_dataset_nnunet_can_plan(synth, tmp_path):
    out = tmp_path / "Dataset501_Echo"
    manifest = export_dataset(synth, out, random=5, format="nnunet", size=64, seed=3, variations=2)
    pairs = {p["stem"]: p for p in manifest["pairs"]}
    info = json.loads((out / "dataset.json").read_text())
    assert info["name"] == "Dataset501_Echo" and info["file_ending"] == ".png"
    assert info["labels"] == {"background": 0, "LV cavity": 1, "Myocardium": 2, "Left atrium": 3}
    assert info["channel_names"] == {"0": "ultrasound"}
    for part, splits in (("Tr", ("train", "valid")), ("Ts", ("test",))):
        labels = sorted((out / f"labels{part}").glob("*.png"))
        images = sorted((out / f"images{part}").glob("*.png"))
        # nnU-Net's rule: every case <id>.png has its one channel <id>_0000.png
        assert [p.name for p in images] == [p.stem + "_0000.png" for p in labels]
        assert sorted(p.stem for p in labels) == sorted(s for s, p in pairs.items() if p["split"] in splits)
        assert info["numTraining" if part == "Tr" else "numTest"] == len(labels) > 0
        for label in labels[:3]:
            mask = read_label_png(label)
            image = np.asarray(Image.open(out / f"images{part}" / f"{label.stem}_0000.png"))
            assert image.dtype == np.uint8 and image.shape == mask.shape == (64, 64)
            assert np.array_equal(image, expected_image(synth, mask, pairs[label.stem]))
    assert info["numTraining"] + info["numTest"] == len(pairs) == 5 * 4 * 2
    # folds by source patient: a mask's variations (patient0001_v2 ...) never meet across a fold
    folds = json.loads((out / "splits_final.json").read_text())
    training = sorted(p.stem for p in (out / "labelsTr").glob("*.png"))
    source = {stem: pairs[stem]["source_mask"] for stem in training}
    assert 2 <= len(folds) <= 5
    for fold in folds:
        assert sorted(fold["train"] + fold["val"]) == training and fold["val"]
        assert not {source[c] for c in fold["val"]} & {source[c] for c in fold["train"]}
    assert sorted(c for fold in folds for c in fold["val"]) == training  # each case validated once
    again = export_dataset(synth, out, random=2, format="nnunet", size=64, seed=4, overwrite=True)  # ours: replaced
    assert len(list((out / "labelsTr").glob("*.png"))) + len(list((out / "labelsTs").glob("*.png"))) == 8
    assert again["options"]["seed"] == 4
    (out / "imagesTr" / "mine.png").write_bytes(b"not ours")  # a file we did not write is never deleted
    with pytest.raises(DataError, match="does not list"):
        export_dataset(synth, out, random=1, format="nnunet", size=64, overwrite=True)


def test_an_export_whose_pairs_would_share_a_name_is_refused_before_drawing(synth, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    heart = template_mask("2CH", "ED", seed=1, size=64)
    write_label_png(masks / "p01_2CH_ED.png", heart)
    write_label_png(masks / "p01_v2_2CH_ED.png", heart)  # named as p01's second variation
    with pytest.raises(DataError, match="would be"):
        export_dataset(synth, tmp_path / "out", masks=masks, variations=2, format="png")
    assert not (tmp_path / "out").exists()
    export_dataset(synth, tmp_path / "one", masks=masks, variations=1, format="png")  # no clash with one each
    from engine.maskio import write_nifti

    write_nifti(masks / "p01_2CH_ED_gt.nii.gz", heart)  # the same pair twice, as PNG and as NIfTI
    with pytest.raises(DataError, match="two pairs would be named p01_2CH_ED"):
        export_dataset(synth, tmp_path / "two", masks=masks, format="png")


def test_nifti_cfgs_carry_the_lv_ef_of_the_exported_masks_and_nothing_made_up(synth, tmp_path):
    """CAMUS gives each patient one LVef (Simpson biplane, ED and ES) in both views' cfg."""
    from engine.anatomy.measures import masks_biplane_ef
    from engine.data.camus import read_cfg
    from engine.export.writers import patient_info

    manifest = export_dataset(synth, tmp_path / "out", random=1, format="nifti", size=64, seed=1)
    folder = tmp_path / "out" / "database_nifti" / "patient0001"
    masks = {(view, phase): sitk.GetArrayFromImage(sitk.ReadImage(str(folder / f"patient0001_{view}_{phase}_gt.nii.gz")))
             for view in ("2CH", "4CH") for phase in ("ED", "ES")}
    measured = masks_biplane_ef(masks)
    cfgs = [read_cfg(folder / f"Info_{view}.cfg") for view in ("2CH", "4CH")]
    assert cfgs[0]["LVef"] == cfgs[1]["LVef"] == str(round(measured, 2))
    assert abs(measured - manifest["hearts"]["patient0001"]["ejection_fraction"]["biplane"]) < 5  # the heart's own, as its masks show it
    assert not {"ImageQuality", "Sex", "Age"} & set(cfgs[0])
    three = {key: (None, labels) for key, labels in masks.items() if key != ("4CH", "ES")}
    assert patient_info(three) == {}  # no ES in 4CH: no EF to give


def test_patients_seeds_never_meet_however_many_variations():
    from engine.export.run import seed_stride

    assert seed_stride(1) == seed_stride(62) == 1000  # as exports always were
    for variations in (63, 126, 1000):
        seeds = {index * seed_stride(variations) + v * 16 + i
                 for index in range(4) for v in range(variations) for i in range(4)}
        assert len(seeds) == 4 * variations * 4


def test_a_loop_joining_a_masks_folder_changes_no_other_patients_seeds(synth, tmp_path):
    """A loop of more than 16 frames gave every patient's variations more seeds each, so adding
    one to a folder moved the seeds, and so the images, of every other patient's later variations."""
    masks = tmp_path / "masks"
    masks.mkdir()
    for phase in ("ED", "ES"):
        write_label_png(masks / f"alice_4CH_{phase}.png", template_mask("4CH", phase, seed=1, size=32))

    def seeds(manifest: dict) -> dict[str, int]:
        return {pair["stem"]: pair["seed"] for pair in manifest["pairs"] if not pair["stem"].startswith("zz")}

    before = export_dataset(synth, tmp_path / "before", masks=masks, variations=2, format="png")
    for k in range(20):  # a loop's patient, named to come after the others
        write_label_png(masks / f"zz_4CH_f{k:03d}.png", template_mask("4CH", "ED", seed=k, size=32))
    after = export_dataset(synth, tmp_path / "after", masks=masks, variations=2, format="png")
    assert seeds(before) == {"alice_4CH_ED": 0, "alice_4CH_ES": 1, "alice_v2_4CH_ED": 16, "alice_v2_4CH_ES": 17}
    assert seeds(after) == seeds(before)  # as exports always drew them
    every = [pair["seed"] for pair in after["pairs"]]
    assert len(every) == 44 and len(set(every)) == 44


def test_a_synthesis_batch_never_spans_two_blocks_of_seeds():
    """A batch draws its masks with consecutive seeds, which a patient's masks 15 and 16 do not have."""
    from engine.export.run import _group_by_shape, pair_seed

    masks = [np.zeros((8, 8))] + [np.zeros((4, 4))] * 20  # a run of the same shape from mask 1 to 20
    assert _group_by_shape(masks) == [[0], list(range(1, 16)), list(range(16, 21))]
    assert pair_seed(0, 1, 0, 16, 1, 2) != pair_seed(0, 1, 0, 15, 1, 2) + 1


@pytest.mark.parametrize("patients", [6, 1000])
def test_a_patients_first_80_masks_keep_the_seeds_exports_always_gave_them(patients):
    """(seed, place, variation, mask, variations) -> the seed exports drew it with before the
    masks past the 80th got seeds of their own low 32 bits; the images of those pairs stay."""
    from engine.export.run import pair_seed

    before = {(0, 0, 0, 0, 1): 0, (0, 1, 0, 5, 1): 1005, (0, 2, 1, 15, 3): 2031, (0, 0, 0, 16, 1): 1_000_000_000,
              (0, 3, 0, 63, 1): 3_000_003_015, (7, 4, 2, 40, 5): 2_007_004_061, (0, 0, 0, 64, 1): 4_000_000_000,
              (0, 2, 0, 79, 1): 4_000_002_015, (123456789, 5, 1, 33, 2): 123_459_159_375_384}
    assert {args: pair_seed(*args, patients) for args in before} == before


def test_seeds_of_a_long_loop_stay_distinct_in_their_low_32_bits():
    """Shading, ring-down and border softening draw from a seed's low 32 bits: a patient's masks
    past the 64th lay 1e9 apart from 4e9 up, so their seeds passed 2**32 and met others' there."""
    from engine.export.run import check_seed_room, pair_seed
    from engine.export.sources import MaskItem, PatientMasks

    patients, variations, masks = 3, 2, 200
    item = MaskItem("p", np.zeros((4, 4), np.uint8), "p.png")
    check_seed_room([PatientMasks(f"p{k}", [item] * masks) for k in range(patients)], variations)
    for seed in (0, 2 ** 40 + 12345):
        seeds = [pair_seed(seed, place, v, mask, variations, patients)
                 for place in range(patients) for v in range(variations) for mask in range(masks)]
        low = {s & 0xFFFFFFFF for s in seeds}
        assert len(low) == len(seeds) == patients * variations * masks
        assert all(0 <= s - seed * 1_000_003 < 2 ** 32 for s in seeds)
    assert max(pair_seed(0, place, 1, masks - 1, variations, patients) for place in range(patients)) < 2 ** 32
    for mask in range(0, masks, 16):  # a synthesis batch's masks take consecutive seeds within a block of 16
        block = [pair_seed(0, 2, 1, mask + i, variations, patients) for i in range(16)]
        assert block == list(range(block[0], block[0] + 16))


def test_a_run_whose_loops_outgrow_32_bit_seeds_is_refused():
    from engine.export.run import check_seed_room
    from engine.export.sources import MaskItem, PatientMasks

    item = MaskItem("p", np.zeros((4, 4), np.uint8), "p.png")
    loops = [PatientMasks(f"p{k}", [item] * 200) for k in range(2049)]
    check_seed_room(loops[:2048], 1000)  # 16,000 seeds a patient's layer of 16 masks
    with pytest.raises(DataError, match=r"2049 patients with 1000 variation.* 200 masks: give at most 192 masks a patient"):
        check_seed_room(loops, 1000)


def test_a_run_too_large_for_distinct_seeds_beside_a_long_patient_is_refused(monkeypatch):
    from engine.export import run
    from engine.export.sources import MaskItem, PatientMasks

    monkeypatch.setattr(run, "SEED_LAYER", 3000)  # three patients' blocks of seeds at one variation
    item = MaskItem("p", np.zeros((4, 4), np.uint8), "p.png")
    short = [PatientMasks(f"p{k}", [item]) for k in range(4)]
    run.check_seed_room(short, 1)  # no seeds past a 16th mask: nothing to meet
    long = PatientMasks("loop", [item] * 17)
    run.check_seed_room(short[:2] + [long], 1)
    with pytest.raises(DataError, match="4 patients with 1 variation.* give at most 3"):
        run.check_seed_room(short[:3] + [long], 1)


def test_a_nifti_export_prepares_whole_whatever_its_patients_are_named(synth, tmp_path, capsys):
    """Variations (patient0001_v2) and users' names (alice) are no CAMUS patientNNNN: the split
    lists the export writes name them, and `cardigan prepare` reads every pair back."""
    masks = tmp_path / "masks"
    masks.mkdir()
    for phase in ("ED", "ES"):
        write_label_png(masks / f"alice_4CH_{phase}.png", template_mask("4CH", phase, seed=1, size=64))
    export_dataset(synth, tmp_path / "mine", masks=masks, variations=2, format="nifti")
    export_dataset(synth, tmp_path / "generated", random=3, variations=2, size=64, format="nifti")
    for name, pairs in (("mine", 4), ("generated", 24)):
        assert main(["prepare", "--source", str(tmp_path / name), "--out", str(tmp_path / f"{name}_prepared")]) == 0
        capsys.readouterr()
        assert len(list((tmp_path / f"{name}_prepared").glob("*/label/*.png"))) == pairs
    from engine.data.camus import looks_like_2023

    assert looks_like_2023(tmp_path / "mine" / "database_nifti")  # its frames folder named itself: the lists still count


def test_preparing_an_hdf5_export_folder_points_to_its_file(synth, tmp_path, capsys):
    export_dataset(synth, tmp_path / "out", random=3, size=64, format="hdf5")
    assert main(["prepare", "--source", str(tmp_path / "out"), "--out", str(tmp_path / "prepared")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"cardigan: error: {tmp_path / 'out'}: a folder holding the HDF5 file synthetic.hdf5 (an HDF5 "
                   f"export or phantom); prepare from the file itself: {tmp_path / 'out' / 'synthetic.hdf5'}")
    assert main(["prepare", "--source", str(tmp_path / "out" / "synthetic.hdf5"),
                 "--out", str(tmp_path / "prepared")]) == 0


def test_an_nnunet_export_says_first_when_nnunet_would_not_find_its_folder(tmp_path, capsys):
    for name, said in (("synthetic", True), ("Dataset501_Echo", False)):
        assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--format", "nnunet",
                     "--out", str(tmp_path / name)]) == 0
        err = capsys.readouterr().err.splitlines()
        advice = [k for k, line in enumerate(err) if "only in a folder named DatasetNNN_Name" in line]
        assert advice == ([0] if said else [])  # the first note, said once
        assert not said or "(e.g. Dataset501_Echo): rename synthetic" in err[0]


def test_the_nnunet_folder_advice_comes_before_the_model_is_loaded(tmp_path, capsys, monkeypatch):
    """The advice is the command line's before any work: a model that cannot be loaded is
    refused after it."""
    import engine.synthesizer

    class NoModel:
        def __init__(self, *args, **kwargs):
            raise DataError("no model")

    monkeypatch.setattr(engine.synthesizer, "Synthesizer", NoModel)
    assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--format", "nnunet",
                 "--out", str(tmp_path / "synthetic")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert "only in a folder named DatasetNNN_Name" in err[0] and err[-1] == "cardigan: error: no model"


def test_a_dataset_given_as_a_masks_folder_says_where_its_masks_are(synth, tmp_path):
    export_dataset(synth, tmp_path / "png", random=3, size=64)
    export_dataset(synth, tmp_path / "nifti", random=1, size=64, format="nifti")
    with pytest.raises(DataError, match="a prepared dataset: its masks are in train/label, valid/label, test/label"):
        export_dataset(synth, tmp_path / "out", masks=tmp_path / "png")
    with pytest.raises(DataError, match="a CAMUS NIfTI dataset: prepare it first"):
        export_dataset(synth, tmp_path / "out", masks=tmp_path / "nifti")
    assert not (tmp_path / "out").exists()


def test_like_counts_an_exports_variations_as_one_patient(synth, tmp_path):
    export_dataset(synth, tmp_path / "twice", random=6, variations=2, size=64, seed=0)
    train = {p["stem"].split("_")[0] for p in json.loads((tmp_path / "twice" / "manifest.json").read_text())["pairs"]
             if p["split"] == "train"}
    assert 4 <= len(train) < 8  # fewer hearts than a shape model needs, twice as many patient folders
    with pytest.raises(DataError, match=f"found {len(train)} "):
        export_dataset(synth, tmp_path / "out", random=2, size=64, like=tmp_path / "twice")


def test_like_counts_the_same_masks_in_another_fan_as_another_heart(tmp_path):
    """Masks repeated in the same fans are one heart drawn again (an export's variations);
    the same masks recorded in another fan show another heart (hearts follow their fan) and
    count. Only the masks were compared, so such a patient was dropped as a repeat."""
    from dataclasses import replace

    from engine.anatomy import ShapeModel
    from engine.export.sources import distinct_hearts, model_like
    from engine.fan import FAN_KEY, default_fan

    model, masks = ShapeModel.default(), tmp_path / "masks"
    masks.mkdir()
    tilted = {view: default_fan(view).with_shape(tilt=10.0, depth=0.9).rounded() for view in ("2CH", "4CH")}

    def write(patient: str, seed: int, fans: dict | None) -> None:
        for view in ("2CH", "4CH"):
            for phase in ("ED", "ES"):
                labels = model.mask(model.draw(seed), view, phase, 64)
                text = {FAN_KEY: fans[view].to_json()} if fans else None
                write_label_png(masks / f"{patient}_{view}_{phase}.png", labels, text=text)

    for seed in range(8):
        write(f"p{seed}", seed, None)
    write("p0again", 0, None)  # a repeat: one heart
    write("p0tilted", 0, tilted)  # the same masks in another fan: another heart
    assert model_like(masks)[0].stats["patients"] == 9
    frames = {("4CH", "ED"): np.zeros((4, 4), np.uint8)}
    moved = replace(default_fan("4CH"), apex_x=0.45)
    kept = distinct_hearts({"a": frames, "b": frames, "c": frames},
                           {"a": {}, "b": {("4CH", "ED"): default_fan("4CH")}, "c": {("4CH", "ED"): moved}})
    assert list(kept) == ["a", "c"]


def test_repeated_hearts_are_told_apart_by_the_fans_a_model_is_built_with():
    """``distinct_hearts`` looked a patient's fans up on its own, beside the lookup the model
    building makes, so fans given as a list (read by position) failed there with an
    AttributeError about ``get`` instead of the building's one-line refusal. Both use one
    lookup now: a patient with no fans is in the median fans, a list of fans is refused alike."""
    from engine.anatomy import ShapeModel
    from engine.export.sources import distinct_hearts
    from engine.fan import default_fan

    frames = {("4CH", "ED"): np.zeros((4, 4), np.uint8)}
    kept = distinct_hearts({"a": frames, "b": frames, "c": frames},
                           {"a": None, "c": {("4CH", "ED"): default_fan("4CH")}})
    assert list(kept) == ["a"]
    fans = [{("4CH", "ED"): default_fan("4CH")}]
    refusals = []
    for refused in (lambda: distinct_hearts({"a": frames}, fans), lambda: ShapeModel.build([frames], fans=fans)):
        with pytest.raises(TypeError) as error:
            refused()
        refusals.append(str(error.value))
    assert refusals[0] == refusals[1] and "\n" not in refusals[0] and refusals[0].endswith("not a list")


def test_masks_with_a_damaged_fan_record_are_drawn_in_the_median_fan_and_named(tmp_path, capsys):
    from engine.fan import FAN_KEY

    masks = tmp_path / "masks"
    masks.mkdir()
    heart = template_mask("4CH", "ED", seed=1, size=64)
    write_label_png(masks / "good_4CH_ED.png", heart)
    write_label_png(masks / "bad_4CH_ED.png", heart, text={FAN_KEY: "{not json"})
    assert main(["export", "--model", "simulator", "--masks", str(masks), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "1 mask(s) with a damaged fan record" in err and "bad_4CH_ED.png" in err and "good_4CH_ED" not in err


def test_nnunet_folds_keep_each_patients_cases_together():
    from engine.export.writers import patient_folds

    cases = {f"p{k}": [f"p{k}_a", f"p{k}_b", f"p{k}_v2_a"] for k in range(7)}
    folds = patient_folds(cases)
    assert len(folds) == 5
    for fold in folds:
        val_patients = {c.split("_")[0] for c in fold["val"]}
        assert not val_patients & {c.split("_")[0] for c in fold["train"]}
        assert len(fold["train"]) + len(fold["val"]) == 21
    assert len(patient_folds({"a": ["a1"], "b": ["b1"]})) == 2  # fewer patients: as many folds
    assert patient_folds({"a": ["a1", "a2"]}) == []  # one patient: no fold can hold one out
    held = patient_folds(cases, held_first={"p3"})  # an export's valid split: fold 0 holds out just it
    assert held[0] == {"train": sorted(c for p, own in cases.items() if p != "p3" for c in own),
                       "val": sorted(cases["p3"])}
    assert len(held) == 5 and sorted(c for fold in held for c in fold["val"]) == sorted(sum(cases.values(), []))


def test_a_relative_masks_folder_is_recorded_where_it_is(synth, tmp_path, monkeypatch):
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "alice_4CH_ED.png", template_mask("4CH", "ED", seed=1, size=64))
    monkeypatch.chdir(tmp_path)
    manifest = export_dataset(synth, "out", masks="masks", format="png", seed=5)
    assert manifest["options"]["masks"] == str(masks.resolve())  # read from anywhere, it still names them
    assert [pair["source_mask"] for pair in manifest["pairs"]] == [str(masks.resolve() / "alice_4CH_ED.png")]


def test_reading_a_masks_folder_reports_and_stops_when_asked(synth, tmp_path, monkeypatch):
    import engine.export.sources as sources

    masks = tmp_path / "masks"
    masks.mkdir()
    for k in range(40):
        write_label_png(masks / f"p{k:02d}_4CH_ED.png", template_mask("4CH", "ED", seed=1, size=64))
    read = []
    real_read = sources.read_label_map_and_text
    monkeypatch.setattr(sources, "read_label_map_and_text",
                        lambda path, *more: read.append(path) or real_read(path, *more))
    seen = []
    with pytest.raises(Cancelled):
        export_dataset(synth, tmp_path / "out", masks=masks, format="png", progress=seen.append,
                       should_stop=lambda: len(read) >= 5)
    assert len(read) == 5  # stopped among the masks, not after reading all 40
    assert not (tmp_path / "out").exists()
    assert seen[0].stage == sources.READING and seen[0].total == 40
    read.clear()
    export_dataset(synth, tmp_path / "out", masks=masks, format="png", progress=seen.append)
    assert [p.done for p in seen if p.stage == sources.READING][-1] == 40


def test_the_manifest_ef_of_a_heart_too_extreme_to_draw_is_the_ef_of_its_masks(monkeypatch):
    """Draw 0 of the shipped model moved 2 SD along LV width cannot be drawn in 2CH at 256 px
    in the fan its patient draws (a draw itself fits its median fans): its masks show a
    heart nearer the mean, whose EF the manifest records (it recorded the undrawn heart's,
    2.5 points off the masks' EF by area for the draw that showed it)."""
    from engine.anatomy import ShapeModel
    from engine.anatomy.measures import ejection_fraction_by_area
    from engine.export.sources import random_patients

    model = ShapeModel(ShapeModel.default().stats)
    heart = model.move(model.draw(0), "lv_width", 2.0)
    monkeypatch.setattr(model, "draw", lambda seed: heart)
    patient = next(random_patients(1, 256, 0, model))
    masks = {(item.view, item.instant): item for item in patient.items}
    fans = {view: masks[(view, "ED")].fan for view in ("2CH", "4CH")}
    shown = model.drawn_heart(heart, "2CH", 256, fans["2CH"])
    assert shown != heart and model.drawn_heart(heart, "4CH", 256, fans["4CH"]) == heart
    record = patient.heart
    assert record["ejection_fraction"]["2CH"] == round(model.ejection_fraction(shown, "2CH"), 2)
    assert record["ejection_fraction"]["biplane"] == round(model.biplane_ejection_fraction(shown, heart), 2)
    assert record["shown"] == {"2CH": shown.to_dict()} and record["heart"] == heart.to_dict()
    for view in ("2CH", "4CH"):
        by_area = ejection_fraction_by_area(masks[(view, "ED")].labels, masks[(view, "ES")].labels)
        assert record["ejection_fraction"][view] == pytest.approx(by_area, abs=1.0), view


def test_a_generated_label_png_carries_the_heart_it_was_drawn_from(synth, tmp_path):
    """Every label of a --random export (its variations too) opens with its heart: redrawn from
    the record in its PNG, inside its fan, it is the mask itself. The image was drawn from a
    jittered mask; the label is the true one, so the record still redraws it."""
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import ANATOMY_KEY, heart_in_record
    from engine.fan import FAN_KEY
    from engine.maskio import read_png_text

    manifest = export_dataset(synth, tmp_path / "out", random=2, size=64, seed=3, variations=2, border_jitter=2.0)
    model = ShapeModel.default()
    labels = sorted((tmp_path / "out").glob("*/label/*.png"))
    assert len(labels) == 2 * 4 * 2
    for path in labels:
        text = read_png_text(path)
        record = json.loads(text[ANATOMY_KEY])
        patient, view, phase = path.stem.rsplit("_", 2)  # patient0001_v2_4CH_ED: a variation
        assert record["view"] == view and record["phase"] == (0.0 if phase == "ED" else 1.0)
        heart = heart_in_record(record)
        assert heart is not None and heart.to_dict() == manifest["hearts"][patient]["heart"]
        drawn = model.mask(heart, view, record["phase"], 64, fan=Fan.from_json(text[FAN_KEY]))
        assert np.array_equal(drawn, read_label_png(path))


def test_masks_from_a_folder_or_a_like_model_carry_no_heart(synth, tmp_path):
    """A mask read from a file has no heart to record, and a heart of a shape model built from
    a dataset could not be redrawn by whoever opens the mask (that model is saved nowhere)."""
    from engine.anatomy.heart import ANATOMY_KEY
    from engine.maskio import read_png_text

    export_dataset(synth, tmp_path / "hearts", random=10, size=64, seed=1)  # 8 in train: enough for a model
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "patient0001_4CH_ED.png", template_mask("4CH", "ED", size=64))
    for index, source in enumerate([dict(masks=masks), dict(random=1, like=tmp_path / "hearts")]):
        out = tmp_path / f"out{index}"
        manifest = export_dataset(synth, out, size=64, **source)
        assert "like" not in source or manifest["anatomy"]["source"].startswith("a shape model built from")
        labels = list(out.glob("*/label/*.png"))
        assert labels and not any(ANATOMY_KEY in read_png_text(path) for path in labels)


def test_masks_exported_again_keep_the_anatomy_record_their_pngs_carry(synth, tmp_path):
    """Phantom masks carry their heart; exported from their folder (written at their own size,
    whatever --size says, in every variation) each label keeps that record, and the record
    still redraws it. A damaged record is not passed on."""
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import ANATOMY_KEY, heart_in_record
    from engine.data.phantom import write_phantom
    from engine.fan import FAN_KEY
    from engine.maskio import read_png_text

    write_phantom(tmp_path / "phantom", count=2, size=64, seed=4, workers=1)
    masks = tmp_path / "phantom" / "train" / "label"
    sources = {path.stem: read_png_text(path)[ANATOMY_KEY] for path in masks.glob("*.png")}
    assert sources
    damaged = masks / "spare_4CH_ED.png"
    write_label_png(damaged, template_mask("4CH", "ED", size=64), text={ANATOMY_KEY: '{"heart": {"shape": [9]}}'})
    export_dataset(synth, tmp_path / "out", masks=masks, size=128, variations=2)
    labels = sorted((tmp_path / "out").glob("*/label/*.png"))
    assert len(labels) == 2 * (len(sources) + 1)
    for path in labels:
        text = read_png_text(path)
        if path.stem.startswith("spare"):
            assert ANATOMY_KEY not in text
            continue
        source = path.stem.replace("_v2", "")
        assert json.loads(text[ANATOMY_KEY]) == json.loads(sources[source]), path.name
        record = json.loads(text[ANATOMY_KEY])
        drawn = ShapeModel.default().mask(heart_in_record(record), record["view"], record["phase"], 64,
                                          fan=Fan.from_json(text[FAN_KEY]))
        assert np.array_equal(drawn, read_label_png(path)), path.name


def test_a_mask_whose_anatomy_record_names_another_shape_model_is_read_as_plain_labels(tmp_path):
    """A mask PNG's anatomy record was kept whenever its heart record was well formed, also
    when it named another shape model: exported again, the mask carried the heart of a model
    that is not the one that redraws it. Such a record is set aside as the studio sets it
    aside on opening, with its words, and the reader is told which masks in one line."""
    from engine.anatomy import ShapeModel
    from engine.anatomy.heart import ANATOMY_KEY, anatomy_record
    from engine.export.sources import folder_masks

    model = ShapeModel.default()
    heart = model.draw(5)
    record = anatomy_record(heart, "4CH", 0.0)
    foreign = json.loads(json.dumps(record))
    foreign["heart"]["model"] = "0123456789ab"
    labels = model.mask(heart, "4CH", "ED", 64)
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "own_4CH_ED.png", labels, text={ANATOMY_KEY: json.dumps(record)})
    write_label_png(masks / "other_4CH_ED.png", labels, text={ANATOMY_KEY: json.dumps(foreign)})
    write_label_png(masks / "plain_4CH_ED.png", labels)
    told: list[str] = []
    items = {item.name: item for patient in folder_masks(masks, told.append) for item in patient.items}
    assert items["own_4CH_ED"].anatomy == record
    assert items["other_4CH_ED"].anatomy is None and items["plain_4CH_ED"].anatomy is None
    assert len(told) == 1 and "\n" not in told[0], told
    assert told[0] == ("1 mask(s) taken as plain labels, their anatomy record set aside: other_4CH_ED.png: "
                       "its anatomy record's heart belongs to another shape model (0123456789ab, "
                       f"this one is {model.fingerprint})")


@pytest.mark.parametrize("options, named", [
    (["--masks", "{masks}", "--like", "{masks}"], ("--like", "--masks")),
    (["--masks", "{masks}", "--like", "{masks}", "--cine"], ("--like", "--masks")),
    (["--random", "2", "--like-fallback"], ("--like-fallback", "--like DATASET")),
])
def test_options_that_do_not_go_together_are_refused_before_any_note(tmp_path, capsys, options, named):
    masks = tmp_path / "masks"
    masks.mkdir()
    write_label_png(masks / "patient0001_4CH_ED.png", template_mask("4CH", "ED", size=64))
    argv = ["export", "--model", "simulator", "--out", str(tmp_path / "out")]
    argv += [option.format(masks=masks) for option in options]
    assert main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cardigan: error: "), lines
    assert all(name in lines[0] for name in named), lines
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt, name, inside", [("hdf5", "out.h5", "the export writes synthetic.hdf5 in it"),
                                               ("hdf5", "out.HDF5", "the export writes synthetic.hdf5 in it"),
                                               ("nifti", "out.nii.gz", "the export writes its database_nifti"),
                                               ("png", "out.png", "the export writes its train, valid and test"),
                                               ("png", "out.jpg", "the export writes its train, valid and test"),
                                               ("nnunet", "out.json", "the export writes its imagesTr")])
def test_an_output_named_as_a_file_is_refused_saying_what_to_give_instead(tmp_path, capsys, fmt, name, inside):
    """An export is always a folder: ``--out out.h5`` (or any name phantom and prepare refuse
    for a folder, ``out.jpg``) is refused in their words, with the folder to give instead and
    what the export writes in it (the HDF5 layout: its file)."""
    assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--format", fmt,
                 "--out", str(tmp_path / name)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(
        f"cardigan: error: {tmp_path / name}: is named as a file, but --out is a folder for an export; "
        f"name a new folder, such as {tmp_path / 'out'} ({inside}"), err
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_file_is_refused_naming_a_folder_to_give_instead(tmp_path, capsys):
    (tmp_path / "out").write_text("notes")
    assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.strip().startswith(
        f"cardigan: error: {tmp_path / 'out'}: is a file, but --out is a folder for an export; "
        f"name a new folder, such as {tmp_path / 'out_2'} (")


def test_an_output_below_a_file_is_refused_naming_the_file_before_any_work(tmp_path, capsys):
    """``--out notes.txt/new`` cannot be made: one line names the file, before the notes on
    what the export would do (it was "File exists" after them)."""
    (tmp_path / "notes.txt").write_text("notes")
    out = tmp_path / "notes.txt" / "new"
    assert main(["export", "--model", "simulator", "--random", "1", "--size", "64", "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"cardigan: error: {out}: {tmp_path / 'notes.txt'} is a file, so no folder can be made in it; "
        "name an output folder elsewhere")
    assert (tmp_path / "notes.txt").read_text() == "notes"


def test_export_help_names_the_hdf5_layouts_file_as_the_writer_names_it(capsys):
    from engine.cli import export as export_command
    from engine.export.writers import HDF5_NAME

    assert export_command.HDF5_NAME == HDF5_NAME
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert f"OUT/{HDF5_NAME}" in capsys.readouterr().out


def test_export_help_describes_each_format_as_the_engine_does(capsys, monkeypatch):
    """``--format``'s help had words of its own for each layout, which drifted from the
    engine's description of it (the studio's tooltips): the nnunet help named no folder of the
    layout's, the nifti help neither its patient folders nor its split lists."""
    import re

    import engine.data.export_layouts as layouts
    from engine.export import EXPORT_FORMATS

    assert tuple(layouts.LAYOUT_LINES) == EXPORT_FORMATS == tuple(layouts.LAYOUT_DETAILS)
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    said = re.sub(r"\s+", "", capsys.readouterr().out)  # as wrapped to the terminal, spaces aside
    for name in EXPORT_FORMATS:
        assert re.sub(r"\s+", "", f"{name}: {layouts.LAYOUT_LINES[name]}") in said, name
        assert re.sub(r"\s+", "", layouts.LAYOUT_DETAILS[name]) in said, name
    monkeypatch.setitem(layouts.LAYOUT_LINES, "nifti", "the CAMUS layout, as the engine now says it")
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "theCAMUSlayout,astheenginenowsaysit" in re.sub(r"\s+", "", capsys.readouterr().out)


def test_a_cine_export_named_as_a_file_is_refused_too(tmp_path):
    from engine.export.cine import export_cine

    with pytest.raises(DataError, match=r"x.h5: is named as a file.*such as \S*x \(the export writes synthetic.hdf5 in it"):
        export_cine("simulator", tmp_path / "x.h5", random=1, format="hdf5", size=64)
    assert list(tmp_path.iterdir()) == []
    export_dataset("simulator", tmp_path / "out.v2", random=1, format="hdf5", size=64)  # a dot alone is a folder name
    assert (tmp_path / "out.v2" / "synthetic.hdf5").is_file()


def test_generated_masks_are_the_models_size_unless_told(tiny_model, tmp_path, capsys):
    """A 64-pixel model's export is 64-pixel pairs, said in the plan; --size 96 is drawn at 64
    and resampled, and the plan says so; the simulator, of any size, keeps 256."""
    from PIL import Image

    assert main(["export", "--model", str(tiny_model), "--random", "1", "--device", "cpu",
                 "--out", str(tmp_path / "own")]) == 0
    err = capsys.readouterr().err
    assert "masks 64 px (the model's own size)" in err and "resampled" not in err
    pictures = list((tmp_path / "own").rglob("*.png"))
    assert pictures and {Image.open(p).size for p in pictures} == {(64, 64)}
    assert json.loads((tmp_path / "own" / "manifest.json").read_text())["options"]["size"] == 64
    assert main(["export", "--model", str(tiny_model), "--random", "1", "--size", "96", "--device", "cpu",
                 "--out", str(tmp_path / "told")]) == 0
    err = capsys.readouterr().err
    assert "masks 96 px (--size); the model draws at 64 px, so each image is drawn there and resampled to 96" in err
    assert {Image.open(p).size for p in (tmp_path / "told").rglob("*.png")} == {(96, 96)}
    from engine.export.sources import generated_mask_side

    assert generated_mask_side(None) == 256 and generated_mask_side((64, 128)) == 128


def test_export_and_cine_say_their_size_defaults_to_the_models(capsys):
    for command in ("export", "cine"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "default: the model's own size" in " ".join(capsys.readouterr().out.split())


def test_sequence_frames_of_one_patient_stay_in_one_split_and_keep_distinct_seeds(synth, tmp_path):
    """Masks named as frames of a loop (<patient>_<view>_f<k>, what a cine PNG export and
    prepare --sequences write) are one patient's: all of them in one split, never some in
    train and others in test; each pair of every variation has a seed of its own."""
    masks = tmp_path / "masks"
    masks.mkdir()
    for patient in ("pA", "pB", "pC"):
        for view in ("2CH", "4CH"):
            for k in range(10):
                write_label_png(masks / f"{patient}_{view}_f{k:03d}.png", template_mask(view, "ED", seed=k, size=32))
    manifest = export_dataset(synth, tmp_path / "out", masks=masks, variations=2, format="png")
    split_of = {}
    for pair in manifest["pairs"]:
        patient = pair["stem"].split("_")[0]
        assert split_of.setdefault(patient, pair["split"]) == pair["split"], pair["stem"]
    assert sorted(split_of) == ["pA", "pB", "pC"]
    assert "pA_v2_2CH_f003" in {pair["stem"] for pair in manifest["pairs"]}  # a variation keeps the frame name
    seeds = [pair["seed"] for pair in manifest["pairs"]]
    assert len(set(seeds)) == len(seeds) == 120
    pair = next(p for p in manifest["pairs"] if p["stem"] == "pA_v2_4CH_f009")  # past the first batch
    image = np.asarray(Image.open(tmp_path / "out" / pair["split"] / "img" / "pA_v2_4CH_f009.png"))
    assert np.array_equal(image, expected_image(synth, template_mask("4CH", "ED", seed=9, size=32), pair))


def test_nifti_and_hdf5_exports_prepare_into_the_pairs_a_png_export_writes(synth, tmp_path):
    """export --format nifti or hdf5, then prepare: the same pixels, stems and splits as the
    same export written as png (the prepared layout itself)."""
    from engine.data.prepare import prepare_dataset

    def pairs(folder):
        return {image.stem: (image.parent.parent.name, np.asarray(Image.open(image)),
                             np.asarray(Image.open(image.parent.parent / "label" / image.name)))
                for image in folder.glob("*/img/*.png")}

    export_dataset(synth, tmp_path / "png", random=2, format="png", size=64, seed=3)
    expected = pairs(tmp_path / "png")
    assert len(expected) == 8
    for format, source in (("nifti", "nifti"), ("hdf5", "hdf5/synthetic.hdf5")):
        export_dataset(synth, tmp_path / format, random=2, format=format, size=64, seed=3)
        prepare_dataset(tmp_path / source, tmp_path / f"{format}_prepared", size=64, workers=1)
        found = pairs(tmp_path / f"{format}_prepared")
        assert sorted(found) == sorted(expected), format
        for stem, (split, image, labels) in expected.items():
            assert found[stem][0] == split, (format, stem)
            assert np.array_equal(found[stem][1], image) and np.array_equal(found[stem][2], labels), (format, stem)
