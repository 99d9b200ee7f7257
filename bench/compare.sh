#!/usr/bin/env bash
# Stratus side by side with Mosquitto on this machine: scenarios a-d and g-j against both (same client code,
# alternating, median of 3 runs; i: QoS 1 PUBACK latency at fixed offered rates; j: a reconnect storm of
# persistent sessions, cut with `ss -K`, which needs root), then $dp ingest, history query and start-up against
# Stratus alone, on each store (--stores sqlite,postgresql: PostgreSQL when installed under /usr/lib/postgresql,
# as a temporary cluster the benchmark starts and stops itself), and optionally `stratus migrate` (--migrate-points N).
# Prints a Markdown table. Options: bench/compare.sh --help (e.g. --quick for a short run).
# Environment: STRATUS_BUILD_DIR (default target) is where the jar and the load tool are built;
# SKIP_BUILD=1 uses what is built there already.
set -euo pipefail
cd "$(dirname "$0")/.."

MOSQUITTO=$(command -v mosquitto || true)
[ -z "$MOSQUITTO" ] && [ -x /usr/sbin/mosquitto ] && MOSQUITTO=/usr/sbin/mosquitto
if [ -z "$MOSQUITTO" ]; then
  echo "mosquitto is not installed; install it with: apt-get install -y mosquitto" >&2
  exit 1
fi

# The idle-connection scenario opens ~19,000 sockets in the load tool and in each server: raise the
# open-files limit as far as this shell may (children inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

BUILD_DIR=${STRATUS_BUILD_DIR:-target}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # Packages the server jar and compiles the load tool (test sources); runs no tests.
  mvn -q -B -DskipTests -Dstratus.build.dir="$BUILD_DIR" package
fi

# Absolute, because each server runs in its own work directory.
BUILD_DIR=$(realpath "$BUILD_DIR")
exec java -Xmx1g -cp "$BUILD_DIR/test-classes:$BUILD_DIR/stratus.jar" io.stratus.bench.Compare \
  --jar "$BUILD_DIR/stratus.jar" --mosquitto "$MOSQUITTO" "$@"
