#!/usr/bin/env bash
# Three Stratus nodes on this machine (issue 19): the packaged jar as three processes on one PostgreSQL database (a
# server the benchmark starts itself with pg_ctl, in a temporary directory, with PostgreSQL's default durability) and
# one nats-server with JetStream, everything on 127.0.0.1. Measures same-node and cross-node latency at QoS 0 and 1,
# the highest QoS 1 rate across nodes at p99 < 50 ms, takeovers of a client id by another node, CONNACK and offline
# status after a SIGKILL, and QoS 1 to a persistent subscriber while nodes are SIGKILLed and restarted
# (io.stratus.it.ClusterBench, in the test sources). Prints the machine, then a Markdown table. About 4.5 minutes;
# --quick about 2.5. `--only 5 --faults full` runs part 5 alone on the issue's whole fault schedule instead of 4 kills
# (20 node SIGKILLs, a nats-server SIGKILL and restart, a PostgreSQL restart; 12,625 messages): about 10 minutes.
# Options: bench/cluster.sh --help. The nodes' logs are left in $STRATUS_BUILD_DIR/cluster-bench-logs.
# Environment: STRATUS_BUILD_DIR (default target) is where the jar and the test classes are built;
# SKIP_BUILD=1 uses what is built there already.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nats-server; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "$tool is not installed" >&2; exit 1; }
done

BUILD_DIR=${STRATUS_BUILD_DIR:-target}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # Packages the server jar and compiles the test sources (ClusterBench and the cluster harness); runs no tests.
  mvn -q -B -DskipTests -Dstratus.build.dir="$BUILD_DIR" package
fi
BUILD_DIR=$(realpath "$BUILD_DIR")
[ -f "$BUILD_DIR/stratus.jar" ] && [ -f "$BUILD_DIR/test-classes/io/stratus/it/ClusterBench.class" ] || {
  echo "no stratus.jar or ClusterBench.class under $BUILD_DIR: build without SKIP_BUILD=1" >&2; exit 1; }

# The test dependencies (Paho, Jackson, the PostgreSQL driver, ...), from the local repository when it has them.
CLASSPATH_FILE="$BUILD_DIR/cluster-bench.classpath"
if [ ! -s "$CLASSPATH_FILE" ] || [ pom.xml -nt "$CLASSPATH_FILE" ]; then
  mvn -q -B -o dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE" -Dmdep.includeScope=test \
      -Dstratus.build.dir="$BUILD_DIR" \
    || mvn -q -B dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE" -Dmdep.includeScope=test \
      -Dstratus.build.dir="$BUILD_DIR"
fi

NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
POSTGRES=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)
echo "## Machine"
echo "- cores (nproc): $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "- RAM: $(free -h | awk '/^Mem:/ {print $2}'); kernel $(uname -r)"
echo "- java: $(java -version 2>&1 | head -n 2 | tr '\n' ' ')"
echo "- nats-server: $("$NATS" --version 2>&1)"
echo "- postgres: $([ -n "$POSTGRES" ] && "$POSTGRES" --version || echo 'from pg_config --bindir')"
if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "- git commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src/main pom.xml || echo ' (with uncommitted changes in src/main or pom.xml)')"
else # e.g. a `git archive` export: STRATUS_COMMIT names what was exported
  echo "- git commit: ${STRATUS_COMMIT:-unknown (not a git checkout)}"
fi
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

exec java -Xmx1g -Dstratus.jar="$BUILD_DIR/stratus.jar" \
  -cp "$BUILD_DIR/test-classes:$BUILD_DIR/classes:$(cat "$CLASSPATH_FILE")" io.stratus.it.ClusterBench \
  --logs "$BUILD_DIR/cluster-bench-logs" "$@"
