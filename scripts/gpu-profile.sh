#!/usr/bin/env bash
# Where a GPU decode step's time goes: Nsight Compute's per-kernel summary (GPU time of every kernel, ours and
# cuBLAS's) over about two steady-state decode steps of `rast bench --device cuda`, plus GpuBench (GEMM, launch cost,
# decode-sized matmuls), and an A/B of `rast bench` with the current decode switches against the earlier ones
# (-Drast.cuda.matvec=all -Drast.cuda.decode-min-chunk=64 -Drast.cuda.decode-target-blocks=0; the kernels are
# today's in both) and against the grouped decode attention (-Drast.cuda.decode-attention=grouped), alternating.
# Like gpu-check.sh it runs on a GPU machine from what scripts/prepare-device.sh packed:
#     bash scripts/gpu-profile.sh            # writes $OUT (default ./out): gemm.md, ncu.csv, ab.txt, *.log
# Last, compute-sanitizer's racecheck and synccheck over a few decode steps of a tiny model with the grouped decode
# attention (its warp-synchronous shared memory is what the CPU emulator cannot check) -> sanitizer.log.
# Environment: PROFILE_ARCH (a `rast synth` architecture, default qwen2.5-1.5b), PROFILE_SKIP / PROFILE_COUNT
# (kernels to skip before profiling, e.g. the prefill and first steps of the warm-up pass, and to profile; defaults
# 3000 and 1500: a Qwen2.5 decode step launched ~590 kernels in the first report, ~730 with the GEMM routing),
# PROFILE_AB_ROUNDS (default 2), and time limits in seconds: PROFILE_GEMM_S (GpuBench, 90), PROFILE_NCU_S (90),
# PROFILE_AB_S (each bench, 60), PROFILE_SANITIZER_S (each sanitizer tool, 60). Clocks are left as they are (--clock-control none)
# so that durations match an unprofiled run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$root/out}
mkdir -p "$out"
arch=${PROFILE_ARCH:-qwen2.5-1.5b}
[ -d .device/jdk ] || tar -C .device -xzf .device/jdk.tgz
chmod +x .device/jdk/bin/* .device/jdk/lib/jspawnhelper 2>/dev/null
java=(.device/jdk/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
model=/tmp/rast-profile/$arch

timeout -k 5 120 "${java[@]}" -cp ".device/lib/*" dev.rast.cli.Main synth --arch "$arch" --dtype bf16 --out "$model" \
  > "$out/synth.log" 2>&1 &
synth=$!
timeout -k 5 "${PROFILE_GEMM_S:-90}" "${java[@]}" -cp ".device/lib/*:.device/classes/kernels-test" dev.rast.kernels.cuda.GpuBench \
  > "$out/gemm.md" 2> "$out/gemm.log"
echo "GpuBench: exit $?"
wait $synth
echo "synth: $(tail -n 1 "$out/synth.log")"
timeout -k 5 "${PROFILE_NCU_S:-90}" ncu --clock-control none --metrics gpu__time_duration.sum \
  --launch-skip "${PROFILE_SKIP:-3000}" --launch-count "${PROFILE_COUNT:-1500}" --csv --print-summary per-kernel \
  "${java[@]}" -cp ".device/lib/*" dev.rast.cli.Main bench --model "$model" --device cuda --prompt-len 128 --gen 32 --runs 1 \
  > "$out/ncu.csv" 2> "$out/ncu.log"
echo "ncu: exit $?, $(wc -l < "$out/ncu.csv") lines"

# A/B/C: prompt 512 (attention over more keys), one sequence and 32 together; twice each, alternating.
: > "$out/ab.txt"
for round in $(seq 1 "${PROFILE_AB_ROUNDS:-2}"); do
  for cfg in "current:" "earlier:-Drast.cuda.matvec=all -Drast.cuda.decode-min-chunk=64 -Drast.cuda.decode-target-blocks=0" \
             "grouped:-Drast.cuda.decode-attention=grouped"; do
    name=${cfg%%:*}; props=${cfg#*:}
    r=$(timeout -k 5 "${PROFILE_AB_S:-60}" "${java[@]}" $props -cp ".device/lib/*" dev.rast.cli.Main bench --model "$model" \
          --device cuda --prompt-len 512 --gen 128 --runs 3 --batch 32 --json 2>> "$out/ab.log" | tail -n 1)
    echo "$name $r" >> "$out/ab.txt"
  done
done
echo "A/B:"; cat "$out/ab.txt"

# The grouped kernel under compute-sanitizer: a tiny model, a 300-token prompt, 4 steps.
tiny=/tmp/rast-profile/tiny
timeout -k 5 60 "${java[@]}" -cp ".device/lib/*" dev.rast.cli.Main synth --arch tiny --dtype bf16 --out "$tiny" > /dev/null 2>&1
: > "$out/sanitizer.log"
for tool in racecheck synccheck; do
  timeout -k 5 "${PROFILE_SANITIZER_S:-60}" compute-sanitizer --tool "$tool" "${java[@]}" -Drast.cuda.decode-attention=grouped \
    -cp ".device/lib/*" dev.rast.cli.Main bench --model "$tiny" --device cuda --prompt-len 300 --gen 4 --runs 1 \
    >> "$out/sanitizer.log" 2>&1
  echo "$tool: exit $?" | tee -a "$out/sanitizer.log"
done
grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$out/sanitizer.log"
