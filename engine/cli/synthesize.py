"""``cardigan synthesize``: one label map -> one image."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import (add_device_argument, add_model_argument, check_output_file, named_by_option,
                      seed_value, style_scale_value)

HELP = "synthesize an echocardiogram from a label map"
DESCRIPTION = ("Synthesize an image from a label map. --out x.png writes an 8-bit greyscale "
               "PNG recording in a text chunk the model, its file's checksum, the seed, the style scale, the "
               "device and the version; --out x.nii.gz (or .nii) the same grey levels as NIfTI, for ITK-SNAP "
               "and 3D Slicer, with that record in short as its description; "
               "--out x.dcm as an ultrasound DICOM image for DICOM viewers and PACS (marked synthetic); "
               "--out x.npy writes the raw output, float32 (channels, H, W) in [-1, 1].")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--mask", required=True, type=Path,
                        help="label map: 8-bit PNG (values 0-3), CAMUS *_gt.mhd / *_gt.nii.gz, NRRD, "
                             "a 3D Slicer *.seg.nrrd (its segments mapped by terminology or name) or an ITK-SNAP "
                             "*.itksnap workspace (its segmentation, labels mapped by name); a right ventricle "
                             "or atrium in them reads as background, as CAMUS labels the right heart")
    parser.add_argument("--out", required=True, type=Path, help="output .png, .nii.gz, .nii, .dcm or .npy")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--seed", type=seed_value, default=0,
                        help="seed for models with randomness (default 0)")
    parser.add_argument("--resample-class", type=int, choices=range(4), default=None, metavar="ID",
                        help="resample one region: inside the pixels of this label (0-3) the "
                             "randomness comes from --region-seed, elsewhere from --seed "
                             "(noise-input models and the simulator)")
    parser.add_argument("--region-seed", type=seed_value, default=1,
                        help="seed inside the region of --resample-class (default 1)")
    parser.add_argument("--fan", default=None, metavar="SPEC",
                        help="the probe's fan for models that take it: key=value pairs changing the "
                             "mask's own fan (or the median CAMUS fan), keys apex_x, apex_y, depth "
                             "(fractions of the picture), left, right, width, tilt (degrees), squash; "
                             "e.g. --fan width=70,depth=0.9")
    parser.add_argument("--fan-from", default=None, type=Path, metavar="IMAGE",
                        help="use the fan fitted to an echocardiogram (PNG, JPEG, NIfTI, MHD, a scanner's DICOM; --fan "
                             "then changes that one), so the image comes out in its sector")
    add_device_argument(parser)
    parser.add_argument("--style-scale", type=style_scale_value, default=None, metavar="S",
                        help="spread of a noise model's style channels, above 0 and at most 1 "
                             "(default: the model's own)")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                        help="network precision: auto is bf16 on CUDA and fp32 elsewhere; "
                             ".npy output is always float32 (default auto)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..errors import CardiganError, already_exists
    from ..fileio import atomic_path
    from ..fan import fan_from_text, parse_fan_spec, view_of_name
    from ..itksnap_workspace import is_workspace_file
    from ..maskio import (fitting_geometry, is_volume_file, nifti_suffix, read_label_map_and_text,
                          read_label_slice_and_header, write_grey_png, write_nifti)
    from ..provenance import nifti_description, png_text, synthesizer_record
    from ..synthesizer import Synthesizer, to_uint8
    from ..volume_alignment import orientation_note
    from .terminal import note

    check_output_file(args.out)  # a folder, or in a missing folder: refused before any work
    suffix = nifti_suffix(args.out) or args.out.suffix.lower()
    if suffix not in (".png", ".npy", ".nii.gz", ".nii", ".dcm"):
        raise CardiganError(f"--out {args.out}: output must end in .png, .nii.gz, .nii, .dcm or .npy")
    if args.out.exists() and args.mask.exists() and args.out.resolve() == args.mask.resolve():
        raise CardiganError(f"--out {args.out}: is the input mask; write the image to another file")
    if args.out.exists() and Path(args.model).exists() and args.out.resolve() == Path(args.model).resolve():
        raise CardiganError(f"--out {args.out}: is the model; write the image to another file")
    if args.out.exists() and not args.overwrite:
        raise CardiganError(already_exists(f"--out {args.out}"))
    # the file read once: a volume (a workspace's segmentation) with its header, a PNG with its text
    with named_by_option("mask"):
        if is_volume_file(args.mask) or is_workspace_file(args.mask):
            labels, taken, header = read_label_slice_and_header(args.mask, notify=note)
            text = {}
        else:
            (labels, text), taken, header = read_label_map_and_text(args.mask, note), None, None
    if taken is not None:
        note(f"{args.mask.name}: the labels of slice {taken[0] + 1} of {taken[1]}")
    geometry, dropped = (fitting_geometry(args.mask, labels, taken[0] if taken else 0, header)
                         if header is not None else (None, None))
    if dropped and nifti_suffix(args.out):
        note(dropped)
    turned = orientation_note(geometry, args.mask.name)
    if turned:
        note(turned)
    fan, problem = fan_from_text(text, view_of_name(args.mask.name))
    if args.fan_from is not None:
        from ..data.image_fans import FIT_SIZE
        from ..data.trace_image import image_to_trace

        # fans are size-free: fitted at prepare's size whatever the mask's
        with named_by_option("fan_from"):
            traced = image_to_trace(args.fan_from, FIT_SIZE, view_of_name(args.mask.name), first_only=True)
            if traced.fit == 0:
                raise CardiganError(f"{args.fan_from}: no sector found in the image to fit a fan to")
        fan, problem = traced.fan, None
        note(f"fan fitted to {args.fan_from.name} (IoU {traced.fit:.2f})")
    if args.fan is not None:
        fan = parse_fan_spec(args.fan, fan)
    synth = Synthesizer(args.model, device=args.device, precision=args.precision, style_scale=args.style_scale)
    if problem and synth.uses_fan:
        note(f"{args.mask}: {problem}")
    if args.style_scale is not None and not synth.takes_style_scale:
        note(f"model {synth.model.name} has no style channels: --style-scale changes nothing")
    region = None if args.resample_class is None else labels == args.resample_class
    if region is not None and not synth.takes_region:
        why = "is deterministic" if not synth.stochastic else "has no noise map to redraw in a region"
        note(f"model {synth.model.name} {why}: --resample-class changes nothing")
    if (args.fan is not None or args.fan_from is not None) and not synth.uses_fan:
        note(f"model {synth.model.name} draws without a fan: --fan and --fan-from change nothing")
    output = synth.synthesize(labels, seed=args.seed, source=str(args.mask), region=region,
                              region_seed=args.region_seed if region is not None else None, fan=fan)
    resampled = {} if region is None else {"resample_class": args.resample_class, "region_seed": args.region_seed}
    # where the image came from, in its file (a PNG's text, a NIfTI's description)
    record = synthesizer_record(synth, args.seed, **resampled) if suffix in (".png", ".nii.gz", ".nii") else None
    if suffix == ".npy":
        with atomic_path(args.out) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, output.astype(np.float32))
    elif suffix == ".png":
        write_grey_png(args.out, to_uint8(output), png_text(record))
    elif suffix == ".dcm":
        from ..data.dicom_echo import write_dicom_echo

        write_dicom_echo(args.out, to_uint8(output))
    else:
        write_nifti(args.out, to_uint8(output), geometry=geometry,  # over the mask's volume, when read from one
                    description=nifti_description(record))
    note(f"wrote {args.out} ({output.shape[-1]}x{output.shape[-2]}, model {synth.model.name}, "
         f"device {synth.device})")
    return 0
