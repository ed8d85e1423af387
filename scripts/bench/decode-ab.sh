#!/usr/bin/env bash
# Two builds of rast in one process, alternating prefill, decode and batched decode (dev.rast.bench.DecodeAB): the
# way to compare a CPU change with what came before on a machine whose speed moves from minute to minute.
#
#   git stash / checkout the base; ./mvnw -o -q package -DskipTests -pl cli -am; cp -r cli/target/lib /tmp/lib-a
#   back to the change;             ./mvnw -o -q package -DskipTests -pl cli -am
#   scripts/bench/decode-ab.sh /tmp/lib-a cli/target/lib MODEL_DIR [--threads 2] [--rounds 6] [--steps 16] [--batch 8] [--dtype auto|f32|bf16|q8_0|q4_0]
#
# JMH_SKIP_BUILD=1 skips building the bench module itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
if [ "${JMH_SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -o -B -q package -DskipTests -pl bench -am
fi
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g \
  -cp "bench/target/classes" dev.rast.bench.DecodeAB "$@"
