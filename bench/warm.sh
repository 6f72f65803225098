#!/usr/bin/env bash
# Benchmarks `hotkeys warm` against loading the same data with
# `redis-cli --pipe`, in the same run, and prints the ratio (absolute
# times vary between runs and machines; ratios measured together are what
# to compare).
#
# Usage: bench/warm.sh [copy|http|all]   (default: all)
#   copy  200k keys of 100 bytes: hotkeys warm --overwrite from a Redis
#         origin into a second Redis, against redis-cli --pipe loading the
#         same 200k SETs (`SET key value PX 3600000`, the command hotkeys
#         sends: a warmed key always has a TTL). A copy needs a read and a
#         write per key, so 0.5 is the ideal ratio pipe_time / warm_time;
#         the target is >= 0.45. Loading SETs without a TTL is timed too,
#         for reference: Redis does less work for those.
#   http  keys/s from an HTTP origin (hotkeys-bench-origin, 100-byte
#         bodies) at --concurrency 64.
# Both redis-servers (and the HTTP origin) are started by the script on
# free loopback ports and stopped at the end, also on failure. Inputs go
# to $BENCH_WORK (default bench/work); each command runs $BENCH_RUNS times
# (default 3) and its best time is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
work=${BENCH_WORK:-bench/work}
runs=${BENCH_RUNS:-3}
keys=${BENCH_KEYS:-200000}
http_keys=${BENCH_HTTP_KEYS:-50000}
mkdir -p "$work"
export LC_ALL=C

for tool in redis-server redis-cli bc; do
  command -v "$tool" >/dev/null || { echo "bench/warm.sh: $tool is needed" >&2; exit 1; }
done
cargo build --profile dist --quiet -p hotkeys-cli -p hotkeys-testkit
hotkeys=target/dist/hotkeys
bench_origin=target/dist/hotkeys-bench-origin

pids=()
dirs=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in "${dirs[@]}"; do rm -rf "$dir"; done
}
trap cleanup EXIT

# free_port: a loopback port nothing listens on (never 6379).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    [ "$port" != 6379 ] || continue
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# start_redis VAR: starts a redis-server without persistence and sets VAR
# to its port. (Not run in $(...): the server must be a child of this
# shell, so that the EXIT trap stops it.) A port taken between the check
# and the bind makes redis-server exit; another port is then tried.
start_redis() {
  local var=$1 port dir pid
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hotkeys-bench-redis.XXXXXX")
  dirs+=("$dir")
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$dir" --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do
      if redis-cli -p "$port" ping >/dev/null 2>&1; then
        printf -v "$var" '%s' "$port"
        return
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
  done
  echo "redis-server did not start; its log:" >&2
  tail -5 "$dir/redis.log" >&2
  exit 1
}

# seconds CMD...: the wall time of one run of CMD, in seconds.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# min A B: the smaller of two times (B may be empty).
min() { if [ -z "$2" ] || [ "$(echo "$1 < $2" | bc -l)" = 1 ]; then echo "$1"; else echo "$2"; fi; }

ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

machine() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "hotkeys: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(redis-server --version | cut -d' ' -f1-3)"
}

# make_inputs: RESP streams of $keys SETs of 100-byte values for
# redis-cli --pipe (with the TTL hotkeys writes, and without), the same
# keys as a plain list, and HTTP paths.
make_inputs() {
  local resp=$work/warm-sets-px-$keys.resp plain=$work/warm-sets-$keys.resp
  if [ ! -s "$resp" ] || [ ! -s "$plain" ]; then
    awk -v n="$keys" -v px="$resp" -v plain="$plain" 'BEGIN {
      value = sprintf("%0100d", 0); gsub(/0/, "v", value)
      for (i = 1; i <= n; i++) {
        key = sprintf("key:%07d", i)
        printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n$2\r\nPX\r\n$7\r\n3600000\r\n", length(key), key, value >px
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(key), key, value >plain
      }
    }'
  fi
  [ -s "$work/warm-keys-$keys.txt" ] || seq -f 'key:%07g' 1 "$keys" >"$work/warm-keys-$keys.txt"
  [ -s "$work/warm-paths-$http_keys.txt" ] || seq -f '/items/%07g' 1 "$http_keys" >"$work/warm-paths-$http_keys.txt"
}

flush_target() { redis-cli -p "$target" flushall >/dev/null; }

check_target() {
  [ "$(redis-cli -p "$target" dbsize)" = "$1" ] || { echo "$2 did not store every key" >&2; exit 1; }
}

pipe_load() { redis-cli -p "$target" --pipe <"$1"; }

warm_copy() {
  "$hotkeys" warm "$work/warm-keys-$keys.txt" --origin "redis://127.0.0.1:$origin" \
    --redis "redis://127.0.0.1:$target" --overwrite --quiet
}

keys_per_second() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }

bench_copy() {
  start_redis origin
  start_redis target
  redis-cli -p "$origin" --pipe <"$work/warm-sets-$keys.resp" >/dev/null
  echo "== copy: $keys keys of 100 bytes, Redis origin -> Redis (--overwrite), best of $runs"
  # Interleaved, so that a busy moment on a shared machine hits all three alike.
  local pipe="" plain="" warm="" t
  for _ in $(seq "$runs"); do
    flush_target; t=$(seconds pipe_load "$work/warm-sets-px-$keys.resp"); check_target "$keys" "redis-cli --pipe"; pipe=$(min "$t" "$pipe")
    flush_target; t=$(seconds warm_copy); check_target "$keys" "hotkeys warm"; warm=$(min "$t" "$warm")
    flush_target; t=$(seconds pipe_load "$work/warm-sets-$keys.resp"); check_target "$keys" "redis-cli --pipe"; plain=$(min "$t" "$plain")
  done
  [ "$(redis-cli -p "$target" get key:0000001)" = "$(redis-cli -p "$origin" get key:0000001)" ] || { echo "values differ" >&2; exit 1; }
  printf '%-56s %7.3fs  %s keys/s\n' "redis-cli --pipe, SET key value PX 3600000" "$pipe" "$(keys_per_second "$keys" "$pipe")"
  printf '%-56s %7.3fs  %s keys/s\n' "hotkeys warm --overwrite (MGET+PTTL, SET ... PX)" "$warm" "$(keys_per_second "$keys" "$warm")"
  printf '%-56s %7.3fs  %s keys/s\n' "redis-cli --pipe, SET key value (no TTL; reference)" "$plain" "$(keys_per_second "$keys" "$plain")"
  printf 'ratio pipe_time / warm_time, same SETs:  %s (ideal 0.5, target >= 0.45)\n' "$(ratio "$pipe" "$warm")"
  printf 'ratio against SETs without a TTL:        %s (reference)\n' "$(ratio "$plain" "$warm")"
}

warm_http() {
  "$hotkeys" warm "$work/warm-paths-$http_keys.txt" --origin "http://127.0.0.1:$http_port" \
    --redis "redis://127.0.0.1:$target" --overwrite --concurrency 64 --quiet
}

bench_http() {
  start_redis target
  local port_file=$work/bench-origin.port
  rm -f "$port_file"
  "$bench_origin" --size 100 >"$port_file" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.05; done
  http_port=$(cat "$port_file")
  echo "== http: $http_keys keys of 100 bytes from an HTTP origin, --concurrency 64, best of $runs"
  local best="" t
  for _ in $(seq "$runs"); do
    flush_target; t=$(seconds warm_http); check_target "$http_keys" "hotkeys warm"; best=$(min "$t" "$best")
  done
  printf '%-56s %7.3fs  %s keys/s\n' "hotkeys warm from HTTP (concurrency 64)" "$best" "$(keys_per_second "$http_keys" "$best")"
}

machine
make_inputs
case $mode in
  copy) bench_copy ;;
  http) bench_http ;;
  all) bench_copy; bench_http ;;
  *) echo "usage: bench/warm.sh [copy|http|all]" >&2; exit 1 ;;
esac
