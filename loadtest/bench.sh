#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [--host] [--kver VERSION] [--icount] [--date YYYY-MM-DD]
#     [-- BENCH.PY ARGS]
#
# make bench / make bench-host. Installs what is missing (nginx, wrk,
# gnuplot, QEMU and the kernels: tests/deps.sh), builds kserver and sakura.ko,
# then runs loadtest/bench.py:
#   default  in one QEMU guest (TCG, 2 vCPUs) booting KVERSION (default: the
#            newest 6.12 for bookworm): nginx, kserver user, kserver supervisor
#            and the benchmark-only limit line, docroot in guest tmpfs
#   --host   on this machine over loopback: nginx and kserver user only
# and writes loadtest/results/DATE-KERNEL.md, .csv, -raw.csv and .png with
# loadtest/report.py; a run of some cells only (--cells) writes
# DATE-KERNEL-subset.*, so it never overwrites the day's full table; a
# second run of the same kind that day writes PREFIX-2.*, then -3.*, ...
# --icount (make bench ICOUNT=1): the guest counts instructions instead of
# time (tests/vm/guest.sh --icount): repeatable to a few per cent, for A/B
# comparisons; writes DATE-KERNEL-icount[-subset].*
# BENCH.PY ARGS (e.g. --rounds 3 --duration 3 --cells '1k-.*') go to
# bench.py; see loadtest/bench.py --help.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
host=0 kver="" icount=0 date=$(date -u +%F) clock=time
while [ $# -gt 0 ]; do
	case $1 in
	--host) host=1; shift ;;
	--kver) kver=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--date) date=$2; shift 2 ;;
	--) shift; break ;;
	*) sed -n '4,22s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
args=("$@")

if [ "$(id -u)" = 0 ]; then
	KS_MORE_PACKAGES="nginx gnuplot-nox" loadtest/deps.sh
fi
for tool in nginx wrk gnuplot; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
		echo "bench: $tool is missing; run make bench as root once" >&2
		exit 1
	}
done
make -s all

mkdir -p loadtest/results
if [ "$host" = 1 ]; then
	kernel=host
	out=$top/build/bench/host
	rm -rf "$out"
	cmd="make bench-host${BENCH_ARGS:+ BENCH_ARGS=\"$BENCH_ARGS\"}"
	guest="this machine ($(nproc) CPUs), loopback, no VM"
	python3 loadtest/bench.py --out "$out" --servers nginx,user \
		--docroot /dev/shm/kserver-bench-root --kernel host \
		--duration 3 --rounds 3 "${args[@]}"
	rm -rf /dev/shm/kserver-bench-root
else
	if [ -z "$kver" ]; then
		vars=$(tests/vm/deps.sh | grep -E '^KVER_6(1|12)=')
		eval "$vars"
		kver=$KVER_612
	fi
	kernel=$kver
	out=$top/build/bench/$kver
	rm -rf "$out"
	make -s -C kmod BUILD="$top/build" KVER="$kver" module
	cmd="make bench${KVER:+ KVER=$KVER}${ICOUNT:+ ICOUNT=$ICOUNT}${BENCH_ARGS:+ BENCH_ARGS=\"$BENCH_ARGS\"}"
	guest="QEMU TCG guest, 2 vCPUs, 4 GiB, kernel $kver, booted as Debian does (no slub_debug: guest.sh --bench)"
	vmopt=()
	if [ "$icount" = 1 ]; then
		guest="$guest; instruction-counted (guest.sh --icount: one host thread runs both vCPUs in turn, guest time = instructions x 16 ns)"
		vmopt=(--icount)
		clock=instructions
		kernel=$kver-icount
		out=$top/build/bench/$kver-icount
		rm -rf "$out"
	fi
	# a full run is about 50 min; the limit is far above it
	tests/vm/guest.sh --kver "$kver" --smp 2 --mem 4G --timeout 10800 --bench \
		"${vmopt[@]}" --out "$out" --quiet -- "$top/loadtest/bench_guest.sh" "${args[@]}"
	grep -h '^bench: ' "$out/console.log" | tr -d '\r' | tail -n 3
fi
prefix=loadtest/results/$date-$kernel
for a in "${args[@]}"; do
	case $a in --cells|--cells=*) prefix=$prefix-subset ;; esac
done
# a second run of the same kind on the same day: -2, -3, ... (the results
# of the first are checked in, and the README may link them)
if [ -e "$prefix.md" ]; then
	n=2
	while [ -e "$prefix-$n.md" ]; do n=$((n + 1)); done
	prefix=$prefix-$n
fi
python3 - "$out/meta.json" "$cmd" "$guest" "$date" "$clock" <<'PY'
import json, sys
path, cmd, guest, date, clock = sys.argv[1:]
meta = json.load(open(path))
meta.update({"command": cmd, "guest": guest, "date": date, "clock": clock})
json.dump(meta, open(path, "w"), indent=1)
PY
python3 loadtest/report.py "$out/raw.csv" --out "$prefix" --meta "$out/meta.json"
echo "bench: wrote $prefix.md, $prefix.csv, $prefix-raw.csv, $prefix.png"
