#!/usr/bin/env bash
# fuzz_model's speed target (issue #5): under libFuzzer with ASan+UBSan it
# should reach at least 30% of the exec/s of fuzz_trivial, a target that does
# nearly nothing, built the same way on the same machine.
#
# Runs fuzz_trivial, then fuzz_model, each for SECONDS on one core from a
# fresh copy of the same seed corpus (corpus/fuzz_model) with the same flags,
# prints both exec/s (libFuzzer's stat::average_exec_per_sec), the ratio, and
# the transition rows fuzz_model's final corpus reaches (threeway decode
# --rows). The corpora live in a temporary directory (on /dev/shm when there
# is one: new units are files, and a disk makes the count depend on it).
#
# Usage: fuzzers/speed.sh [--seconds N] [--bin DIR] [--min PCT] [-- LIBFUZZER_FLAG...]
#   defaults: 60 s each, build-libfuzzer/bin, no minimum (exit 0);
#   with --min, exit 1 when the ratio is below PCT percent.
#   The flags after -- go to both targets (default: fuzz_model's .options:
#   -max_len=1024).
# Needs the libfuzzer preset; the default preset for the rows (build/bin/threeway).
#
#        fuzzers/speed.sh --diff [--seconds N] [--bin DIR] [--min EXECS]
#   fuzz_diff_linux's target (5,000 exec/s): runs it for SECONDS on one core
#   from the same seeds, divergences kept aside (TW_DIFF_KEEP_GOING) so the
#   run goes on, and prints exec/s and how many divergences it kept.
#   Default --bin: build-libfuzzer-fast/bin if built, else build-libfuzzer/bin.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=60
bin=build-libfuzzer/bin
min=
diff=0
flags=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --min) min=$2; shift 2 ;;
    --diff) diff=1; shift ;;
    --) shift; flags=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "fuzzers/speed.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
[ ${#flags[@]} -gt 0 ] || flags=(-max_len=1024)
if [ $diff -eq 1 ] && [ "$bin" = build-libfuzzer/bin ] && [ -x build-libfuzzer-fast/bin/fuzz_diff_linux ]; then
  bin=build-libfuzzer-fast/bin
fi
targets=(fuzz_trivial fuzz_model); [ $diff -eq 1 ] && targets=(fuzz_diff_linux)
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "fuzzers/speed.sh: $bin/$t not built (cmake --preset libfuzzer && cmake --build --preset libfuzzer)" >&2; exit 2; }
done
tmp_root=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && tmp_root=/dev/shm
work=$(mktemp -d "$tmp_root/tw-fuzz-speed.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
pin=(); command -v taskset >/dev/null && pin=(taskset -c "$(( $(nproc) - 1 ))")

run() { # target -> exec/s on stdout
  local t=$1
  mkdir -p "$work/$t"
  cp corpus/fuzz_model/* "$work/$t/"
  "${pin[@]}" "$bin/$t" -max_total_time="$seconds" -print_final_stats=1 "${flags[@]}" "$work/$t" \
    > "$work/$t.log" 2>&1
  local e
  e=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log")
  [ -n "$e" ] || { echo "fuzzers/speed.sh: $t did not finish; its log:" >&2; tail -20 "$work/$t.log" >&2; exit 2; }
  echo "$e"
}

if [ $diff -eq 1 ]; then
  mkdir -p "$work/kept"
  echo "fuzzers/speed.sh: fuzz_diff_linux ($bin), $seconds s, one core, flags: ${flags[*]}, load $(cut -d' ' -f1-3 /proc/loadavg)"
  e=$(TW_DIFF_KEEP_GOING="$work/kept" run fuzz_diff_linux) || exit 2
  echo "fuzz_diff_linux: $e exec/s ($(ls "$work/kept" | wc -l) divergences kept aside)"
  if [ -n "$min" ] && [ "$e" -lt "$min" ]; then
    echo "fuzzers/speed.sh: below the target of $min exec/s" >&2
    exit 1
  fi
  exit 0
fi
echo "fuzzers/speed.sh: $seconds s each, one core, flags: ${flags[*]}, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
trivial=$(run fuzz_trivial) || exit 2
model=$(run fuzz_model) || exit 2
pct=$(awk -v m="$model" -v t="$trivial" 'BEGIN { printf "%.1f", 100 * m / t }')
echo "fuzz_trivial: $trivial exec/s"
echo "fuzz_model:   $model exec/s ($pct% of fuzz_trivial)"
grep -E '^#[0-9]+[[:space:]]+DONE' "$work/fuzz_model.log" | sed 's/^/fuzz_model:   /'
if [ -x build/bin/threeway ]; then
  echo "fuzz_model rows: $(build/bin/threeway decode --rows "$work/fuzz_model"/* 2>/dev/null | tr '\n' ' ')"
fi
if [ -n "$min" ] && awk -v p="$pct" -v m="$min" 'BEGIN { exit !(p < m) }'; then
  echo "fuzzers/speed.sh: below the target of $min%" >&2
  exit 1
fi
exit 0
