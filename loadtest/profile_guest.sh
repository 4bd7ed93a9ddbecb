#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# profile_guest.sh SECONDS SERVER... - runs INSIDE a QEMU guest
# (tests/vm/guest.sh) as root for make profile: loads sakura.ko and, for each
# SERVER (user, supervisor, limit, nginx), serves a 1 KiB file on keep-alive
# to wrk -t1 -c64 while perf samples every CPU (cpu-clock, 999 Hz, call
# graphs) for SECONDS. Writes $VM_OUT/SERVER.txt: the flat profile of the
# samples spent in the server (its threads and the softirqs it causes:
# everything but wrk, perf and idle), and SERVER-graph.txt, the call graphs.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/vm/guest_lib.sh"
KSERVER=$top/build/kserver
seconds=$1
shift
ulimit -n 65536
sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
insmod "$ko" || exit 1
root=/tmp/profile-root
mkdir -p "$root"
head -c 1024 /dev/urandom >"$root/1k.bin"
rc=0
for s in "$@"; do
	addr=$(free_addr)
	case $s in
	user) cmd=("$KSERVER" --root "$root" --listen "$addr") ;;
	supervisor) cmd=("$KSERVER" --root "$root" --listen "$addr" --mode supervisor) ;;
	limit) cmd=("$KSERVER" --root "$root" --listen "$addr" --mode supervisor --bench-fixed 1024) ;;
	nginx)
		sed -e "s|@WORKERS@|$(nproc)|" -e "s|@RUN@|/tmp|" \
			-e "s|@LISTEN@|$addr|" -e "s|@ROOT@|$root|" \
			"$top/loadtest/nginx.conf" >/tmp/nginx.conf
		cmd=("$(command -v nginx || echo /usr/sbin/nginx)" -p /tmp -c /tmp/nginx.conf -e /tmp/nginx-error.log) ;;
	*) echo "profile: unknown server $s"; rc=1; continue ;;
	esac
	"${cmd[@]}" >"$VM_OUT/$s.out" 2>&1 &
	pid=$!
	if ! wait_listening "$addr"; then
		echo "profile: $s did not start (see $s.out)"
		kill "$pid" 2>/dev/null
		wait "$pid"
		rc=1
		continue
	fi
	wrk -t1 -c64 -d1s "http://$addr/1k.bin" >/dev/null	# warm-up
	perf record -q -a -g -e cpu-clock -F 999 -o "/tmp/$s.data" -- \
		wrk -t1 -c64 -d"${seconds}s" "http://$addr/1k.bin" >"$VM_OUT/$s-wrk.txt" 2>&1
	if [ "$s" = nginx ]; then
		kill -QUIT "$pid"	# daemon off: $pid is the master
	else
		kill -TERM "$pid"
	fi
	wait "$pid"
	echo "profile: $s: $(awk '/Requests\/sec/ { print $2 }' "$VM_OUT/$s-wrk.txt") requests/s (raw, emulated)"
	# the server's share: every sample but wrk's, perf's and the idle loop's
	perf report -i "/tmp/$s.data" --no-children --sort comm --stdio -g none \
		2>/dev/null | grep '%' >"$VM_OUT/$s-comms.txt"
	comms=$(awk '$1 ~ /%$/ && $NF !~ /^(wrk|perf|perf-exec|swapper)$/ {
		printf "%s%s", sep, $NF; sep = "," }' "$VM_OUT/$s-comms.txt")
	perf report -i "/tmp/$s.data" --no-children --comms "$comms" \
		--sort dso,sym --stdio -g none --percent-limit 0.02 2>/dev/null |
		grep -v '^$' >"$VM_OUT/$s.txt"
	perf report -i "/tmp/$s.data" --no-children --comms "$comms" \
		--sort sym --stdio -G --percent-limit 2 2>/dev/null >"$VM_OUT/$s-graph.txt"
	rm -f "/tmp/$s.data"
done
sakura_unload 2>/dev/null
if sakura_loaded; then
	echo "profile: sakura.ko did not unload"
	rc=1
fi
exit $rc
