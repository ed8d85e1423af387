# Sourced by the scripts beside it: goes to the repository root, finds JDK 25, builds the bench module (unless
# JMH_SKIP_BUILD=1), and sets BENCH_JAVA to the java command with the Vector API and native access its tools need.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
if [ "${JMH_SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -o -B -q package -DskipTests -pl bench -am
fi
BENCH_JAVA=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
