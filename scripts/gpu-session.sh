#!/usr/bin/env bash
# One device call for a whole GPU session: scripts/gpu-check.sh (tests, GEMM, decode vs PyTorch) and then
# scripts/gpu-profile.sh (Nsight Compute, A/B/C of the decode switches, compute-sanitizer), their files packed into
# $OUT/gpu-session.tgz (the device tool returns at most 8 files), the report and the A/B beside it for a quick look.
#     bash scripts/gpu-session.sh        # with .device/ carried (scripts/prepare-device.sh); at most ~9.5 minutes:
#                                        # run it with the device tool's timeout_s at 600
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/out}
work=$(mktemp -d)
mkdir -p "$out" "$work/check" "$work/profile"
# Within the device tool's 10 minutes a command: at most 330 s for the check (its own budget, the RAST step
# included) and 230 s for the profile (cut off there; whatever it wrote by then is kept).
OUT=$work/check GPU_CHECK_BUDGET=${GPU_CHECK_BUDGET:-330} bash "$root/scripts/gpu-check.sh"
OUT=$work/profile PROFILE_AB_ROUNDS=${PROFILE_AB_ROUNDS:-1} PROFILE_SANITIZER_S=${PROFILE_SANITIZER_S:-40} \
  timeout -k 5 "${GPU_SESSION_PROFILE_S:-230}" bash "$root/scripts/gpu-profile.sh"
tar -C "$work" -czf "$out/gpu-session.tgz" check profile
cp "$work/check/gpu-report.md" "$out/" 2>/dev/null
cp "$work/profile/ab.txt" "$out/" 2>/dev/null
cp "$work/check/gpu-figures.json" "$out/" 2>/dev/null  # copy to docs/gpu-figures.json
echo "gpu-session: $out/gpu-session.tgz ($(du -k "$out/gpu-session.tgz" | cut -f1) KB)"
