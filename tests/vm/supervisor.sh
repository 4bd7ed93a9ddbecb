#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# supervisor.sh [--kver VERSION]... [--fuzz-seconds S] [--kills N]
#     [--all-kernels] - the supervisor-mode bench of make test (make stress:
#     longer fuzzing, more kills, the fuzzer and faults on every kernel,
#     50 module load/unload cycles instead of 20).
#
# For Debian's 6.1 kernel and the newest 6.12 kernel for bookworm (both
# installed by tests/vm/deps.sh): build sakura.ko against its headers, boot
# it in a QEMU (TCG) guest and run tests/vm/supervisor_guest.sh there, then
# boot it again for tests/vm/switch_guest.sh (live mode switching), for
# tests/vm/fuzz_guest.sh (the /dev/sakura fuzzer) and for
# tests/vm/faults_guest.sh (kill -9, kserverctl killed, rmmod while busy) --
# those two on the last kernel only (6.12) unless --all-kernels.
# guest.sh fails a run on any BUG/WARNING/Oops/refcount/leak/hung task in the
# guest's dmesg or a taint beyond O/E. Each kernel's run ends with its own
# "N passed, N failed"; the last line sums them.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/http/lib.sh
. "$top/tests/http/lib.sh"	# counted, summary
kvers=()
fuzz_seconds=20 kills=15 all_kernels=0 cycles=20
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kvers+=("$2"); shift 2 ;;
	--all-kernels) all_kernels=1 cycles=50; shift ;;
	--fuzz-seconds | --kills)
		[[ ${2:-} =~ ^[0-9]+$ ]] || { echo "supervisor.sh: $1 needs a number" >&2; exit 2; }
		if [ "$1" = --kills ]; then kills=$2; else fuzz_seconds=$2; fi
		shift 2 ;;
	*) sed -n '4,19s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
if [ ${#kvers[@]} = 0 ]; then
	vars=$(tests/vm/deps.sh | grep -E '^KVER_6(1|12)=') || exit 1
	eval "$vars"
	kvers=("$KVER_61" "$KVER_612")
fi

# the interface misuse tests run inside each guest
if ! make -s -C kmod BUILD="$top/build" tests; then
	echo "FAIL building kmod/tests"
	failed=$((failed + 1))
fi
for k in "${kvers[@]}"; do
	echo "=== supervisor mode on $k"
	if ! make -s -C kmod KVER="$k" BUILD="$top/build" module; then
		echo "FAIL building sakura.ko for $k"
		failed=$((failed + 1))
		continue
	fi
	suites=(supervisor switch)
	if ((all_kernels)) || [ "$k" = "${kvers[${#kvers[@]} - 1]}" ]; then
		suites+=(fuzz faults)
	fi
	for suite in "${suites[@]}"; do
		args=()
		[ "$suite" = supervisor ] && args=("$cycles")
		[ "$suite" = fuzz ] && args=("$fuzz_seconds")
		[ "$suite" = faults ] && args=("$kills")
		timeout=$((1500 + 2 * fuzz_seconds + 10 * kills))
		guest_suite "$k, $suite" "$top/build/vm/runs/$suite-$k" \
			--kver "$k" --timeout "$timeout" -- \
			"$top/tests/vm/${suite}_guest.sh" "${args[@]}"
	done
done
summary
