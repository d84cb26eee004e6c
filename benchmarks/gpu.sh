#!/usr/bin/env bash
# The prepared GPU check: one CUDA GPU, run from the repository root with a CUDA build of
# torch 2.13 in the environment (pip install torch==2.13.0 --index-url
# https://download.pytorch.org/whl/cu126, then pip install -e .). About 6 minutes.
#   - training throughput of 2x512 and 3x512 LSTMs at batch 64 and 256, fp32 vs bf16 (cuDNN);
#   - a few minutes of War and Peace training in bf16, then sampling that GPU checkpoint on CPU.
# Results go to $OUT (default benchmarks/results/gpu).
set -euo pipefail
OUT=${OUT:-benchmarks/results/gpu}
DATA=${DATA:-data/warpeace.txt}  # charrnn corpus get warpeace
mkdir -p "$OUT"
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU visible'; \
print(torch.__version__, torch.cuda.get_device_name(0), torch.backends.cudnn.version())" \
  | tee "$OUT/device.txt"
for batch in 64 256; do
  python -m charrnn bench --device cuda --config 2x512 --config 3x512 --batch-size "$batch" \
    --seconds 15 --json > "$OUT/bench_b$batch.json"
  python - "$OUT/bench_b$batch.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for t in r["train"]:
    print(t["config"], "fp32", t["charrnn_fp32_chars_per_s"], "bf16", t.get("charrnn_bf16_chars_per_s"),
          "plain", t.get("reference_chars_per_s"), "ratio", t.get("ratio_vs_reference"))
PY
done
python -m charrnn train "$DATA" --device cuda --precision bf16 --time 3m --hidden-size 1024 \
  --num-layers 2 --batch-size 128 --seq-len 128 --lr 2e-3 --dropout 0.1 --eval-every 200 \
  --out "$OUT/warpeace" --overwrite 2>&1 | tail -n 5 | tee "$OUT/warpeace.txt"
python -m charrnn sample "$OUT/warpeace" --device cpu --length 300 --seed 0 | tee -a "$OUT/warpeace.txt"
