#!/usr/bin/env bash
# The prepared GPU check, about 7 minutes on one H200. Run from the repository root; it needs
# torch with CUDA, typer, rich, safetensors and numpy, and runs the project from the source tree
# (PYTHONPATH=.), so nothing is installed. It needs data/warpeace.txt and data/tinyshakespeare.txt
# (`charrnn corpus get warpeace` / `tinyshakespeare`; on a machine without network, copy them there).
#
# What it measures (every figure lands in $OUT, default benchmarks/results/gpu/):
#   device.txt      torch, CUDA, cuDNN, the GPU
#   bench.*         `charrnn bench --device cuda`: 3x512 and 2x1024 at batch 256, fp32 (TF32)
#                   and bf16 against their own measured peaks, the plain loop, GPU sampling
#   warpeace.*      `charrnn train warpeace.txt --time 2m` with every default on the GPU: what
#                   autosize picked and why, chars/s, best val and test
#   nanogpt.*       tinyshakespeare, 3 minutes on the first 90%, scored on the last 10% with
#                   nanoGPT's protocol (`eval --fresh-windows --window-length 256`)
#   sample.txt      1024 samples x 1000 characters in one batch on the GPU, chars/s (and the
#                   start of the first sample in sample_text.txt)
#   torchrun.txt    the same training under torchrun, one process per GPU (NCCL), 300 steps
#   summary.md      the figures above in one table
# The grid of issue "nothing stalls" (3 depths x 3 batches x 2 widths, 100 s each, ~35 minutes)
# is PARTS=grid; GRID_SECONDS sets its budget.
#
# A smoke run of the plumbing on a CPU (what the test suite does):
#   DEVICE=cpu WP_TIME=4s TS_TIME=4s BENCH_SECONDS=0.3 SAMPLES=8 STEPS=5 bash benchmarks/gpu.sh
set -euo pipefail
export PYTHONPATH=${PYTHONPATH:-.}
PY=${PYTHON:-python}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-benchmarks/results/gpu}
DATA=${DATA:-data}
RUNS=${RUNS:-$(mktemp -d)}      # checkpoints stay here, out of $OUT (they are large)
WP_TIME=${WP_TIME:-2m}
TS_TIME=${TS_TIME:-3m}
BENCH_SECONDS=${BENCH_SECONDS:-5}
SAMPLES=${SAMPLES:-1024}
STEPS=${STEPS:-300}
GRID_SECONDS=${GRID_SECONDS:-100}
PARTS=${PARTS:-device bench warpeace nanogpt sample torchrun summary}
mkdir -p "$OUT"
charrnn() { "$PY" -m charrnn "$@"; }
has() { [[ " $PARTS " == *" $1 "* ]]; }
for f in warpeace tinyshakespeare; do
  [ -f "$DATA/$f.txt" ] || { echo "missing $DATA/$f.txt: charrnn corpus get $f -o $DATA" >&2; exit 1; }
done

if has device; then
  "$PY" - "$DEVICE" <<'PY' | tee "$OUT/device.txt"
import sys, torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
if sys.argv[1].startswith("cuda"):
    assert torch.cuda.is_available(), "no CUDA GPU visible"
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"gpu {i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs")
PY
fi

if has bench; then
  charrnn bench --device "$DEVICE" --seconds "$BENCH_SECONDS" --json > "$OUT/bench.json"
  "$PY" - "$OUT/bench.json" > "$OUT/bench.txt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print({k: v for k, v in r.items() if k.startswith("matmul_peak") or k in ("device_name", "torch")})
for t in r["train"]:
    print(t["config"], "| fp32", t["charrnn_fp32_chars_per_s"], f"({t['charrnn_fp32_peak_fraction']:.0%} of peak)",
          "| bf16", t.get("charrnn_bf16_chars_per_s"), f"({t.get('charrnn_bf16_peak_fraction', 0):.0%})",
          "| plain loop", t.get("reference_chars_per_s"), "| ratio", t.get("ratio_vs_reference"))
print("sampling", r.get("sample_gpu"), r["sample"])
PY
  cat "$OUT/bench.txt"
fi

if has warpeace; then
  charrnn train "$DATA/warpeace.txt" --device "$DEVICE" --time "$WP_TIME" --out "$RUNS/warpeace" \
    --overwrite 2>&1 | grep -v "^epoch " | tee "$OUT/warpeace.txt"
  cp "$RUNS/warpeace/metrics.jsonl" "$OUT/warpeace_metrics.jsonl"
fi

if has nanogpt; then
  "$PY" - "$DATA/tinyshakespeare.txt" "$RUNS" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
cut = int(len(text) * 0.9)  # nanoGPT's split: the first 90% to train, the last 10% to validate
open(f"{sys.argv[2]}/first90.txt", "w", encoding="utf-8").write(text[:cut])
open(f"{sys.argv[2]}/last10.txt", "w", encoding="utf-8").write(text[cut:])
PY
  charrnn train "$RUNS/first90.txt" --device "$DEVICE" --time "$TS_TIME" --out "$RUNS/nanogpt" \
    --overwrite 2>&1 | grep -v "^epoch " | tee "$OUT/nanogpt.txt"
  charrnn eval "$RUNS/nanogpt" "$RUNS/last10.txt" --device "$DEVICE" --fresh-windows \
    --window-length 256 --json | tee "$OUT/nanogpt_eval.json"
  charrnn eval "$RUNS/nanogpt" "$RUNS/last10.txt" --device "$DEVICE" --json \
    | tee "$OUT/nanogpt_eval_carried.json"
  cp "$RUNS/nanogpt/metrics.jsonl" "$OUT/nanogpt_metrics.jsonl"
fi

if has sample; then
  run="$RUNS/warpeace"; [ -d "$run" ] || run="$RUNS/nanogpt"
  # To a file, not through `head`: a closed pipe would end the sampler before its rate line.
  charrnn sample "$run" --device "$DEVICE" --num-samples "$SAMPLES" --length 1000 --seed 0 \
    > "$RUNS/samples.txt" 2> "$OUT/sample.txt"
  head -c 600 "$RUNS/samples.txt" > "$OUT/sample_text.txt"
  grep -v "^--- sample" "$OUT/sample.txt" || true
fi

if has torchrun; then
  procs=1
  [[ "$DEVICE" == cuda* ]] && procs=$("$PY" -c "import torch; print(torch.cuda.device_count())")
  "$PY" -m torch.distributed.run --nproc-per-node="$procs" -m charrnn train "$DATA/warpeace.txt" \
    --device "$DEVICE" --max-steps "$STEPS" --batch-size $((64 * procs)) --seq-len 128 \
    --hidden-size 512 --eval-every 100 --out "$RUNS/torchrun" --overwrite 2>&1 \
    | grep -v "^epoch " | tail -n 8 | tee "$OUT/torchrun.txt"
  grep -h '"kind": "done"' "$RUNS/torchrun/metrics.jsonl" >> "$OUT/torchrun.txt"
fi

if has grid; then
  : > "$OUT/grid.jsonl"
  for layers in 1 2 3; do for batch in 32 128 512; do for hidden in 512 1024; do
    name="grid_${layers}x${hidden}_b${batch}"
    charrnn train "$DATA/warpeace.txt" --device "$DEVICE" --time "${GRID_SECONDS}s" \
      --num-layers "$layers" --hidden-size "$hidden" --batch-size "$batch" --seq-len 128 \
      --out "$RUNS/$name" --overwrite --quiet > /dev/null 2>&1 || echo "$name failed" >&2
    "$PY" - "$RUNS/$name/metrics.jsonl" "$name" >> "$OUT/grid.jsonl" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
val = [r["val_loss"] for r in rs if r["kind"] == "val"]
start = next(r for r in rs if r["kind"] == "start")
train = [r for r in rs if r["kind"] == "train"]
print(json.dumps({"name": sys.argv[2], "best_val": min(val), "lr": start["config"]["lr"],
                  "chars_per_s": sorted(r["chars_per_s"] for r in train)[len(train) // 2]}))
PY
    tail -n 1 "$OUT/grid.jsonl"
  done; done; done
fi

if has summary; then
  "$PY" - "$OUT" > "$OUT/summary.md" <<'PY'
import json, os, sys
out = sys.argv[1]
def records(name):
    path = os.path.join(out, name)
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []
print("| figure | value |\n|---|---|")
for run in ("warpeace", "nanogpt"):
    rs = records(f"{run}_metrics.jsonl")
    if not rs:
        continue
    start = next(r for r in rs if r["kind"] == "start")
    train = [r["chars_per_s"] for r in rs if r["kind"] == "train"][1:] or [0]
    val = [r["val_loss"] for r in rs if r["kind"] == "val"]
    test = [r["test_loss"] for r in rs if r["kind"] == "test"]
    m, c = start["model_config"], start["config"]
    print(f"| {run}: model | {m['num_layers']}x{m['hidden_size']} {m['model']}, dropout {m['dropout']}, "
          f"batch {c['batch_size']}, seq {c['seq_len']}, lr {c['lr']:.2g}, {start['precision']} |")
    print(f"| {run}: median chars/s | {sorted(train)[len(train) // 2]:,.0f} |")
    print(f"| {run}: best val (nats/char) | {min(val):.4f} |")
    if test:
        print(f"| {run}: test (nats/char) | {test[-1]:.4f} |")
for name, label in (("nanogpt_eval.json", "nanoGPT protocol"), ("nanogpt_eval_carried.json", "state carried")):
    path = os.path.join(out, name)
    if os.path.exists(path):
        print(f"| tinyshakespeare last 10%, {label} (nats/char) | {json.load(open(path))['loss']:.4f} |")
PY
  cat "$OUT/summary.md"
fi
