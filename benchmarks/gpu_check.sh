#!/usr/bin/env bash
# Every check that needs a CUDA GPU, in one run: the CUDA tests, `cardigan bench --device cuda`
# and the per-optimisation table. Results go to $OUT (default ./gpu-results).
# Usage: bash benchmarks/gpu_check.sh   (from the repository root, torch with CUDA installed)
set -u
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv | tee "$OUT/gpu.txt"
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"
echo "== CUDA tests"
timeout 150 $PY -m pytest -q -p no:cacheprovider -m cuda -o addopts="" \
    tests/test_fast_path.py tests/test_gpu_synthesis.py tests/test_bench.py 2>&1 | tee "$OUT/tests.log" | tail -25
echo "== cardigan bench --device cuda"
timeout 200 $PY -m engine bench --device cuda --out "$OUT/bench_cuda.json" > "$OUT/bench.log" 2>&1
head -20 "$OUT/bench.log"
echo "== variants"
timeout 200 $PY benchmarks/gpu_variants.py --out "$OUT/variants.json" > "$OUT/variants.log" 2>&1
sed -n '/^config/,$p' "$OUT/variants.log"; grep -i error "$OUT/variants.log" | head -5
echo "== profile and torch.compile"
timeout 300 $PY benchmarks/gpu_profile.py --budget 200 --out "$OUT/profile.json" > "$OUT/profile.log" 2>&1
grep '^{' "$OUT/profile.log"
