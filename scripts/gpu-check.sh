#!/usr/bin/env bash
# The GPU check: runs rast's GPU tests and benchmarks on a machine with an NVIDIA GPU and writes a Markdown report
# to $OUT/gpu-report.md (default ./out). Needs no JDK or Maven there: first, on a build machine,
#     scripts/prepare-device.sh          # .device/: a jlink'ed Java 25 runtime, the jars, the test classes
# then carry .device/ with the working tree to the GPU machine and run
#     bash scripts/gpu-check.sh
# Steps (each with a time limit, the report is written as they finish):
#   1. GPU facts: nvidia-smi, driver and CUDA versions.
#   2. The GPU tests (DeviceTestMain.GPU_TESTS: CudaHostTest, BackendOpsTest, CudaKernelsTest, CudaFusedOpsTest, CudaGraphTest, CudaDecodeGraphTest,
#      CudaReferenceModelTest, KvCacheBf16Test, WeightDtypeTest, DeviceSamplingPathTest, ServeDeviceSamplingTest,
#      Bf16GemmTest) on target "cuda" only (BackendOpsTest and the whole-model tests run their CPU and reference
#      cases too).
#   3. GEMM TFLOP/s of rast's matmul path vs the datasheet peak (GpuBench).
#   4. Decode tokens/s and GB/s of `rast bench --device cuda` on `rast synth` models (bf16), against the DRAM
#      bandwidth limit, and the same model in PyTorch (scripts/bench/torch_gpu_bench.py) in the same run.
#   5. The RAST step in the paper's setting (7B base, 1.5B pair with an F32 expert), as stored and with --dtype bf16
#      (GPU_CHECK_RAST=0 skips it; it needs qwen2.5-7b and qwen2.5-1.5b among the models).
#   6. 7B with 256 sequences (`rast bench --batch 256`), when at least 90 s of the budget are left
#      (GPU_CHECK_BATCH256=0 skips it).
#   7. The headline figures, machine-readable, in $OUT/gpu-figures.json (copy it to docs/gpu-figures.json):
#      {"date", "commit", "gpu", "decode_7b_tok_s", "decode_1_5b_tok_s", "batch32_7b_tok_s", "batch256_7b_tok_s",
#      "rast_7b_1_5b_batch32_tok_s", "hf_decode_7b_tok_s"}, null for what did not run (scripts/bench/gpu_figures.py;
#      the RAST figure is the --dtype bf16 step's, the HF figure PyTorch's decode of the same 7B model).
# GPU_CHECK_DRY_RUN=1 runs no GPU step: it checks the figures writer (gpu_figures.py --self-test) and writes
# $OUT/gpu-figures.json with every figure null, on any machine. GPU_CHECK_JAVA_OPTS: extra JVM options for every
# Java step (e.g. "-Drast.cuda.gemm=bf16" or "-Drast.sampling=host" to measure those paths).
# Environment: GPU_CHECK_MODELS (default "qwen2.5-1.5b qwen2.5-7b"), GPU_CHECK_GEN (decode tokens, default 128),
# GPU_CHECK_WORK (where synthetic models go, default /tmp/rast-gpu-check), GPU_CHECK_BUDGET (seconds for the whole
# check, default 480).
# Time: a session gets 15 minutes of device time, machine start included, and one command at most 10, so the whole
# check keeps to GPU_CHECK_BUDGET: every step has its own limit, cut to what the budget has left (a step cut short
# says so in the report), and a model's decode benchmarks are skipped, and named, when less than a minute is left
# (run it with the device tool's timeout_s about 60 s above the budget).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$root/out}
mkdir -p "$out"
report=$out/gpu-report.md
figures=$out/figures.txt
: > "$figures"
# The commit measured: prepare-device.sh records it in .device/commit (the device gets no .git).
commit=${GPU_CHECK_COMMIT:-$(cat .device/commit 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || true)}
figure() { python3 scripts/bench/gpu_figures.py add "$figures" "$@" 2>> "$out/figures.log" || true; }
write_figures() {
  python3 scripts/bench/gpu_figures.py write "$figures" "$out/gpu-figures.json" "$(date -u +%Y-%m-%d)" "$commit" "$1"
}
if [ "${GPU_CHECK_DRY_RUN:-0}" = 1 ]; then
  python3 scripts/bench/gpu_figures.py --self-test || exit 1
  write_figures "" && cat "$out/gpu-figures.json"
  exit 0
fi
work=${GPU_CHECK_WORK:-/tmp/rast-gpu-check}
models=${GPU_CHECK_MODELS:-qwen2.5-1.5b qwen2.5-7b}
gen=${GPU_CHECK_GEN:-128}
budget=${GPU_CHECK_BUDGET:-480}
mkdir -p "$work"
start=$(date +%s)
# Seconds for a step: its own limit, or what the budget has left less 15 s for the rest of the report if that is less.
limit() {
  local left=$(( budget - ($(date +%s) - start) - 15 ))
  (( left < $1 )) && echo $(( left > 1 ? left : 1 )) || echo "$1"  # never 0: to timeout, 0 means no limit
}

java=.device/jdk/bin/java
[ -f .device/jdk.tgz ] && [ ! -d .device/jdk ] && tar -C .device -xzf .device/jdk.tgz
[ -d .device/jdk/bin ] && chmod +x .device/jdk/bin/* .device/jdk/lib/jspawnhelper 2>/dev/null  # a copy may drop the bits
if [ ! -x "$java" ]; then
  java=$(command -v java || true)
  [ -n "${JAVA_HOME:-}" ] && java=$JAVA_HOME/bin/java
fi
if [ -z "$java" ] || ! "$java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
  echo "gpu-check: no Java 25 runtime: run scripts/prepare-device.sh on a build machine and carry .device/" >&2
  exit 2
fi
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
read -ra extra_opts <<< "${GPU_CHECK_JAVA_OPTS:-}"
flags+=("${extra_opts[@]}")
cp_tests=".device/lib/*:.device/classes/kernels-test:.device/classes/tests-test:tests/src/test/resources"
cp_cli=".device/lib/*"
jrun() { "$java" "${flags[@]}" "$@" 2> >(grep -v '^WARNING: Using incubator modules' >&2); }

# cuBLAS: rast looks for libcublas.so.13/.12 on the loader path and in /usr/local/cuda/lib64; pip-installed CUDA
# libraries (torch's nvidia-cublas wheels) live elsewhere, so point RAST_CUBLAS at one if the loader cannot see it.
if ! ldconfig -p 2>/dev/null | grep -qE 'libcublas\.so\.1[23] '; then
  lib=$(python3 - 2>/dev/null <<'PY'
import glob, os, site
dirs = site.getsitepackages() + [site.getusersitepackages()]
for d in dirs:
    for pat in ("nvidia/cublas/lib/libcublas.so.13*", "nvidia/cublas/lib/libcublas.so.12*", "nvidia/cu13/lib/libcublas.so.13*"):
        hits = sorted(glob.glob(os.path.join(d, pat)))
        if hits:
            print(hits[0]); raise SystemExit
PY
)
  [ -z "$lib" ] && lib=$(ls /usr/local/cuda*/lib64/libcublas.so.1[23]* /usr/local/cuda*/targets/*/lib/libcublas.so.1[23]* 2>/dev/null | head -n 1)
  if [ -n "$lib" ]; then
    export RAST_CUBLAS=$lib
    export LD_LIBRARY_PATH=$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
fi

# Synthetic models are written in the background while the tests use the GPU.
# The paper's setting for the RAST step (step 5): a 7B base with a 1.5B pair whose expert is F32 (SimpleRL-Zoo's).
rast_expert=
if [ "${GPU_CHECK_RAST:-1}" = 1 ] && [[ " $models " == *" qwen2.5-7b "* ]] && [[ " $models " == *" qwen2.5-1.5b "* ]]; then
  rast_expert=qwen2.5-1.5b-f32
fi
synth_log=$work/synth.log
: > "$synth_log"
(
  for m in $models $rast_expert; do
    if grep -qs '^done$' "$work/$m/.complete"; then echo "wrote $work/$m/model.safetensors (earlier)" >> "$synth_log"; continue; fi
    arch=${m%-f32}; dtype=bf16; [ "$arch" != "$m" ] && dtype=f32
    jrun -cp "$cp_cli" dev.rast.cli.Main synth --arch "$arch" --dtype "$dtype" --out "$work/$m" >> "$synth_log" 2>&1 \
      && echo done > "$work/$m/.complete"
  done
) &
synth_pid=$!

{
  echo "# rast GPU report"
  echo
  echo "Generated by \`scripts/gpu-check.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "## Machine"
  echo '```'
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory --format=csv 2>&1 | head -n 3
  nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -n 1
  command -v nvcc > /dev/null && nvcc --version | tail -n 2 | head -n 1
  echo "java: $("$java" -version 2>&1 | head -n 1)"
  python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null || echo "torch: not installed"
  [ -n "${RAST_CUBLAS:-}" ] && echo "RAST_CUBLAS=$RAST_CUBLAS"
  echo '```'
  echo
} > "$report"

echo "## GPU tests" >> "$report"
echo >> "$report"
t_tests=$(limit 200)
timeout -k 10 "$t_tests" "$java" "${flags[@]}" -Drast.cuda.targets=cuda -Drast.report="$out/tests.md" -cp "$cp_tests" \
  dev.rast.kernels.cuda.DeviceTestMain > "$out/tests.log" 2>&1
status=$?
if [ -f "$out/tests.md" ]; then cat "$out/tests.md" >> "$report"; else echo "(no result: exit $status; see tests.log)" >> "$report"; fi
( [ $status -eq 124 ] || [ $status -eq 137 ] ) && echo "**The tests ran out of time ($t_tests s).**" >> "$report"
tail -n 1 "$out/tests.log"
echo >> "$report"

echo "## GEMM" >> "$report"
echo >> "$report"
timeout -k 10 "$(limit 60)" "$java" "${flags[@]}" -cp "$cp_tests" dev.rast.kernels.cuda.GpuBench >> "$report" 2> "$out/gemm.log" \
  || echo "(GEMM benchmark failed or ran out of time: $(tail -n 3 "$out/gemm.log" | tr '\n' ' '))" >> "$report"
echo >> "$report"
peak=$(timeout -k 10 "$(limit 30)" "$java" "${flags[@]}" -cp "$cp_tests" dev.rast.kernels.cuda.GpuBench --peak-bandwidth 2>/dev/null | tail -n 1)

echo "## Decode" >> "$report"
echo >> "$report"
# The models may still be written: wait while the budget allows, leaving each model a minute and a half to run.
while kill -0 $synth_pid 2>/dev/null && (( $(limit 100000) > 90 )); do sleep 2; done
synth_cut=0
stop_synth() { pkill -P $synth_pid 2>/dev/null; kill $synth_pid 2>/dev/null; }  # the subshell and its java
if kill -0 $synth_pid 2>/dev/null; then synth_cut=1; stop_synth; fi
echo "Prompt 128 random tokens, then $gen greedy tokens one at a time with the KV cache, bf16 weights; median of 3 runs" \
     "after a warm-up. GB/s = weight bytes read per token × tokens/s; peak DRAM bandwidth ${peak:-?} GB/s." >> "$report"
echo >> "$report"
echo "rast also decodes 32 samples of the prompt together (\`--batch 32\`: one prefill, the KV caches forked, one" \
     "batched step for all 32): tokens/s over all 32." >> "$report"
echo >> "$report"
echo "| model | engine | prefill tok/s | decode tok/s | decode GB/s | % of peak bandwidth | 32 samples tok/s |" >> "$report"
echo "|---|---|---|---|---|---|---|" >> "$report"
for m in $models; do
  dir=$work/$m
  if [ ! -f "$dir/model.safetensors" ] || ! grep -q "^wrote $dir/" "$synth_log"; then
    if [ $synth_cut -eq 1 ]; then why="not synthesized within the time budget"; else why=$(tail -n 1 "$synth_log" | tr '|' '/'); fi
    echo "| $m | (no model: $why) | | | | | |" >> "$report"
    continue
  fi
  if (( $(limit 100000) < 60 )); then
    echo "| $m | (skipped: the time budget of $budget s is spent) | | | | | |" >> "$report"
    continue
  fi
  # rast and PyTorch share what is left for this model.
  r=$(timeout -k 10 "$(limit 150)" "$java" "${flags[@]}" -cp "$cp_cli" dev.rast.cli.Main bench --model "$dir" --device cuda --prompt-len 128 \
        --gen "$gen" --runs 3 --batch 32 --json 2> "$out/bench-$m.log" | tail -n 1)
  t=$(timeout -k 10 "$(limit 150)" python3 scripts/bench/torch_gpu_bench.py "$dir" --prompt-len 128 --gen "$gen" --runs 3 2> "$out/torch-$m.log" | tail -n 1)
  case $m in
    qwen2.5-7b)
      figure decode_7b_tok_s decode_tok_s "$r"
      figure batch32_7b_tok_s batch_decode_tok_s "$r"
      figure hf_decode_7b_tok_s decode_tok_s "$t" ;;
    qwen2.5-1.5b) figure decode_1_5b_tok_s decode_tok_s "$r" ;;
  esac
  python3 - "$m" "${peak:-0}" "$r" "$t" "$out" >> "$report" <<'PY'
import json, os, sys
m, peak, r, t, out = sys.argv[1], float(sys.argv[2] or 0), sys.argv[3], sys.argv[4], sys.argv[5]
def last(log):
    try:
        lines = [l.strip() for l in open(os.path.join(out, log)) if l.strip()]
        return (lines[-1] if lines else "no output").replace("|", "/")[:200]
    except OSError:
        return "no log"
def row(engine, prefill, decode, gbs, batch=None):
    pct = f"{100 * gbs / peak:.0f}%" if peak and gbs else "n/a"
    b = f"{batch:.1f}" if batch else "n/a"
    print(f"| {m} | {engine} | {prefill:.1f} | {decode:.1f} | {gbs:.0f} | {pct} | {b} |")
try:
    rj = json.loads(r)
    row("rast " + rj["backend"] + ", KV " + rj.get("kv_cache", "?"), rj["prefill_tok_s"], rj["decode_tok_s"],
        rj["decode_gb_s"], rj.get("batch_decode_tok_s"))
    bpt = rj["bytes_per_token"]
except Exception:
    print(f"| {m} | rast failed: {last(f'bench-{m}.log')} | | | | | |"); bpt = 0
try:
    tj = json.loads(t)
    row(f"{tj['impl']}, torch {tj['torch']}", tj["prefill_tok_s"], tj["decode_tok_s"], tj["decode_tok_s"] * bpt / 1e9)
except Exception:
    print(f"| {m} | PyTorch failed: {last(f'torch-{m}.log')} | | | | | |")
PY
done
echo >> "$report"
if [ -n "$rast_expert" ]; then
  echo "## RAST step" >> "$report"
  echo >> "$report"
  echo "The paper's setting: M = qwen2.5-7b (bf16), E = qwen2.5-1.5b in F32 (as SimpleRL-Zoo ships), B = qwen2.5-1.5b" \
       "(bf16), \`rast bench --expert E --expert-base B --batch 32\` (one fused step: three models' decode steps, the" \
       "fusion, the choice), with the weights as stored and with \`--dtype bf16\` (E rounded to BF16 at load)." >> "$report"
  echo >> "$report"
  echo "| --dtype (M/E/B weights) | single-model steps (ms) | fused step (ms) | fused / sum | 32 sequences fused tok/s |" >> "$report"
  echo "|---|---|---|---|---|" >> "$report"
  for dt in auto bf16; do
    if ! grep -qs '^done$' "$work/$rast_expert/.complete" || (( $(limit 100000) < 60 )); then
      echo "| $dt | (skipped: no expert model or no time left) | | | |" >> "$report"; continue
    fi
    r=$(timeout -k 10 "$(limit 120)" "$java" "${flags[@]}" -cp "$cp_cli" dev.rast.cli.Main bench --model "$work/qwen2.5-7b" \
          --expert "$work/$rast_expert" --expert-base "$work/qwen2.5-1.5b" --dtype "$dt" --device cuda --prompt-len 128 \
          --gen 64 --runs 2 --batch 32 --json 2> "$out/rast-$dt.log" | tail -n 1)
    [ "$dt" = bf16 ] && figure rast_7b_1_5b_batch32_tok_s fused_batch_tok_s "$r"
    python3 - "$dt" "$r" "$out/rast-$dt.log" >> "$report" <<'PY'
import json, sys
dt, r, log = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    j = json.loads(r)
    singles = ", ".join(f"{x:.2f}" for x in j["single_step_ms"])
    w = "/".join(j.get("rast_weights", []))
    print(f"| {dt} ({w}) | {singles} | {j['fused_step_ms']:.2f} | {j['fused_over_sum']:.3f} | {j.get('fused_batch_tok_s', 0):.1f} |")
except Exception:
    try:
        lines = [l.strip() for l in open(log) if l.strip() and not l.startswith("WARNING")]
        why = lines[-1] if lines else "no output"
    except OSError:
        why = "no log"
    print(f"| {dt} | rast failed: {why[:160].replace('|', '/')} | | | |")
PY
  done
  echo >> "$report"
fi
if [ "${GPU_CHECK_BATCH256:-1}" = 1 ] && grep -qs '^done$' "$work/qwen2.5-7b/.complete"; then
  echo "## 256 sequences" >> "$report"
  echo >> "$report"
  if (( $(limit 100000) < 90 )); then
    echo "(skipped: less than 90 s of the $budget s budget left)" >> "$report"
  else
    r=$(timeout -k 10 "$(limit 150)" "$java" "${flags[@]}" -cp "$cp_cli" dev.rast.cli.Main bench --model "$work/qwen2.5-7b" --device cuda \
          --prompt-len 128 --gen 32 --runs 1 --batch 256 --json 2> "$out/bench-batch256.log" | tail -n 1)
    figure batch256_7b_tok_s batch_decode_tok_s "$r"
    python3 - "$r" "$out/bench-batch256.log" >> "$report" <<'PY'
import json, sys
try:
    j = json.loads(sys.argv[1])
    print(f"qwen2.5-7b (bf16), 256 samples of a 128-token prompt, 32 steps: {j['batch_decode_tok_s']:.1f} tok/s over all 256"
          f" (single stream {j['decode_tok_s']:.1f} tok/s; sampling on the {j.get('sampling', '?')}).")
except Exception:
    lines = [l.strip() for l in open(sys.argv[2]) if l.strip() and not l.startswith("WARNING")] or ["no output"]
    print(f"rast failed: {lines[-1][:200]}")
PY
  fi
  echo >> "$report"
fi

echo "## Headline figures" >> "$report"
echo >> "$report"
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
if write_figures "$gpu_name"; then
  { echo '```json'; cat "$out/gpu-figures.json"; echo '```'; } >> "$report"
else
  echo "(gpu-figures.json could not be written: see figures.log)" >> "$report"
fi
echo >> "$report"
echo "Logs (tests.log, tests.md, gemm.log, bench-*.log, torch-*.log, rast-*.log, figures.*) in logs.tgz beside this report." >> "$report"
stop_synth
echo "Total $(( $(date +%s) - start )) s of a $budget s budget." >> "$report"
# The device tool returns at most 8 files: the logs go packed.
(cd "$out" && tar -czf logs.tgz --ignore-failed-read tests.log tests.md gemm.log bench-*.log torch-*.log rast-*.log figures.txt figures.log 2>/dev/null \
  && rm -f tests.log tests.md gemm.log bench-*.log torch-*.log rast-*.log figures.txt figures.log)
echo "gpu-check: wrote $report"
