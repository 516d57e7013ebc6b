#!/bin/sh
# CLI tests for pcaps (ctest label unit): tests/pcap_cli.sh THREEWAY SRCDIR TEST
#   tcpdump   tcpdump -nr shows the motivating example's numbers
#   pcap-dir  run --pcap-dir writes a trace tcpdump reads and a verdict per case
#   import    the real captures in corpus/pcap/captured/ import into cases that pass on the model
#   replay    the fixtures replay against the model
#   record    record is the same bytes from another directory, with an absolute path
#   bad       bad captures exit 2 with the file named on stderr
set -eu
tw=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

case $3 in
tcpdump)
  out=$(tcpdump -nr "$src/corpus/pcap/motivating-example.pcap" 2>/dev/null)
  echo "$out"
  echo "$out" | grep -q '198.51.100.1.56742 > 198.51.100.2.12345: Flags \[S\], seq 3112279261,' ||
    fail "the SYN does not show seq 3112279261"
  echo "$out" | grep -q '198.51.100.2.12345 > 198.51.100.1.56742: Flags \[S.\], seq 3504942089, ack 3112279262,' ||
    fail "the SYN-ACK does not show seq 3504942089"
  ;;
pcap-dir)
  cat > "$tmp/fails.pkt" <<'PKT'
// covers: HS-CLOSED-01
0 < S 1000:1000(0) win 65535
+0 > R. 0:0(0) ack 1002
PKT
  rc=0
  "$tw" run --pcap-dir "$tmp/traces" "$src/conformance/listen" "$tmp/fails.pkt" > "$tmp/out" || rc=$?
  [ $rc -eq 1 ] || fail "run exited $rc, not 1"
  n_cases=$(find "$src/conformance/listen" -name '*.pkt' | wc -l)
  n_pcaps=$(find "$tmp/traces" -name '*.pcap' | wc -l)
  [ "$n_pcaps" -eq $((n_cases + 1)) ] || fail "$n_pcaps traces for $((n_cases + 1)) cases"
  for p in "$tmp"/traces/*.pcap; do
    if command -v tcpdump >/dev/null; then
      tcpdump -nr "$p" >/dev/null 2>&1 || fail "tcpdump cannot read $p"
    fi
    [ -s "${p%.pcap}.txt" ] || fail "no sidecar for $p"
  done
  side=$(ls "$tmp"/traces/*fails.txt)
  grep -q '^verdict: FAIL$' "$side" || fail "$side lacks the verdict"
  grep -q '^failure: .*fails.pkt:3: ack: expected 1002, got 1001$' "$side" || fail "$side lacks the failure line"
  grep -q '^verdict: PASS$' "$tmp/traces/"*listen_syn-draws-synack.txt || fail "a passing case is not PASS"
  cat "$side"
  ;;
import)
  for p in "$src"/corpus/pcap/captured/*.pcap; do
    for as in server client; do
      "$tw" import --as $as "$p" -o "$tmp/case.pkt" || fail "import --as $as $p"
      "$tw" run "$tmp/case.pkt" || { cat "$tmp/case.pkt"; fail "the import of $p (--as $as) fails on the model"; }
    done
  done
  ;;
replay)
  for p in "$src"/corpus/pcap/*.pcap; do
    case $p in *syn-sent_*) as=client ;; *) as=server ;; esac
    "$tw" replay --as $as "$p" || fail "replay of $p"
  done
  "$tw" replay --loose "$src/corpus/pcap/captured/linux-lo-ipv4-ethernet.pcap" || fail "loose replay"
  rc=0
  "$tw" replay "$src/corpus/pcap/captured/linux-lo-ipv4-ethernet.pcap" || rc=$?
  [ $rc -eq 1 ] || fail "an exact replay of Linux's answers on the model exited $rc, not 1"
  ;;
record)
  cd "$tmp"
  "$tw" record "$src/corpus/pcap/motivating-example.pkt" --port 12345 --h-port 56742 --isn 3504942089 \
    -o "$tmp/m.pcap"
  cmp "$tmp/m.pcap" "$src/corpus/pcap/motivating-example.pcap" || fail "record depends on the directory"
  "$tw" record "$src/conformance/listen/syn-draws-synack.pkt" -o "$tmp/l.pcap"
  cmp "$tmp/l.pcap" "$src/corpus/pcap/listen_syn-draws-synack.pcap" || fail "record depends on the path"
  ;;
bad)
  : > "$tmp/empty.pcap"
  head -c 100 "$src/corpus/pcap/motivating-example.pcap" > "$tmp/cut.pcap"
  printf 'GIF89a' > "$tmp/magic.pcap"
  for f in magic empty cut; do
    for cmd in "import -o $tmp/x.pkt" "replay"; do
      rc=0
      # shellcheck disable=SC2086  # cmd is words
      "$tw" $cmd "$tmp/$f.pcap" 2> "$tmp/err" || rc=$?
      [ $rc -eq 2 ] || fail "$cmd $f.pcap exited $rc, not 2"
      grep -q "$f.pcap" "$tmp/err" || fail "$cmd $f.pcap: the message does not name the file: $(cat "$tmp/err")"
      cat "$tmp/err"
    done
  done
  rc=0
  "$tw" import "$tmp/none.pcap" -o "$tmp/x.pkt" 2>/dev/null || rc=$?
  [ $rc -eq 2 ] || fail "a missing file exited $rc"
  ;;
*)
  fail "unknown test $3"
  ;;
esac
