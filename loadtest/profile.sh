#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# profile.sh [--kver VERSION] [--icount] [--seconds N] [--size S] [--conns N]
# [--close] [SERVER...] - make profile: where the CPU goes for requests of a file of
# S bytes (1k, 16k, 256k, 1m; default 1k) on keep-alive (or Connection: close
# with --close) from wrk -t1 -cN (default 64), per server, in
# one QEMU guest (TCG, 2 vCPUs; 6.12 by default). SERVERs: user, supervisor,
# limit, nginx (default: all four), each sampled by perf for N seconds
# (default 10), then traced for one second (function_graph: calls and time
# per request of the request path's functions). Prints each server's top
# symbols and per-request calls; keeps everything in build/profile/VERSION/
# (SERVER.txt flat, SERVER-graph.txt call graphs, SERVER-ftrace.txt).
# A tool for finding bottlenecks: the percentages are of an emulated CPU.
# --icount (make profile ICOUNT=1): an instruction-counted guest
# (tests/vm/guest.sh --icount): samples fall per instruction executed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kver="" seconds=10 size=1k conns=64 close=keepalive servers=() vmopt=()
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--icount) vmopt=(--icount); shift ;;
	--seconds) seconds=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--close) close=close; shift ;;
	user|supervisor|limit|nginx) servers+=("$1"); shift ;;
	-h|--help) sed -n '4,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) sed -n '4,17s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
[ ${#servers[@]} -gt 0 ] || servers=(user supervisor limit nginx)
case $seconds in ''|*[!0-9]*|0) echo "profile: --seconds wants a positive number" >&2; exit 2 ;; esac
case $conns in ''|*[!0-9]*|0) echo "profile: --conns wants a positive number" >&2; exit 2 ;; esac
case $size in 1k|16k|256k|1m) ;; *) echo "profile: --size is one of 1k, 16k, 256k, 1m" >&2; exit 2 ;; esac
if [ "$(id -u)" = 0 ]; then
	KS_MORE_PACKAGES="nginx linux-perf" loadtest/deps.sh
fi
if [ -z "$kver" ]; then
	eval "$(tests/vm/deps.sh | grep -E '^KVER_612=')"
	kver=$KVER_612
fi
make -s kserver
make -s -C kmod BUILD="$top/build" KVER="$kver" module
out=$top/build/profile/$kver
rm -rf "$out"
tests/vm/guest.sh --kver "$kver" --smp 2 --mem 2G --bench "${vmopt[@]}" --timeout $((300 + 60 * seconds)) \
	--out "$out" --quiet -- "$top/loadtest/profile_guest.sh" "$seconds" "$size" "$conns" "$close" \
	"${servers[@]}"
grep -h '^profile: ' "$out/console.log" | tr -d '\r'
for s in "${servers[@]}"; do
	echo "== $s: top symbols (% of all samples; wrk, perf and idle left out)"
	awk '/%/ && n++ < 25' "$out/$s.txt"
	echo "== $s: per request, function_graph (traced us, tracing included; wrk's side left out)"
	awk '!/^wrk / && n++ < 20' "$out/$s-ftrace.txt"
done
echo "profile: the profiles are in $out"
