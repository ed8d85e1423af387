#!/usr/bin/env bash
# The numbers of docs/lab.md from the shipped lab checkpoints: the demo (greedy), then `rast eval` with 8 samples
# per problem at T = 1 (pass@1, pass@8) for every model and RAST λ, then `rast analyze` PCR and per-token KL on the
# samples. Needs no Python.
#
#   scripts/lab/results.sh OUT_DIR          # RAST="java ... dev.rast.cli.Main" to run a build other than bin/rast
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:?usage: scripts/lab/results.sh OUT_DIR}"
RAST="${RAST:-bin/rast}"
mkdir -p "$OUT"
LAB=cli/src/main/resources/dev/rast/cli/lab
COMMON=(--dataset "$LAB/test.jsonl" --format qwen-boxed --n 8 --temperature 1.0 --top-p 1 --max-tokens 96 --seed 0)

[ -f "$OUT/demo.txt" ] || $RAST demo --cache "$OUT/cache" --lambdas 0.5,1,1.5,2,3 | tee "$OUT/demo.txt"
for m in M M_RL E B; do
  $RAST eval --model "$LAB/$m" "${COMMON[@]}" --out "$OUT/eval-$m" > /dev/null
done
$RAST eval --model "$LAB/M" --expert "$LAB/E" --expert-base "$LAB/B" --lambda 0.5,1,2 "${COMMON[@]}" --out "$OUT/eval-rast" > /dev/null
for d in "$OUT"/eval-M "$OUT"/eval-M_RL "$OUT"/eval-E "$OUT"/eval-B "$OUT"/eval-rast/lambda-*; do
  echo "== $d"; grep -E "^\|" "$d/report.md" | head -4
done | tee "$OUT/eval.txt"

# Along M_RL's own samples: how often each configuration's greedy choice is M_RL's token (PCR), and how far each
# is from M token by token (KL).
A=(--trajectories "$OUT/eval-M_RL" --limit 200)
{
  echo "== PCR on M_RL's samples"
  for cfg in "--model $LAB/M" "--model $LAB/M_RL" "--model $LAB/M --expert $LAB/E --expert-base $LAB/B --lambda 1" \
             "--model $LAB/M --expert $LAB/E --expert-base $LAB/B --lambda 2"; do
    echo "-- $cfg"; $RAST analyze pcr "${A[@]}" $cfg --json | grep -o '"mean": *[0-9.]*' || true
  done
  echo "== KL against M on M_RL's samples"
  $RAST analyze kl "${A[@]}" --model "$LAB/M_RL" --against-model "$LAB/M" --out "$OUT/kl-mrl"
  $RAST analyze kl "${A[@]}" --model "$LAB/M" --expert "$LAB/E" --expert-base "$LAB/B" --lambda 1 --out "$OUT/kl-rast"
} | tee "$OUT/analyze.txt"
