#!/usr/bin/env bash
# tests/run-all.sh - every test suite of `make test`, in order; each suite
# ends with "N passed, N failed"; this sums them and fails if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

suites=(
	"freestanding compile check|make -s -C kserver BUILD=$PWD/build freestanding"
	"unit tests (Check, ASan/UBSan)|make -s -C tests/unit BUILD=$PWD/build test"
	"libFuzzer: parser and handler, 60 s|tests/fuzz/run.sh --seconds 60"
	"server process tests|python3 tests/server/test_server.py --kserver build/kserver"
	"kserverctl on the host (no module)|tests/ctl/run.sh"
	"loadtest report generator|python3 tests/loadtest/test_report.py"
	"make profile and make bench helpers|python3 tests/loadtest/test_profile_tools.py"
	"HTTP conformance, user mode|tests/http/run.sh --serve-hidden"
	"HTTP conformance, user mode, ASan build|env KSERVER=build/kserver-asan tests/http/run.sh"
	"real clients: curl, wrk, chromium|tests/clients/run.sh"
	"slow and many clients, user mode|tests/slow/run.sh"
	"guest bench self-test (6.1, 6.12)|tests/vm/selftest.sh --fast"
	"supervisor mode in QEMU guests (6.1, 6.12)|tests/vm/supervisor.sh"
)

total_pass=0 total_fail=0 total_skip=0 failed_suites=() failed_lines=()
for s in "${suites[@]}"; do
	name=${s%%|*} cmd=${s#*|}
	printf '\n=== %s\n' "$name"
	log=$(mktemp)
	bash -c "$cmd" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if ((rc != 0)) || [[ ! $line =~ \ 0\ failed ]]; then
		# what failed, repeated in the summary: CI shows only the tail of the output
		what=$(grep -E 'FAIL|not ok|^Traceback|[Ee]rror' "$log" | grep -v ' 0 failed' | tail -n 15)
		[ -n "$what" ] || what=$(tail -n 5 "$log")
		failed_lines+=("$(sed "s|^|  $name: |" <<<"$what")")
	fi
	rm -f "$log"
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
		total_pass=$((total_pass + BASH_REMATCH[1]))
		total_fail=$((total_fail + BASH_REMATCH[2]))
		total_skip=$((total_skip + ${BASH_REMATCH[4]:-0}))
	else
		total_fail=$((total_fail + 1))	# a suite that cannot count failed
	fi
	if ((rc != 0)); then
		failed_suites+=("$name")
		[[ $line =~ [1-9][0-9]*\ failed ]] || total_fail=$((total_fail + 1))
	fi
done

printf '\n=== summary\n'
for f in "${failed_lines[@]}"; do [[ -z $f ]] || printf '%s\n' "$f"; done
for f in "${failed_suites[@]}"; do echo "FAILED: $f"; done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
((total_fail == 0 && ${#failed_suites[@]} == 0))
