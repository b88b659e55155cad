#!/usr/bin/env bash
# Rebuild the bundled model (resources/models/demo.safetensors) from the CAMUS file in the seed's
# HDF5 layout (2023 release, official train and valid splits; e.g. camus_224.hdf5).
# Usage: scripts/build_camus_model.sh CAMUS_HDF5 [WORK_DIR] [ITERATIONS]
# CPU is enough: the shipped model took about 2.5 hours on one core of a 2-core CPU with bf16
# (3.6 training images/s). A run can be stopped and this script started again: training
# resumes. CAMUS is for non-commercial research only (CC BY-NC-SA 4.0); the model inherits
# those terms (resources/models/README.md).
set -euo pipefail
source_file=${1:?usage: scripts/build_camus_model.sh CAMUS_HDF5 [WORK_DIR] [ITERATIONS]}
work=${2:-build/camus}
iters=${3:-7500}
cd "$(dirname "$0")/.."
mkdir -p "$work"
[ -f "$work/camus256/manifest.json" ] || cardigan prepare --source "$source_file" --out "$work/camus256" --size 256
cardigan train --data "$work/camus256" --run "$work/run" --preset lite --batch-size 4 \
    --iters "$iters" --checkpoint-every 250 --sample-every 250 --log-every 10 --seed 0 --threads 1 \
    $( [ -d "$work/run/checkpoints" ] && echo --resume )
# the shipped model names its data and its terms, not this machine's folders
python - "$work/run/model.safetensors" resources/models/demo.safetensors <<'PY'
import sys
from engine.models import load_model_file, save_model_file
model = load_model_file(sys.argv[1])
model.provenance.pop("data", None)
save_model_file(model, sys.argv[2], {
    "data": "CAMUS 2023 release, official train split (400 patients, 1,600 image/mask pairs: "
            "2CH and 4CH at ED and ES), 224x224 export prepared at 256x256 with cardigan prepare",
    "license": "CC BY-NC-SA 4.0: non-commercial research only (the CAMUS terms)",
    "citation": "S. Leclerc et al., Deep Learning for Segmentation using an Open Large-Scale Dataset "
                "in 2D Echocardiography, IEEE TMI 38(9):2198-2210, 2019, doi:10.1109/TMI.2019.2900516",
})
PY
cardigan info --model resources/models/demo.safetensors
