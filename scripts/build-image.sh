#!/usr/bin/env bash
# Builds the rast runtime image, rast-VERSION-OS-ARCH.tar.gz: one top folder with
#   bin/rast        the image's launcher (cli/src/image/bin/rast): no JDK, Maven or network needed
#   runtime/        a jlink'ed Java runtime with only the modules rast uses
#   lib/*.jar       rast's jars and their dependencies (cli/target/lib, as copy-dependencies leaves them)
#   lib/rast.aot    an AOT cache (JDK 25's successor of AppCDS: classes loaded and linked ahead of time), recorded
#                   from ImageTraining's run of the real commands
# The runtime is stored uncompressed (zip-0): the .tar.gz is smaller that way than with jlink's own compression,
# and classes load without inflating.
# Run by `./mvnw -P image -DskipTests package` (the cli module's image profile), after the jars are built:
#   scripts/build-image.sh VERSION CLI_TARGET_DIR
set -euo pipefail
version="$1"
target="$(cd "$2" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
: "${JAVA_HOME:?JAVA_HOME must name a JDK 25 (jlink comes from it)}"

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=macos ;; *) os="$(uname -s | tr '[:upper:]' '[:lower:]')" ;; esac
case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=aarch64 ;; *) arch="$(uname -m)" ;; esac
name="rast-$version-$os-$arch"
stage="$target/image"
top="$stage/$name"
rm -rf "$stage" "$target/$name.tar.gz"
mkdir -p "$top/bin" "$top/lib"

# The modules jdeps finds in the jars (jdeps --print-module-deps over cli/target/lib): java.desktop for java.beans, which
# Jinjava's template engine uses; java.sql for Jackson's optional java.sql types; java.net.http for the Hub
# client; jdk.unsupported for Guava; jdk.incubator.vector for the CPU kernels. FFM (the CUDA backend) is java.base.
modules=java.base,java.desktop,java.logging,java.net.http,java.sql,jdk.incubator.vector,jdk.unsupported
echo "build-image: jlink $modules"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress zip-0 \
  --output "$top/runtime"

cp "$target"/lib/*.jar "$top/lib/"
cp "$target"/rast-cli-"$version".jar "$top/lib/"
cp "$root/cli/src/image/bin/rast" "$top/bin/rast"
chmod +x "$top/bin/rast"

echo "build-image: recording the AOT cache (ImageTraining)"
# The same JVM options as bin/rast: a cache is used only by a JVM started the way it was recorded.
"$top/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -Xlog:disable -Xlog:all=warning,aot=off,cds=off:stderr -XX:AOTCacheOutput="$top/lib/rast.aot" \
  -cp "$top/lib/*" dev.rast.cli.ImageTraining > "$stage/training.log" 2>&1 \
  || { cat "$stage/training.log" >&2; echo "build-image: the training run failed" >&2; exit 1; }
[ -f "$top/lib/rast.aot" ] || { cat "$stage/training.log" >&2; echo "build-image: no AOT cache was written" >&2; exit 1; }

"$top/bin/rast" --version
tar -C "$stage" -czf "$target/$name.tar.gz" "$name"
echo "build-image: $target/$name.tar.gz ($(du -m "$target/$name.tar.gz" | cut -f1) MiB packed, $(du -sm "$top" | cut -f1) MiB unpacked:" \
  "runtime $(du -sm "$top/runtime" | cut -f1), jars $(du -cm "$top"/lib/*.jar | tail -n 1 | cut -f1), AOT cache $(du -m "$top/lib/rast.aot" | cut -f1))"
