#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slow_guest.sh - runs INSIDE a test guest (tests/vm/guest.sh) as root:
# loads sakura.ko and runs tests/slow/run.sh (slow and many clients) in user
# mode, then in supervisor mode; between them a 16 MiB download, fast and
# rate-limited, in supervisor mode (the server caps unsent bytes per socket,
# TCP_NOTSENT_LOWAT: the kernel worker must still finish big sends).
# Arguments go to run.sh (default --small). Ends with "N passed, N failed";
# dmesg and taint are checked by guest.sh.
#
#   tests/vm/guest.sh --kver K --smp 2 --mem 4G --timeout 900 \
#       -- "$PWD/tests/slow/slow_guest.sh"
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/guest_lib.sh"
guest_work slow-guest
# the tree is shared with the host, where it may be rebuilt or edited (bash
# reads a script as it runs): run copies
cp "$KSERVER" "$work/kserver" && KSERVER=$work/kserver
export KSERVER
mkdir -p "$work/tests/http" && cp -r "$top/tests/slow" "$work/tests/" &&
	cp "$top/tests/http/lib.sh" "$work/tests/http/"
slow=$work/tests/slow
# a TCG guest is ~100x slower than the host: run.sh --small unless told
args=("$@")
[ $# -gt 0 ] || args=(--small)

slow_run() {
	local m=$1 t0=$SECONDS rc
	shift
	"$slow/run.sh" --mode "$m" "$@" 2>&1 | tee "$work/$m.out" | sed 's/^/  /'
	rc=${PIPESTATUS[0]}
	counted "slow and many clients, $m mode ($((SECONDS - t0)) s)" \
		"$work/$m.out" "$rc"
}

insmod "$ko"
result "insmod $ko" $?

slow_run user "${args[@]}"

mkdir -p "$work/big"
head -c $((16 << 20)) /dev/urandom >"$work/big/big.bin"
want=$(sha256sum <"$work/big/big.bin" | cut -d' ' -f1)
if start_server big "$work/big" --mode supervisor; then
	fast=$(curl -s --max-time 120 "http://$addr/big.bin" | sha256sum | cut -d' ' -f1)
	limited=$(curl -s --max-time 120 --limit-rate 4M "http://$addr/big.bin" |
		sha256sum | cut -d' ' -f1)
	stop_server
	[ "$fast" = "$want" ] && [ "$limited" = "$want" ]
	result "supervisor mode: 16 MiB fast and rate-limited, same bytes" $?
else
	result "supervisor mode: server start for the download" 1
fi
rm -rf "$work/big"

slow_run supervisor "${args[@]}"

sakura_unload
result "rmmod sakura" $?
summary
