#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/run.sh [--quick] - make stress: the long versions of the
# hardening suites, then tests/RELIABILITY.md from what they counted.
#
#   1. the HTTP conformance suite with its adversarial cases, user mode
#   2. slow and many clients, long (tests/slow/run.sh --long)
#   3. libFuzzer on the parser and the handler (tests/fuzz/run.sh)
#   4. in QEMU guests on 6.1 and 6.12 (tests/vm/supervisor.sh): the
#      conformance suite in both modes, live switching, the /dev/sakura
#      fuzzer for 10 minutes and 100 kills with SIGKILL per kernel
#   5. slow and many clients in a 6.12 guest, both modes (tests/slow/slow_guest.sh)
#
# Guests boot through tests/vm/guest.sh: a boot that dies in the kernel's own
# start-up, before the script (seen: an int3 Oops in sched_clock_cpu while
# 6.12 patched its text under TCG), is booted again once, and said.
#
# Every suite prints "figure: NAME N" lines (inputs tried, faults injected,
# connections held, executions); they are summed into tests/RELIABILITY.md
# with each suite's verdict. --quick runs the make test lengths instead
# (to check this script). Lengths (the defaults are make stress's):
#   FUZZ_SECONDS=600   libFuzzer, split over its harnesses
#   KFUZZ_SECONDS=600  the /dev/sakura fuzzer, per kernel
#   KILLS=100          kserver killed with SIGKILL, per kernel
#   STRESS_ONLY=ERE    only the suites whose name matches (a partial report)
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD

quick=0
for arg; do
	case $arg in
	--quick) quick=1 ;;
	*) sed -n '4,27s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
fuzz_seconds=${FUZZ_SECONDS:-600}
guest_args="--all-kernels --fuzz-seconds ${KFUZZ_SECONDS:-600} --kills ${KILLS:-100}"
long=--long
if ((quick)); then
	fuzz_seconds=60
	guest_args=
	long=
fi

out=$top/build/stress
rm -rf "$out"
mkdir -p "$out"

suites=(
	"HTTP conformance and adversarial inputs, user mode|tests/http/run.sh --serve-hidden"
	"slow and many clients, user mode|tests/slow/run.sh $long"
	"libFuzzer: parser and handler, $fuzz_seconds s|tests/fuzz/run.sh --seconds $fuzz_seconds"
	"QEMU guests 6.1 and 6.12: both modes, switching, /dev/sakura fuzzer, kills|tests/vm/supervisor.sh $guest_args"
	"slow and many clients in a 6.12 guest, user and supervisor mode|k=\$(tests/vm/deps.sh | sed -n 's/^KVER_612=//p') && top=$top && . tests/http/lib.sh && guest_suite \"\$k, slow and many clients\" $top/build/vm/runs/slow-stress --kver \$k --smp 2 --mem 4G --timeout 2400 -- $top/tests/slow/slow_guest.sh; summary"
)

total_pass=0 total_fail=0
: >"$out/verdicts"
i=0
for s in "${suites[@]}"; do
	name=${s%%|*} cmd=${s#*|}
	i=$((i + 1))
	[[ $name =~ ${STRESS_ONLY:-.} ]] || continue
	printf '\n=== %s\n' "$name"
	t0=$(date +%s)
	bash -c "$cmd" 2>&1 | tee "$out/$i.out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$i.out" | tail -n 1)
	p=0 f=1 k=0
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} k=${BASH_REMATCH[4]:-0}
		((rc != 0 && f == 0)) && f=1
	fi
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	tests/stress/report.sh --record "$out" "$name" "$p" "$f" "$(($(date +%s) - t0))" \
		"$out/$i.out" "$k"
done

# --- tests/RELIABILITY.md -------------------------------------------------------
kvers=$(tests/vm/deps.sh 2>/dev/null | sed -n 's/^KVER_6[0-9]*=//p' | tr '\n' ' ')
printf '\n=== tests/RELIABILITY.md\n'
tests/stress/report.sh "$out" "$top/tests/RELIABILITY.md" "Reliability figures" \
	"\`make stress\` (tests/stress/run.sh$( ((quick)) && echo ' --quick')${STRESS_ONLY:+, only suites matching \`$STRESS_ONLY\`}; guest kernels: ${kvers:-none})"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
