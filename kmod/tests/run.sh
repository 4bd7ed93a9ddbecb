#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--kver VERSION]... - build sakura.ko for each kernel and the test
# programs, then boot each kernel in a QEMU guest (tests/vm/guest.sh) and run
# kmod/tests/guest_test.sh there. Default kernels: every /boot/vmlinuz-V
# that has /lib/modules/V/build. Run as root.
#
# Prints each guest's checks and "N passed, N failed"; exit 0 all passed,
# 1 a failure, 77 nothing to test on (no kernel, no QEMU, not root).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
kvers=()
while [ $# -gt 0 ]; do
	case $1 in
	--kver) kvers+=("$2"); shift 2 ;;
	*) sed -n '4,11s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
if [ ${#kvers[@]} = 0 ]; then
	for k in /boot/vmlinuz-*; do
		v=${k#/boot/vmlinuz-}
		[ -d "/lib/modules/$v/build" ] && kvers+=("$v")
	done
fi
if [ "$(id -u)" != 0 ] || ! command -v qemu-system-x86_64 >/dev/null ||
	[ ${#kvers[@]} = 0 ]; then
	echo "skip: needs root, qemu-system-x86_64 and a kernel with headers"
	exit 77
fi

passed=0
failed=0
make -s -C "$repo" kserver || exit 1
make -s -C "$here/.." tests BUILD="$build" || exit 1
for v in "${kvers[@]}"; do
	echo "=== $v"
	if ! make -s -C "$here/.." module KVER="$v" BUILD="$build" 2>&1 |
		grep -v '^Skipping BTF'; [ "${PIPESTATUS[0]}" != 0 ]; then
		:
	fi
	if [ ! -f "$build/kmod/$v/sakura.ko" ]; then
		echo "FAIL build for $v"
		failed=$((failed + 1))
		continue
	fi
	out=$build/vm/kmod-$v
	"$repo/tests/vm/guest.sh" --kver "$v" --out "$out" --timeout 1800 \
		--quiet -- "$here/guest_test.sh" >"$out.log" 2>&1
	rc=$?
	sed -n '/^--- /,/^[0-9]* passed, [0-9]* failed/p' "$out/console.log" |
		grep -av '^+'
	tail -n 1 "$out.log"
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$out/console.log" | tail -n 1)
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	[ -n "$line" ] || { p=0; f=1; }
	[ "$rc" = 0 ] || [ "$f" != 0 ] || f=1	# dmesg or taint failure
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
