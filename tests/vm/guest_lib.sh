# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/vm/guest_lib.sh - what every script that runs INSIDE a test guest
# (tests/vm/*_guest.sh, tests/slow/slow_guest.sh, loadtest/bench_guest.sh)
# starts with. Source it after setting $top (the repository root):
#
#   kver, ko           this kernel, and the sakura.ko built for it
#   KS_TIMEOUT_SCALE   3 in the debug kernel (tests/http/run.sh)
#   tests/http/lib.sh  result, counted, summary, start_server, cleanup_work ...
#   guest_work NAME    a fresh $work (/tmp/NAME.XXXXXX) removed at exit,
#                      TMPDIR=/tmp, ulimit -n 65536, and the guest's line
#   sakura_unload      rmmod, retried for 5 s: a killed server's last release
#                      (fput of /dev/sakura, a worker's exit) may still run
#   sakura_loaded      sakura.ko is loaded
#   sakura_live        the module's "module live_*" line of /proc/sakura
#   sakura_idle        waits up to 10 s for the module to hold nothing

kver=$(uname -r)
ko=$top/build/kmod/$kver/sakura.ko
# the debug kernel (KASAN, lockdep, kmemleak under TCG) runs several times
# slower: the HTTP suite's 2 s / 3 s server timeouts, and its waits, scale
case $kver in
*-kserver-debug) export KS_TIMEOUT_SCALE=${KS_TIMEOUT_SCALE:-3} ;;
esac
# shellcheck source=tests/http/lib.sh
. "$top/tests/http/lib.sh"

guest_work() {
	export TMPDIR=/tmp
	work=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	trap cleanup_work EXIT
	ulimit -n 65536
	echo "guest: $kver, $(nproc) CPUs"
}

sakura_unload() {
	local _
	for _ in $(seq 50); do
		rmmod sakura 2>/dev/null && return 0
		sleep 0.1
	done
	rmmod sakura
}

sakura_loaded() {
	grep -q '^sakura ' /proc/modules
}

sakura_live() {
	head -n 1 /proc/sakura
}

sakura_idle() {
	local _
	for _ in $(seq 100); do
		sakura_live | grep -qx 'module live_servers 0 live_conns 0 live_buffers 0 live_file_refs 0 live_socks 0' &&
			return 0
		sleep 0.1
	done
	return 1
}
