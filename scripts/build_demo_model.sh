#!/usr/bin/env bash
# Rebuild the bundled demo model (resources/models/demo.safetensors) from scratch with the
# project's own phantom data and trainer. CPU is enough; a GPU makes it minutes instead of hours.
# Usage: scripts/build_demo_model.sh [WORK_DIR] [ITERATIONS]
set -euo pipefail
work=${1:-build/demo}
iters=${2:-4000}
cd "$(dirname "$0")/.."
mkdir -p "$work"
cardigan phantom --out "$work/phantom256" --count 300 --size 256 --seed 7 --overwrite
cardigan train --data "$work/phantom256" --run "$work/run" --preset lite --ndf 16 --n-layers-d 3 \
    --batch-size 2 --lr 0.0003 --iters "$iters" --checkpoint-every 250 --sample-every 250 \
    --log-every 25 --seed 0 $( [ -d "$work/run/checkpoints" ] && echo --resume )
# the shipped card names how the data was made, not this machine's folder
python - "$work/run/model.safetensors" resources/models/demo.safetensors <<'PY'
import sys
from engine.models import load_model_file, save_model_file
model = load_model_file(sys.argv[1])
save_model_file(model, sys.argv[2], {"data": "cardigan phantom --count 300 --size 256 --seed 7"})
PY
cardigan info --model resources/models/demo.safetensors
