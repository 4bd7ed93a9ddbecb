#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_guest.sh [bench.py args] - runs INSIDE a QEMU guest (tests/vm/guest.sh)
# as root for make bench: loads sakura.ko, runs loadtest/bench.py with its
# results in $VM_OUT, unloads the module. guest.sh then checks dmesg.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/vm/guest_lib.sh"
echo "guest: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
ulimit -n 65536
# wrk and 256 connections x 4 servers: plenty of ports, short TIME_WAIT reuse
sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
insmod "$ko" || exit 1
python3 "$top/loadtest/bench.py" --out "$VM_OUT" --docroot /tmp/kserver-bench-root "$@"
rc=$?
sakura_unload 2>/dev/null
if sakura_loaded; then
	echo "bench: sakura.ko did not unload"
	rc=1
fi
exit $rc
