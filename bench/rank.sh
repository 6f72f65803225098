#!/usr/bin/env bash
# Benchmarks `hotkeys rank` against the commands people use today, in the
# same run, and prints ratios (absolute times vary between runs and
# machines; ratios measured together are what to compare).
#
# Usage: bench/rank.sh [plain|gz|scale|memory|all]   (default: all)
#   plain   1 GB combined log: hotkeys vs awk|sort|uniq, wc -l (read floor),
#           and GoAccess when installed (BENCH_GOACCESS=1: it takes minutes)
#   gz      the same log as 4 rotated .gz files: hotkeys vs zcat, 2 at a time
#   scale   250 MB, 500 MB and 1 GB: time grows linearly with input size
#   memory  peak RSS of exact ranking on 3M distinct keys, and of
#           --max-memory 64MiB on 3M keys with its recall of the exact top 100
# Inputs are generated once into $BENCH_WORK (default bench/work) with the
# project's generator; each command runs $BENCH_RUNS times (default 3) and
# its best time is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
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

# make_log FILE LINES KEYS ZIPF: a combined log from the generator, once.
make_log() {
  [ -s "$1" ] || "$loggen" --lines "$2" --keys "$3" --zipf "$4" --duration 7d -o "$1"
}

awk_pipeline() {
  awk '{print $7}' "$1" | sort | uniq -c | sort -rn | head -100
}

hotkeys_top100() {
  "$hotkeys" rank --all --top 100 --quiet "$@"
}

machine() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "hotkeys: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

bench_plain() {
  local log=$work/rank-1g.log
  make_log "$log" 4500000 500000 1.0
  echo "== plain: $(du -h "$log" | cut -f1) combined log, 4.5M lines, 500k keys, Zipf 1.0"
  # The top-100 counts must agree before speed means anything.
  diff <(awk_pipeline "$log" | awk '{print $1}') \
       <("$hotkeys" rank --all --top 100 --quiet --format csv "$log" | awk -F, 'NR > 1 {print $3}') \
    >/dev/null || { echo "top-100 counts differ from awk|sort|uniq: not benchmarking" >&2; exit 1; }
  echo "top-100 counts: identical to awk|sort|uniq"
  cat "$log" >/dev/null  # same page cache state for everyone
  local hk awk wc
  hk=$(best_time hotkeys_top100 "$log")
  awk=$(best_time awk_pipeline "$log")
  wc=$(best_time wc -l "$log")
  printf '%-44s %8ss\n' "hotkeys rank --all --top 100" "$hk"
  printf '%-44s %8ss  hotkeys is %sx faster\n' "awk|sort|uniq -c|sort -rn|head -100" "$awk" "$(ratio "$awk" "$hk")"
  printf '%-44s %8ss  hotkeys takes %sx the read floor\n' "wc -l (read floor)" "$wc" "$(ratio "$hk" "$wc")"
  if command -v goaccess >/dev/null && [ "${BENCH_GOACCESS:-0}" = 1 ]; then
    local ga
    ga=$(runs=1 best_time goaccess "$log" --log-format=COMBINED -o /dev/null)
    printf '%-44s %8ss  hotkeys is %sx faster\n' "goaccess (1 run)" "$ga" "$(ratio "$ga" "$hk")"
  fi
}

bench_gz() {
  local log=$work/rank-1g.log dir=$work/gz
  make_log "$log" 4500000 500000 1.0
  if [ ! -s "$dir/access.log.4.gz" ]; then
    mkdir -p "$dir"
    split -n l/4 -d -a 1 "$log" "$dir/part."
    for i in 0 1 2 3; do gzip -6 -c "$dir/part.$i" >"$dir/access.log.$((i + 1)).gz" && rm "$dir/part.$i"; done
  fi
  echo "== gz: the same log as 4 rotated .gz files ($(du -ch "$dir"/*.gz | tail -1 | cut -f1))"
  local hk zc
  hk=$(best_time hotkeys_top100 "$dir"/access.log.*.gz)
  zc=$(best_time sh -c "ls $dir/access.log.*.gz | xargs -P 2 -n 1 zcat > /dev/null")
  printf '%-44s %8ss\n' "hotkeys rank --all --top 100 *.gz" "$hk"
  printf '%-44s %8ss  hotkeys takes %sx the time of decompression alone\n' "zcat, 2 at a time, to /dev/null" "$zc" "$(ratio "$hk" "$zc")"
}

bench_scale() {
  echo "== scale: time against input size (same key space)"
  local lines size log t
  for lines in 1125000 2250000 4500000; do
    log=$work/rank-$lines.log
    # The 1 GB point is the plain benchmark's log.
    [ "$lines" = 4500000 ] && log=$work/rank-1g.log
    make_log "$log" "$lines" 500000 1.0
    size=$(( $(stat -L -c %s "$log") / 1048576 ))
    cat "$log" >/dev/null
    t=$(best_time hotkeys_top100 "$log")
    printf '%6s MB  %8ss  %s s/GB\n' "$size" "$t" "$(printf '%.3f' "$(echo "$t / $size * 1024" | bc -l)")"
  done
}

bench_memory() {
  # Exact mode: about 3M distinct keys (uniform, so nearly every key occurs).
  local log=$work/rank-3m-distinct.log
  make_log "$log" 12000000 3000000 0
  local distinct rss
  distinct=$("$hotkeys" rank --all --top 1 --quiet --format json "$log" | grep -o '"distinct_keys": [0-9]*' | grep -o '[0-9]*$')
  rss=$( { /usr/bin/time -f '%M' "$hotkeys" rank --all --top 100 --quiet "$log" >/dev/null; } 2>&1 | tail -1)
  echo "== memory, exact: 12M lines over $distinct distinct keys"
  printf 'peak RSS %s MiB, %s bytes per distinct key\n' "$((rss / 1024))" "$((rss * 1024 / distinct))"

  # Bounded mode: 6M lines over 3M keys (Zipf 0.9) in 64 MiB.
  log=$work/rank-3m-keys.log
  make_log "$log" 6000000 3000000 0.9
  "$hotkeys" rank --all --top 100 --quiet --format csv "$log" >"$work/exact-top100.csv"
  rss=$( { /usr/bin/time -f '%M' "$hotkeys" rank --all --top 100 --quiet --max-memory 64MiB --format csv "$log" >"$work/bounded-top100.csv"; } 2>&1 | tail -1)
  echo "== memory, bounded: 6M lines over 3M keys (Zipf 0.9), --max-memory 64MiB"
  awk -F, '
    NR == FNR { if (FNR > 1) exact[$2] = $3; next }
    FNR > 1 { if ($2 in exact) { found++; if (exact[$2] < $13 || exact[$2] > $14) bad++ } }
    END { printf "exact top-100 keys found: %d of 100; true counts outside [requests_min, requests_max]: %d\n", found, bad + 0 }
  ' "$work/exact-top100.csv" "$work/bounded-top100.csv"
  printf 'peak RSS %s MiB\n' "$((rss / 1024))"
}

machine
case $mode in
  plain) bench_plain ;;
  gz) bench_gz ;;
  scale) bench_scale ;;
  memory) bench_memory ;;
  all) bench_plain; bench_gz; bench_scale; bench_memory ;;
  *) echo "usage: bench/rank.sh [plain|gz|scale|memory|all]" >&2; exit 1 ;;
esac
