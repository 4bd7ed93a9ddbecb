#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--seconds N] - build the libFuzzer harnesses with clang and fuzz
# each for its share of N seconds (default 60), starting from the checked-in
# corpus (tests/fuzz/corpus/<harness>/, copied to build/fuzz/work/ so the
# checked-in one is never modified).
#
# Prints one "ok"/"FAIL" line per harness, "figure: fuzz_executions N" and
# "N passed, N failed". A crashing input is kept under build/fuzz/crashes/
# and its path printed; reproduce with: build/fuzz/<harness> <that file>.
#
# Exit: 0 all passed, 1 a harness failed or did not build.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/fuzz
harnesses=(fuzz_parse fuzz_handler)
seconds=60

while (($#)); do
	case $1 in
	--seconds) seconds=${2:?}; shift 2 ;;
	--seconds=*) seconds=${1#*=}; shift ;;
	*) sed -n '4,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
[[ $seconds =~ ^[0-9]+$ ]] || { echo "run.sh: --seconds wants a number" >&2; exit 2; }

pass=0 fail=0 execs=0
share=$((seconds / ${#harnesses[@]}))
((share >= 1)) || share=1

mkdir -p "$out/crashes" "$out/work"
if ! make -s -C "$here" >"$out/build.log" 2>&1; then
	cat "$out/build.log"
	for h in "${harnesses[@]}"; do echo "FAIL $h: does not build (clang with libFuzzer)"; done
	echo "figure: fuzz_executions 0"
	echo "0 passed, ${#harnesses[@]} failed"
	exit 1
fi

for h in "${harnesses[@]}"; do
	work=$out/work/$h
	rm -rf "$work"
	mkdir -p "$work/corpus"
	cp "$here/corpus/$h/"* "$work/corpus/" 2>/dev/null
	dict=()
	[[ -f $here/http.dict ]] && dict=(-dict="$here/http.dict")
	# a fresh directory for this run's artifacts: crashes, timeouts, ooms
	art=$out/crashes/$h-$(date +%Y%m%d-%H%M%S)
	mkdir -p "$art"
	"$out/$h" -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$art/" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	n=${n:-0}
	execs=$((execs + n))
	found=$(find "$art" -type f | head -n 5)
	if ((rc == 0)) && [[ -z $found ]]; then
		echo "ok   $h: $n executions in $share s, corpus $(find "$work/corpus" -type f | wc -l) inputs"
		pass=$((pass + 1))
		rmdir "$art" 2>/dev/null
	else
		echo "FAIL $h: exit $rc after $n executions"
		grep -E -m 3 'ERROR|runtime error|fuzz invariant failed|SUMMARY' "$work/log" | sed 's/^/     /'
		for f in $found; do echo "     crashing input kept: $f"; done
		[[ -n $found ]] || echo "     log: $work/log"
		fail=$((fail + 1))
	fi
done

echo "figure: fuzz_executions $execs"
echo "$pass passed, $fail failed"
((fail == 0))
