#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz_guest.sh [SECONDS [MODULE]] - runs INSIDE a test guest (tests/vm/guest.sh) as
# root: the /dev/sakura interface fuzzer (kmod/tests/sakura_fuzz.c) for
# SECONDS (default 30) against a docroot with every kind of file in it, then
# proves the module let go of everything: it unloads, and a fresh load
# serves a request.
#
# Ends with "N passed, N failed". dmesg and taint are checked by guest.sh.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-30}
. "$top/tests/vm/guest_lib.sh"
ko=${2:-$ko}	# another build, e.g. to prove a check
guest_work sakura-fuzz

insmod "$ko"
result "insmod $ko" $?

# a docroot with regular files, a big one, a directory with an index, a
# FIFO, a UNIX socket, a device node and symlinks out of it
root=$work/root
mkdir -p "$root/dir" "$root/.hidden"
echo hello >"$root/a.txt"
echo '<p>index</p>' >"$root/index.html"
echo '<p>dir</p>' >"$root/dir/index.html"
head -c $((4 << 20)) /dev/urandom >"$root/big.bin"
truncate -s 5G "$root/sparse.bin"
mkfifo "$root/fifo"
"$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$root/sock"
mknod "$root/null" c 1 3
ln -s / "$root/up"
ln -s /etc/passwd "$root/passwd"

out=$work/fuzz.out
timeout $((seconds + 120)) "$top/build/kmod/sakura_fuzz" --seconds "$seconds" \
	--root "$root" >"$out" 2>&1
rc=$?
grep -vE '^(ok|figure:)' "$out" | head -40
grep -E '^(ok|FAIL|figure:)' "$out"
counted "sakura_fuzz, $seconds s" "$out" "$rc"
if [ "$rc" != 0 ]; then
	# who still holds the module: its servers, and every process with
	# /dev/sakura open or mapped, with where it waits
	echo "  --- /proc/sakura"
	sed 's/^/  /' /proc/sakura
	echo "  --- refcnt $(cat /sys/module/sakura/refcnt)"
	for p in /proc/[0-9]*; do
		if ls -l "$p/fd" 2>/dev/null | grep -q sakura || grep -q sakura "$p/maps" 2>/dev/null; then
			echo "  --- pid ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline") state $(awk '/^State/ { print $2 }' "$p/status") wchan $(cat "$p/wchan")"
			ls -l "$p/fd" 2>/dev/null | grep sakura | sed 's/^/    /'
			grep sakura "$p/maps" 2>/dev/null | sed 's/^/    /'
			for t in "$p"/task/*; do
				echo "    task ${t##*/}: $(awk '/^State/ { print $2 }' "$t/status") $(cat "$t/wchan")"
				sed 's/^/      /' "$t/stack" 2>/dev/null
			done
		fi
	done
	ps -eo pid,ppid,stat,wchan:30,comm | grep -E 'sakura|kserver|PID' | sed 's/^/  /'
fi

# nothing was left behind: the module unloads and loads again
rmmod sakura
result "rmmod after the fuzzer" $?
insmod "$ko"
result "insmod again" $?
mkdir -p "$work/www"
echo again >"$work/www/a.txt"
if start_server again "$work/www" --mode supervisor; then
	[ "$(curl -s --max-time 10 "http://$addr/a.txt")" = again ]
	result "a fresh server serves after the fuzzer" $?
	stop_server
	result "it exits 0 on SIGTERM" $?
else
	result "a fresh server starts after the fuzzer" 1
fi
rmmod sakura
result "rmmod at the end" $?
summary
