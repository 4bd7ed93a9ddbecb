#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# profile.sh [--kver VERSION] [--seconds N] [SERVER...] - make profile: where
# the CPU goes for 1 KiB keep-alive requests (wrk -t1 -c64), per server, in
# one QEMU guest (TCG, 2 vCPUs; 6.12 by default). SERVERs: user, supervisor,
# limit, nginx (default: all four), each sampled by perf for N seconds
# (default 10), then traced for one second (function_graph: calls and time
# per request of the request path's functions). Prints each server's top
# symbols and per-request calls; keeps everything in build/profile/VERSION/
# (SERVER.txt flat, SERVER-graph.txt call graphs, SERVER-ftrace.txt).
# A tool for finding bottlenecks: the percentages are of an emulated CPU.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kver="" seconds=10 servers=()
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	user|supervisor|limit|nginx) servers+=("$1"); shift ;;
	-h|--help) sed -n '4,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) sed -n '4,13s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
[ ${#servers[@]} -gt 0 ] || servers=(user supervisor limit nginx)
case $seconds in ''|*[!0-9]*|0) echo "profile: --seconds wants a positive number" >&2; exit 2 ;; esac
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
tests/vm/guest.sh --kver "$kver" --smp 2 --mem 2G --bench --timeout $((300 + 60 * seconds)) \
	--out "$out" --quiet -- "$top/loadtest/profile_guest.sh" "$seconds" "${servers[@]}"
grep -h '^profile: ' "$out/console.log" | tr -d '\r'
for s in "${servers[@]}"; do
	echo "== $s: top symbols (% of all samples; wrk, perf and idle left out)"
	grep '%' "$out/$s.txt" | head -n 25
	echo "== $s: per request, function_graph (traced us, tracing included; wrk's side left out)"
	grep -v '^wrk ' "$out/$s-ftrace.txt" | head -n 20
done
echo "profile: the profiles are in $out"
