#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build: the unprivileged targets (fuzz_model,
# fuzz_segment, fuzz_script, fuzz_pcap when present) with the engine's
# conventional variables: $CC $CFLAGS $LIB_FUZZING_ENGINE $OUT ($SRC, $WORK
# optional). Each target gets a seed corpus zip, a .dict and a .options.
# fuzz_diff_linux needs CAP_NET_ADMIN (a TAP device) and is not built here.
# Try it locally:
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out fuzzers/oss-fuzz/build.sh
src=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -d "$src/threeway" ] && src=$src/threeway
work=${WORK:-$(mktemp -d)}
: "${OUT:?set OUT}" "${CC:=clang}" "${CFLAGS:=}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
mkdir -p "$OUT" "$work/obj"

flags=(-std=c11 -D_GNU_SOURCE -g -I"$src/target" -I"$src/harness")
# Coverage only where there is something to explore (fuzzers/coverage-ignore.txt).
if $CC -fsanitize-coverage-ignorelist=/dev/null -x c -c -o /dev/null /dev/null 2>/dev/null; then
  flags+=(-fsanitize-coverage-ignorelist="$src/fuzzers/coverage-ignore.txt")
fi

objs=()
for f in "$src"/target/*.c "$src"/harness/*.c; do
  case $(basename "$f") in main.c) continue ;; esac
  o=$work/obj/$(basename "$(dirname "$f")")_$(basename "$f" .c).o
  # shellcheck disable=SC2086
  $CC $CFLAGS "${flags[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
libs=()
if pkg-config --exists libpcap 2>/dev/null; then libs+=($(pkg-config --libs libpcap)); else libs+=(-lpcap); fi

for t in fuzz_model fuzz_segment fuzz_script fuzz_pcap; do
  [ -f "$src/fuzzers/$t.c" ] || continue
  extra=()
  [ "$t" = fuzz_model ] && case "$LIB_FUZZING_ENGINE" in *fuzzer*) extra+=(-DTW_FUZZ_CUSTOM_MUTATOR=1) ;; esac
  # shellcheck disable=SC2086
  $CC $CFLAGS "${flags[@]}" "${extra[@]}" -c "$src/fuzzers/$t.c" -o "$work/obj/$t.o"
  # shellcheck disable=SC2086
  ${CXX:-clang++} $CFLAGS $LIB_FUZZING_ENGINE "$work/obj/$t.o" "${objs[@]}" "${libs[@]}" -o "$OUT/$t"
  [ -f "$src/fuzzers/$t.dict" ] && cp "$src/fuzzers/$t.dict" "$OUT/$t.dict"
  {
    echo "[libfuzzer]"
    [ -f "$src/fuzzers/$t.dict" ] && echo "dict = $t.dict"
    case $t in fuzz_model) echo "max_len = 1024" ;; fuzz_script) echo "max_len = 8192" ;; *) echo "max_len = 2048" ;; esac
  } > "$OUT/$t.options"
  seeds=()
  for d in "$src/corpus/$t" "$src/corpus/regression/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  if [ ${#seeds[@]} -gt 0 ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (for d in "${seeds[@]}"; do find "$d" -type f; done) | zip -q -j "$OUT/${t}_seed_corpus.zip" -@
  fi
done
