#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no JDK and no Maven into .device/ (git-ignored,
# under 64 MiB so it can be carried to that machine):
#   .device/jdk.tgz                a jlink'ed Java 25 runtime (only the modules rast and JUnit use, no debug info,
#                                  zip-9), packed: gpu-check.sh unpacks it there
#   .device/lib/*.jar              rast's jars, jackson-core, picocli, JUnit Jupiter and the JUnit Platform launcher
#   .device/classes/kernels-test/  the CUDA test classes (GpuTargets, DeviceTestMain, GpuBench, ...)
#   .device/classes/tests-test/    the whole-model test classes; their fixtures are read from tests/src/test/resources,
#                                  which travels with the working tree anyway (a copy would count twice)
# Run here, with JDK 25:  scripts/prepare-device.sh      (then carry .device along with the working tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
out=.device
rm -rf "$out"
mkdir -p "$out/lib" "$out/classes"

echo "prepare-device: building jars (tests skipped)"
./mvnw -o -q package dependency:copy-dependencies -DskipTests -pl tests -am -DincludeScope=test -DexcludeTypes=test-jar \
  -DoutputDirectory="$root/$out/lib"
# The command line's runtime jars (picocli), for `rast synth` and `rast bench`; -n: what copy-dependencies just
# wrote wins over an older copy left in cli/target/lib.
cp -n cli/target/lib/*.jar "$out/lib/"
# Test classes travel as folders (below); a tests jar would come first on the class path, and may be stale.
rm -f "$out"/lib/*-tests.jar
# Chat templates (Jinjava and its ~8 MB of dependencies) are not used by the GPU check; leaving them out keeps the
# carried folder under the device tool's 64 MiB. jackson-core stays: the engine reads config.json, safetensors
# headers and tokenizer.json with it. The other Jackson jars are Jinjava's alone.
(cd "$out/lib" && rm -f jinjava-*.jar guava-*.jar failureaccess-*.jar listenablefuture-*.jar \
  jackson-databind-*.jar jackson-annotations-*.jar jackson-dataformat-*.jar jackson-datatype-*.jar \
  snakeyaml-*.jar re2j-*.jar commons-lang3-*.jar algebra-*.jar immutables-*.jar slf4j-api-*.jar)
cp -r kernels/target/test-classes "$out/classes/kernels-test"
mkdir -p "$out/classes/tests-test"
cp -r tests/target/test-classes/dev "$out/classes/tests-test/"
# The emulator sources are not needed on the GPU machine (targets = cuda there).

# The commit the device measures (it gets the working tree without .git): gpu-check.sh puts it in gpu-figures.json.
c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || c="$c-dirty"
echo "$c" > "$out/commit"

echo "prepare-device: jlink runtime"
# What rast and JUnit use (jdeps also lists java.sql, which only picocli's optional type converters need), and
# jdk.jfr for a flight recording of a GPU run's host side.
mods=java.base,java.logging,java.management,jdk.incubator.vector,jdk.unsupported,jdk.jfr
"$JAVA_HOME/bin/jlink" --add-modules "$mods" --strip-debug --no-header-files --no-man-pages --compress zip-9 \
  --strip-native-debug-symbols exclude-debuginfo-files --output "$out/jdk"
"$out/jdk/bin/java" --list-modules | tr '\n' ' '; echo
# The working tree travels too (about 18 MiB), all under the device tool's 64 MiB: the runtime goes packed.
tar -C "$out" -czf "$out/jdk.tgz" jdk && rm -rf "$out/jdk"

size=$(du -sm "$out" | cut -f1)
tree=$(( $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1) / 1048576 ))
echo "prepare-device: $out is ${size} MiB ($(du -sm "$out/jdk.tgz" | cut -f1) MiB runtime, $(du -sm "$out/lib" | cut -f1) MiB jars, $(du -sm "$out/classes" | cut -f1) MiB test classes)"
echo "prepare-device: with the working tree's ${tree} MiB, $(( size + tree )) MiB travel"
if [ $(( size + tree )) -ge 63 ]; then echo "prepare-device: over the 64 MiB that can travel to the device" >&2; exit 1; fi
