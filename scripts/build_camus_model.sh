#!/usr/bin/env bash
# Rebuild the bundled model (resources/models/demo.safetensors) from the CAMUS file in the seed's
# HDF5 layout (2023 release, official train and valid splits; e.g. camus_224.hdf5).
# Usage: [AUGMENT_GEOMETRY=pixel] [THREADS=N] [NGF=N] [MODEL_OUT=FILE] [DRY_RUN=1] [TIME_LIMIT=11h30m] scripts/build_camus_model.sh CAMUS_HDF5 [WORK_DIR]
# Six stages, as the shipped model was made: a plain lite model (no fan, nearest upsampling,
# feature matching at 10; 7,500 iterations); the lite preset (the fan as an input, bilinear
# upsampling, the spectral loss) fine-tuned from it for 4,000 iterations; the same preset again
# from stage 2's generator with a fresh discriminator, another seed and 6,000 iterations;
# speckle drawn along the beam's arcs (--beam 2, a speckle path --texture) and each region's
# grey level held to the real image's (--lambda-region 10), 4,000 iterations from stage 3; then
# stage 4's run carried on (same optimiser state, the schedule stretched) to 6,000 iterations
# with the speckle's skew held to real (--lambda-skew 2); then stage 5's generator fine-tuned at batch 16
# with a fresh discriminator and a pooled critic beside it (--pooled-d 32), the streaks held to real
# (--lambda-streaks 20), a constant learning rate of 0.0001, 5,360 iterations.
# Stages 1-5 run on a CPU: about 2.5 + 1.5 + 1.5 + 1 + 0.5 hours on one core of a 2-core CPU
# with bf16 (THREADS=2 gives them both cores: 1.65 times the images per second). Stage 6 took
# 12 minutes on one H200 GPU shared with two other runs (about 140 images/s); a CPU would need
# hours. Stop and start this script again at any time: each stage resumes (one stopped before
# its first checkpoint starts over). CAMUS is for non-commercial research only (CC BY-NC-SA 4.0); the model inherits those
# terms (resources/models/README.md).
# NGF sets the generator's width for every stage (default: the lite preset's 10; 14 is the widest
# that keeps the model file under 16 MB, docs/realism.md); use a new WORK_DIR for it.
# MODEL_OUT names the file the finished model is written to (default: the bundled model,
# resources/models/demo.safetensors). DRY_RUN=1 prints each step instead of running it, with
# the --resume or --overwrite that the folders in WORK_DIR call for.
# TIME_LIMIT (45s, 90m, 11h30m; a bare number is minutes, as cardigan train --time-limit reads
# it) stops the build gracefully before that much time has passed, the running stage's state
# saved, and exits with 75: a cluster job's limit less a few minutes. Run it again to go on.
set -euo pipefail
source_file=${1:?usage: [AUGMENT_GEOMETRY=pixel] [THREADS=N] [NGF=N] [MODEL_OUT=FILE] [DRY_RUN=1] [TIME_LIMIT=11h30m] scripts/build_camus_model.sh CAMUS_HDF5 [WORK_DIR]}
work=${2:-build/camus}
cd "$(dirname "$0")/.."
# The shipped model was trained with the augmentation's turns, scales and sub-pixel shifts, the
# default then (--augment-geometry resample); new runs shift by whole pixels instead, which keeps
# the speckle the scanner's own (docs/realism.md, "The training pairs"). AUGMENT_GEOMETRY=pixel
# builds the next model that way (in a new WORK_DIR: a resumed stage keeps its own geometry).
geometry=${AUGMENT_GEOMETRY:-resample}
case "$geometry" in pixel|resample|none) ;; *) echo "AUGMENT_GEOMETRY must be pixel, resample or none" >&2; exit 2;; esac
# THREADS sets the CPU threads of stages 1-5 (default 1, which leaves a core for other work)
threads=${THREADS:-1}
model_out=${MODEL_OUT:-resources/models/demo.safetensors}
run() {
    if [ "${DRY_RUN:-0}" = 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi
}
seconds_in() {  # a length of time in seconds, written as cardigan train --time-limit takes it
    local text=${1// /}
    if [[ $text =~ ^[0-9]+$ ]]; then text=${text}m; fi
    if [[ -z $text || ! $text =~ ^(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?$ ]]; then
        echo "TIME_LIMIT: '$1' is not a length of time (write e.g. 90m or 11h30m)" >&2; return 2
    fi
    local total=$((10#${BASH_REMATCH[2]:-0} * 3600 + 10#${BASH_REMATCH[4]:-0} * 60 + 10#${BASH_REMATCH[6]:-0}))
    if ((total == 0)); then echo "TIME_LIMIT: '$1': the time must be more than zero" >&2; return 2; fi
    echo "$total"
}
limit=()
if [ -n "${TIME_LIMIT:-}" ]; then
    limit_s=$(seconds_in "$TIME_LIMIT")
    deadline=$(($(date +%s) + limit_s))
fi
within_time() {  # the next step's share of TIME_LIMIT; the build stops when under a minute is left
    [ -n "${deadline:-}" ] || return 0
    local left=$((deadline - $(date +%s)))
    if ((left < 60)); then
        echo "stopped before $1: the time limit ($TIME_LIMIT) is reached; run this script again to go on" >&2
        exit 75
    fi
    limit=(--time-limit "${left}s")
}
common=(--data "$work/camus256" --batch-size 4 --checkpoint-every 250 --sample-every 250 --log-every 10
        --threads "$threads" --augment-geometry "$geometry")
[ -z "${NGF:-}" ] || common+=(--ngf "$NGF")
[ "${DRY_RUN:-0}" = 1 ] || mkdir -p "$work"
[ -f "$work/camus256/manifest.json" ] || run cardigan prepare --source "$source_file" --out "$work/camus256" --size 256
# a stage with a saved state resumes; one stopped before its first state starts over
resume() {
    if compgen -G "$1/checkpoints/state_*.pt" > /dev/null; then echo --resume
    elif [ -d "$1" ]; then echo --overwrite; fi
}
within_time "stage base"
run cardigan train "${common[@]}" --run "$work/base" --preset lite --no-fan --upsample nearest \
    --lambda-spectrum 0 --lambda-feat 10 --iters 7500 --seed 0 "${limit[@]}" $(resume "$work/base")
within_time "stage run"
run cardigan train "${common[@]}" --run "$work/run" --preset lite --init-from "$work/base/model.safetensors" \
    --iters 4000 --seed 0 "${limit[@]}" $(resume "$work/run")
within_time "stage final"
run cardigan train "${common[@]}" --run "$work/final" --preset lite --init-from "$work/run/model.safetensors" \
    --iters 6000 --seed 1 "${limit[@]}" $(resume "$work/final")
within_time "stage speckle"
run cardigan train "${common[@]}" --run "$work/speckle" --preset lite --init-from "$work/final/model.safetensors" \
    --texture --beam 2 --lambda-region 10 --iters 4000 --seed 4 "${limit[@]}" $(resume "$work/speckle")
[ -d "$work/skew" ] || run cp -r "$work/speckle" "$work/skew"  # stage 5 resumes a copy of stage 4's run
within_time "stage skew"
run cardigan train --run "$work/skew" --resume --iters 6000 --lambda-skew 2 --threads "$threads" --augment-geometry "$geometry" \
    "${limit[@]}"
within_time "stage pooled"
run cardigan train "${common[@]}" --run "$work/pooled" --preset lite --init-from "$work/skew/model.safetensors" \
    --texture --beam 2 --lambda-region 10 --lambda-skew 2 --lambda-streaks 20 --pooled-d 32 --lr 0.0001 \
    --niter 1 --niter-decay 0 --iters 5360 --batch-size 16 --workers 4 --seed 5 "${limit[@]}" $(resume "$work/pooled")
# the shipped model names its data and its terms, not this machine's folders
# a build on resampled pairs gets the shipped model's output settings, fitted to that network;
# any other network gets the style scale alone here and its settings fitted to it below
if [ "$geometry" = resample ]; then written=$work/preset.safetensors; else written=$work/untuned.safetensors; fi
run python - "$work/pooled/model.safetensors" "$written" "$geometry" <<'PY'
import dataclasses
import sys
from engine.models import load_model_file, save_model_file
model = load_model_file(sys.argv[1])
model.provenance.pop("data", None)
model.provenance["started_from"] = "stage 5 of scripts/build_camus_model.sh"
terms = {
    "data": "CAMUS 2023 release, official train split (400 patients, 1,600 image/mask pairs: "
            "2CH and 4CH at ED and ES), 224x224 export prepared at 256x256 with cardigan prepare",
    "license": "CC BY-NC-SA 4.0: non-commercial research only (the CAMUS terms)",
    "citation": "S. Leclerc et al., Deep Learning for Segmentation using an Open Large-Scale Dataset "
                "in 2D Echocardiography, IEEE TMI 38(9):2198-2210, 2019, doi:10.1109/TMI.2019.2900516",
}
if sys.argv[3] != "resample":
    model.config = dataclasses.replace(model.config, style_scale=0.4)
    save_model_file(model, sys.argv[2], terms)
    sys.exit(0)
# the style channels at 0.4 of their training spread: fewer washed-out or dim seeds
# (docs/evaluation.md: holes, the fan's fit and seed brightness all improve); pixel grain of
# 3.5 grey levels (2.5 gave the train split's images the real ones' fine detail; the speckle
# shape below smooths part of it, and 3.5 brings the valid split's fine detail back to real's);
# an output tone of 0.92, the curve that brings the valid split's grey levels to the real ones'
# (cardigan tune --model MODEL --fit-tone camus256 --out TUNED); a depth gain that darkens the
# top seven tenths of the fan as much as the valid split's real images are darker there
# (cardigan tune --model TUNED --fit-depth-gain camus256 --out GAINED); a speckle shape that
# draws the speckle as tall along the beam and as wide across it, depth by depth, as the valid
# split's real speckle, the near field left as it is
# (cardigan tune --model GAINED --fit-speckle-shape camus256 --out SHAPED); a fine filter that
# brings the finest speckle's spectrum to the valid split's real one: less power at the pixel
# limit, more of it from row to row than from column to column
# (cardigan tune --model SHAPED --fit-fine-filter camus256 --out FILTERED); a tip gain that
# gives the fan's first pixels below the probe the real frames' bright ring-down
# (cardigan tune --model FILTERED --fit-tip-gain camus256 --out TIPPED); a pool detail that makes a
# cavity near the probe no grainier than the valid split's real ones
# (cardigan tune --model TIPPED --fit-pool-detail camus256 --out POOLED); the ring-down (bands
# along the arcs of the near field, drawn per seed) and the border softening (the edges drawn on
# the mask's borders faded in patches) are fitted to the network after this, below
model.config = dataclasses.replace(model.config, style_scale=0.4, grain=3.5, tone=0.92,
                                   depth_gain=(0.8397, 0.8466, 0.8535, 0.8897, 0.9358, 0.9696, 0.993, 1.0, 1.0, 1.0),
                                   speckle_shape=((0.0, 0.0, 1.0), (0.8, 0.0, 1.644), (0.4, 0.5, 1.182),
                                                  (0.0, 0.8, 1.204), (0.0, 0.8, 1.163)),
                                   tip_gain=(1.0, 1.0, 5.2325, 2.4685, 1.4506, 1.3195, 1.2616, 1.1926, 1.0897,
                                             1.0615, 1.1031, 1.0),
                                   fine_filter=(
                                       (0.0021, 0.0046, -0.0003, -0.0018, 0.0015, 0.0051, 0.0028),
                                       (0.0091, 0.0132, -0.0068, -0.0261, -0.0024, 0.0166, 0.0083),
                                       (0.0163, -0.0225, -0.041, 0.0734, -0.0489, -0.0279, 0.014),
                                       (-0.0061, -0.0685, 0.1331, 0.9185, 0.1331, -0.0685, -0.0061),
                                       (0.014, -0.0279, -0.0489, 0.0734, -0.041, -0.0225, 0.0163),
                                       (0.0083, 0.0166, -0.0024, -0.0261, -0.0068, 0.0132, 0.0091),
                                       (0.0028, 0.0051, 0.0015, -0.0018, -0.0003, 0.0046, 0.0021)),
                                   pool_detail=(0.6808, 0.6808, 0.6808, 0.7912, 1.0331, 0.9927, 0.9716, 1.0067))
save_model_file(model, sys.argv[2], terms)
PY
within_time "fitting the output settings"
if [ "$geometry" = resample ]; then
    run cardigan tune --model "$written" --out "$model_out" --overwrite --fit-ring-down "$work/camus256" \
        --fit-border-soften "$work/camus256"
else
    run cardigan tune --model "$written" --out "$model_out" --overwrite --style-scale 0.4 \
        --grain 0 --fit-tone "$work/camus256" --fit-depth-gain "$work/camus256" --fit-speckle-shape "$work/camus256" \
        --fit-fine-filter "$work/camus256" --fit-tip-gain "$work/camus256" --fit-pool-detail "$work/camus256" \
        --fit-ring-down "$work/camus256" --fit-border-soften "$work/camus256"
fi
run cardigan info --model "$model_out"
