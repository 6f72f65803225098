#!/usr/bin/env bash
# Benchmarks `hotkeys report` on the 1 GB generated log, with `hotkeys rank`
# on the same file in the same run as the yardstick (absolute times vary
# between runs and machines; ratios measured together are what to compare).
#
# Usage: bench/report.sh
#   - hotkeys rank --all (the cost of reading and counting the log);
#   - hotkeys report --sample-rate 0.01 and --exact, whole runs;
#   - the stack-distance pass alone (hotkeys times it and says so on
#     stderr): requests per second on one core, exact and sampled;
#   - peak memory, and how far the sampled curves (R = 0.1 and 0.01) are
#     from the exact one on the same ten capacities.
# The log is generated once into $BENCH_WORK (default bench/work) with the
# project's generator, the same file as bench/rank.sh; each command runs
# $BENCH_RUNS times (default 3) and its best time is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_WORK:-bench/work}
runs=${BENCH_RUNS:-3}
mkdir -p "$work"

cargo build --profile dist --quiet -p hotkeys-cli -p hotkeys-loggen
hotkeys=target/dist/hotkeys
loggen=target/dist/hotkeys-loggen
export LC_ALL=C

# best_time CMD...: the best wall time of $runs runs, in seconds.
best_time() {
  local best="" t0 t1 t
  for _ in $(seq "$runs"); do
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    t=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%.3f' "$best"
}

ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

machine() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "hotkeys: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

log=$work/rank-1g.log
[ -s "$log" ] || "$loggen" --lines 4500000 --keys 500000 --zipf 1.0 --duration 7d -o "$log"

# Ten object capacities, 0.1% to 80% of the 500k keys of the generator.
sizes=500,1000,2000,5000,10000,25000,50000,100000,200000,400000

rank() { "$hotkeys" rank --all --top 100 --quiet "$log"; }
report_sampled() { "$hotkeys" report --all --sample-rate 0.01 --cache-sizes "$sizes" --quiet --format json "$log"; }
report_exact() { "$hotkeys" report --all --exact --cache-sizes "$sizes" --quiet --format json "$log"; }

# pass NAME ARGS...: the stderr line "hit-ratio curve: ... in 0.940s,
# 4.8M requests/s" of the fastest of $runs runs; the report goes to
# $work/report-NAME.json.
pass() {
  local name=$1 best="" bestline="" line t
  shift
  for _ in $(seq "$runs"); do
    line=$("$hotkeys" report --all "$@" --cache-sizes "$sizes" --format json -o "$work/report-$name.json" "$log" 2>&1 >/dev/null |
      grep 'hit-ratio curve')
    t=$(echo "$line" | sed -E 's/.* in ([0-9.]+)s.*/\1/')
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; bestline=$line; fi
  done
  echo "$bestline" | sed 's/^hotkeys: //'
}

peak_rss_mib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%d", $1 / 1024}'; }

# The hit ratios of hit_ratio_curve in a JSON report, one per line.
curve() { awk '/"hit_ratio_curve": \[/ {on = 1} on && /^ *"hit_ratio": / {gsub(/[",]/, "", $2); print $2} on && /^  \]/ {on = 0}' "$1"; }

machine
echo "== report: $(du -h "$log" | cut -f1) combined log, 4.5M lines, 500k keys, Zipf 1.0, one week"
cat "$log" >/dev/null  # same page cache state for everyone
rk=$(best_time rank)
rs=$(best_time report_sampled)
re=$(best_time report_exact)
printf '%-52s %8ss\n' "hotkeys rank --all --top 100" "$rk"
printf '%-52s %8ss  %sx the time of rank\n' "hotkeys report --sample-rate 0.01 (whole run)" "$rs" "$(ratio "$rs" "$rk")"
printf '%-52s %8ss  %sx the time of rank\n' "hotkeys report --exact (whole run)" "$re" "$(ratio "$re" "$rk")"
echo "stack-distance pass, one core (best of $runs):"
echo "  $(pass exact --exact)"
echo "  $(pass r01 --sample-rate 0.1)"
echo "  $(pass r001 --sample-rate 0.01)"
printf 'peak RSS: rank %s MiB, report --sample-rate 0.01 %s MiB, report --exact %s MiB\n' \
  "$(peak_rss_mib "$hotkeys" rank --all --top 100 --quiet "$log")" \
  "$(peak_rss_mib "$hotkeys" report --all --sample-rate 0.01 --quiet --format json "$log")" \
  "$(peak_rss_mib "$hotkeys" report --all --exact --quiet --format json "$log")"
for name in r01 r001; do
  paste <(curve "$work/report-exact.json") <(curve "$work/report-$name.json") |
    awk -v name="$name" '{d = $1 - $2; if (d < 0) d = -d; s += d; if (d > m) m = d; n++}
      END {printf "sampled (%s) against exact on %d capacities: mean absolute error %.4f, largest %.4f\n", name == "r01" ? "R = 0.1" : "R = 0.01", n, s / n, m}'
done
