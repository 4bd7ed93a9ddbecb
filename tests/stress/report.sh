#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/stress/report.sh --record DIR NAME PASSED FAILED SECONDS OUTPUT [SKIPPED]
#     - note one suite of a stress run in DIR: its verdict, and the
#     "figure: NAME N" lines of its OUTPUT file
# tests/stress/report.sh DIR REPORT TITLE WHAT - write REPORT (markdown) from
#     what the suites noted in DIR counted:
#   DIR/verdicts  one line per suite: NAME|PASSED|FAILED|SECONDS|SKIPPED
#   DIR/figures   one line per figure: SUITE_NO NAME N
# TITLE is the heading, WHAT says which command wrote it and how. Used by
# tests/stress/run.sh (make stress) and tests/vm/stress_debug.sh (make
# stress-debug). Prints the report; exits 0 iff no suite failed.
set -uo pipefail
usage() { sed -n '4,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }
if [ "${1:-}" = --record ]; then
	[ $# = 7 ] || [ $# = 8 ] || usage
	printf '%s|%s|%s|%s|%s\n' "$3" "$4" "$5" "$6" "${8:-0}" >>"$2/verdicts"
	n=$(wc -l <"$2/verdicts")
	tr -d '\r' <"$7" | sed -n "s/^[[:space:]]*figure: \([a-z0-9_]*\) \([0-9]*\).*/$n \1 \2/p" \
		>>"$2/figures"
	exit 0
fi
[ $# = 4 ] || usage
dir=$1 report=$2 title=$3 what=$4
top=$(cd "$(dirname "$0")/../.." && pwd)

total_pass=0 total_fail=0 total_skip=0 seconds=0
while IFS='|' read -r _ p f sec k; do
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${k:-0})) seconds=$((seconds + sec))
done <"$dir/verdicts"
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$top" diff --quiet HEAD -- kmod kserver ctl tests ':!tests/RELIABILITY*.md' 2>/dev/null || rev="$rev (with uncommitted changes)"
{
	echo "# $title"
	echo
	echo "Written by $what on $(date -u +%Y-%m-%d) at commit $rev;"
	echo "$seconds s in all."
	echo "Every figure below was counted by the suite that ran it; a suite fails on"
	echo "any crash, hang, lost request, leak, or dirty guest dmesg (BUG, WARNING,"
	echo "Oops, refcount, leak, hung task, and in a debug kernel KASAN, KFENCE,"
	echo "UBSAN, lockdep and kmemleak reports)."
	echo
	echo "| suite | passed | failed | skipped | seconds |"
	echo "|---|---:|---:|---:|---:|"
	while IFS='|' read -r n p f sec k; do
		echo "| $n | $p | $f | ${k:-0} | $sec |"
	done <"$dir/verdicts"
	echo
	echo "| what was counted | total | per run |"
	echo "|---|---:|---|"
	if [ -s "$dir/figures" ]; then
		awk '{ sum[$2] += $3; runs[$2] = runs[$2] (runs[$2] == "" ? "" : " + ") $3 }
			END { for (k in sum) printf "| %s | %d | %s |\n", k, sum[k], runs[k] }' \
			"$dir/figures" | sort
	fi
	echo
	if ((total_fail == 0)); then
		echo "Result: $total_pass checks passed, none failed$( ((total_skip)) && echo " ($total_skip skipped, each named in its suite's output)"): zero"
		echo "crashes, zero lost requests, zero leaks in every suite above."
	else
		echo "Result: $total_pass checks passed, **$total_fail failed**; see $dir/."
	fi
} >"$report"
cat "$report"
((total_fail == 0))
