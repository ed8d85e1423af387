#!/usr/bin/env bash
# The CPU kernel benchmarks (JMH, module bench): builds the bench module and what it needs, then runs them and prints
# one table (op, shape, dtype, tokens, time, GB/s, GFLOP/s, % of limit) against the machine's limits measured in the
# same run. docs/benchmarks.md, "Kernel benchmarks (JMH)", says how to read it.
#
#   scripts/bench/jmh.sh            quick mode: Qwen2.5-0.5B shapes, a few parameters, short iterations (minutes)
#   scripts/bench/jmh.sh full       every parameter of every benchmark, all four models' shapes (about an hour)
#   scripts/bench/jmh.sh quick --threads 1 --only attention --out /tmp/jmh.md
#
# JMH_SKIP_BUILD=1 skips the build (jars already in bench/target). Extra JVM options for the runner: JMH_JAVA_OPTS.
source "$(dirname "${BASH_SOURCE[0]}")/bench-java.sh"
# shellcheck disable=SC2086
exec "${BENCH_JAVA[@]}" ${JMH_JAVA_OPTS:-} -cp "bench/target/lib/*:bench/target/classes" dev.rast.bench.Main "$@"
