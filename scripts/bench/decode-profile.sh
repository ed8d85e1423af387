#!/usr/bin/env bash
# Where a CPU decode step's time goes (dev.rast.bench.DecodeProfile): each op's calls, µs per call, ms per step and
# share of the step, matmuls' GB/s against the bare read measured in the same run.
#
#   scripts/bench/decode-profile.sh MODEL_DIR [--threads N] [--prompt N] [--steps N] [--dtype auto|f32|bf16|q8_0|q4_0] [--limits N] [--prefill N]
#   (--limits N: N bare-read limits back to back, each the median of 9 passes, and their spread; no decode)
#   (--prefill N: N prefills of the prompt profiled by op instead of decode steps, matmuls with their GMAC/s)
#   e.g. rast synth --arch qwen2.5-0.5b --dtype bf16 --out /tmp/q05 && scripts/bench/decode-profile.sh /tmp/q05 --threads 2
#
# JMH_SKIP_BUILD=1 skips the build.
source "$(dirname "${BASH_SOURCE[0]}")/bench-java.sh"
exec "${BENCH_JAVA[@]}" -Xmx2g -cp "bench/target/lib/*:bench/target/classes" dev.rast.bench.DecodeProfile "$@"
