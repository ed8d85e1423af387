#!/usr/bin/env bash
# Two builds of rast in one process, alternating prefill, decode and batched decode (dev.rast.bench.DecodeAB): the
# way to compare a CPU change with what came before on a machine whose speed moves from minute to minute.
#
#   git stash / checkout the base; ./mvnw -o -q package -DskipTests -pl cli -am; cp -r cli/target/lib /tmp/lib-a
#   back to the change;             ./mvnw -o -q package -DskipTests -pl cli -am
#   scripts/bench/decode-ab.sh /tmp/lib-a cli/target/lib MODEL_DIR [--threads 2] [--rounds 6] [--steps 16] [--batch 8] [--dtype auto|f32|bf16|q8_0|q4_0]
#
# JMH_SKIP_BUILD=1 skips building the bench module itself.
source "$(dirname "${BASH_SOURCE[0]}")/bench-java.sh"
exec "${BENCH_JAVA[@]}" -Xmx4g -cp "bench/target/classes" dev.rast.bench.DecodeAB "$@"
