#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stress_debug.sh [--fuzz SECONDS] [--kills N] [--cycles N] [--timeout S] [SUITE...] - make
# stress-debug: the supervisor-mode VM suites in a 6.12 debug kernel.
#
# Builds (first run, ~1 h on 2 cores) or reuses the debug kernel of
# tests/vm/debug_kernel.sh (KASAN, KFENCE, UBSAN, lockdep, kmemleak,
# DEBUG_LIST, debugobjects, hung-task and soft-lockup detectors; cached in
# /var/cache/kserver/debug-kernel/), builds sakura.ko against its tree, then
# boots it (QEMU TCG, --smp 2 --mem 4G) for tests/vm/supervisor_guest.sh
# (default 20 load/unload cycles),
# tests/vm/fuzz_guest.sh (default 300 s) and tests/vm/faults_guest.sh
# (default 50 kills); SUITE... picks a subset. guest.sh fails a run on any
# KASAN/UBSAN/KFENCE/lockdep/BUG/WARNING line in dmesg, a taint beyond O/E,
# or anything kmemleak reports after the suite. Each suite prints its counted
# closing line; the last line sums them; tests/RELIABILITY-debug.md gets the
# verdicts and figures (tests/stress/report.sh). Must run as root.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/http/lib.sh
. "$top/tests/http/lib.sh"	# counted, summary
fuzz_seconds=300 kills=50 cycles=20 timeout=7200
suites=()
while [ $# -gt 0 ]; do
	case $1 in
	--fuzz) fuzz_seconds=$2; shift 2 ;;
	--kills) kills=$2; shift 2 ;;
	--cycles) cycles=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	supervisor|fuzz|faults) suites+=("$1"); shift ;;
	*) sed -n '4,19s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
[ ${#suites[@]} -gt 0 ] || suites=(supervisor fuzz faults)
[ "$(id -u)" = 0 ] || { echo "stress_debug.sh: must run as root" >&2; exit 2; }

echo "=== debug kernel"
t0=$(date +%s)
dir=$(tests/vm/debug_kernel.sh | tail -n 1)
if [ -z "$dir" ] || [ ! -s "$dir/env" ]; then
	echo "FAIL building the debug kernel"
	failed=$((failed + 1))
	summary
	exit 1
fi
# shellcheck disable=SC1091  # KREL BZIMAGE MODDIR KDIR
. "$dir/env"
echo "debug kernel $KREL in $dir ($(($(date +%s) - t0)) s this run; built in $(cat "$dir/build-seconds" 2>/dev/null || echo '?') s)"

# the interface misuse tests and the fuzzer run inside the guest
if ! make -s -C kmod BUILD="$top/build" tests; then
	echo "FAIL building kmod/tests"
	failed=$((failed + 1))
fi
if ! nice -n 19 make -s -C kmod KVER="$KREL" KDIR="$KDIR" BUILD="$top/build" module; then
	echo "FAIL building sakura.ko for $KREL"
	failed=$((failed + 1))
	summary
	exit 1
fi

out=$top/build/stress-debug
rm -rf "$out"
mkdir -p "$out"
: >"$out/verdicts"
for suite in "${suites[@]}"; do
	echo "=== $suite on $KREL"
	p0=$passed f0=$failed k0=$skipped t1=$(date +%s)
	args=()
	[ "$suite" = supervisor ] && args=("$cycles")
	[ "$suite" = fuzz ] && args=("$fuzz_seconds")
	[ "$suite" = faults ] && args=("$kills")
	# no_timer_check: under a loaded TCG host the IO-APIC timer check at boot
	# can fail and panic (seen once with Debian's 6.1); KVM guests skip it too.
	# guest.sh also fails the run on anything kmemleak reports after the script.
	guest_suite "$KREL, $suite" "$top/build/vm/runs/debug-$suite" \
		--kver "$KREL" --kernel "$BZIMAGE" --moddir "$MODDIR" \
		--smp 2 --mem 4G --timeout "$timeout" --cmdline no_timer_check -- \
		"$top/tests/vm/${suite}_guest.sh" "${args[@]}"
	tests/stress/report.sh --record "$out" "$suite on $KREL" $((passed - p0)) \
		$((failed - f0)) $(($(date +%s) - t1)) "$top/build/vm/runs/debug-$suite/console.txt" \
		$((skipped - k0))
done
echo "=== tests/RELIABILITY-debug.md"
tests/stress/report.sh "$out" "$top/tests/RELIABILITY-debug.md" \
	"Reliability figures, debug kernel" \
	"\`make stress-debug\` (tests/vm/stress_debug.sh ${suites[*]}, $cycles load/unload cycles, fuzz $fuzz_seconds s, $kills kills; kernel $KREL: KASAN, KFENCE, UBSAN, lockdep, kmemleak, DEBUG_LIST, debugobjects)" >/dev/null
summary
