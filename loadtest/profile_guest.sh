#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# profile_guest.sh SECONDS SIZE CONNS keepalive|close SERVER... - runs INSIDE
# a QEMU guest (tests/vm/guest.sh) as root for make profile: loads sakura.ko
# and, for each SERVER (user, supervisor, limit, nginx), serves a file of SIZE
# (1k, 16k, 256k, 1m) on keep-alive or with Connection: close to
# wrk -t1 -cCONNS while perf samples every CPU (cpu-clock, 999 Hz, call
# graphs) for SECONDS. Writes $VM_OUT/SERVER.txt: the flat profile of the
# samples spent in the server (its threads and the softirqs it causes:
# everything but wrk, perf and idle), SERVER-graph.txt, the call graphs, and
# SERVER-ftrace.txt: per request, the calls and traced time of the request
# path's functions (function_graph, one second; loadtest/ftrace_agg.awk).
# Each server is started by loadtest/bench.py --serve, as make bench does.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/vm/guest_lib.sh"
seconds=$1 size=$2 conns=$3 close=$4
shift 4
case $size in
1k) bytes=1024 ;; 16k) bytes=16384 ;; 256k) bytes=262144 ;; 1m) bytes=1048576 ;;
*) echo "profile: unknown size $size"; exit 1 ;;
esac
file=$size.bin
wrk_args=(-t1 "-c$conns")
[ "$close" = close ] && wrk_args+=(-H "Connection: close")
ulimit -n 65536
sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
insmod "$ko" || exit 1
root=/tmp/profile-root
mkdir -p "$root"
head -c "$bytes" /dev/urandom >"$root/$file"
rc=0
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T
# tasks are named from a cache of recent comms; one missing from it prints
# as "<...>", which ftrace_agg.awk counts on neither side
echo 8192 >$T/saved_cmdlines_size 2>/dev/null
# function_graph over the request path's functions, where they exist: the
# kernel's socket, lookup and read calls (every server makes them) and the
# module's handler steps. Missing ones (another kernel) are left out.
FUNCS="tcp_recvmsg tcp_sendmsg sock_def_readable try_to_wake_up
	do_epoll_wait do_sys_openat2 getname_flags getname_kernel putname
	vfs_path_lookup vfs_getattr vfs_fstat vfs_read kernel_read
	do_splice_direct __fput sk_stream_write_space
	ks_conn_run ks_http_parse ks_uri_normalize ks_resp_head_build
	ks_mime_lookup ks_etag_format ks_http_date_format ks_cond_eval
	sakura_recv sakura_send sakura_read sakura_send_file
	sakura_open_beneath sakura_close"
# trace_run SERVER ADDR - one traced second in the middle of a 4 s wrk run;
# $VM_OUT/SERVER-ftrace.txt: calls and traced us per request, per function
trace_run() {
	local s=$1 addr=$2 f w
	echo nop >$T/current_tracer
	echo 60000 >$T/buffer_size_kb
	: >$T/set_ftrace_filter
	for f in $FUNCS; do echo "$f" >>$T/set_ftrace_filter 2>/dev/null; done
	echo 1 >$T/options/funcgraph-proc
	echo 1 >$T/options/funcgraph-tail
	echo 0 >$T/tracing_on
	echo function_graph >$T/current_tracer
	: >$T/trace
	wrk "${wrk_args[@]}" -d4s "http://$addr/$file" >"$VM_OUT/$s-wrk-traced.txt" 2>&1 &
	w=$!
	sleep 2
	echo 1 >$T/tracing_on
	sleep 1
	echo 0 >$T/tracing_on
	wait $w
	if grep -q 'overrun: [1-9]' $T/per_cpu/cpu*/stats; then
		echo "profile: $s: the trace buffer overran (events lost)"
		rc=1
	fi
	if ! awk -f "$top/loadtest/ftrace_agg.awk" $T/trace >"$VM_OUT/$s-ftrace.txt"; then
		echo "profile: $s: nothing traced"
		rc=1
	fi
	echo nop >$T/current_tracer
	: >$T/set_ftrace_filter
}
for s in "$@"; do
	case $s in
	user|supervisor|limit|nginx) ;;
	*) echo "profile: unknown server $s"; rc=1; continue ;;
	esac
	# each server as make bench starts it (its nginx.conf, its flags)
	port=$(free_addr) port=${port##*:}
	addr=127.0.0.1:$port
	python3 "$top/loadtest/bench.py" --serve "$s" --port "$port" \
		--docroot "$root" --out "/tmp/profile-$s" >"$VM_OUT/$s.out" 2>&1 &
	pid=$!
	if ! wait_listening "$addr"; then
		echo "profile: $s did not start (see $s.out)"
		kill "$pid" 2>/dev/null
		wait "$pid"
		rc=1
		continue
	fi
	wrk "${wrk_args[@]}" -d1s "http://$addr/$file" >/dev/null	# warm-up
	perf record -q -a -g -e cpu-clock -F 999 -o "/tmp/$s.data" -- \
		wrk "${wrk_args[@]}" -d"${seconds}s" "http://$addr/$file" >"$VM_OUT/$s-wrk.txt" 2>&1
	trace_run "$s" "$addr"
	kill -TERM "$pid"
	if ! wait "$pid"; then
		echo "profile: $s did not stop cleanly (see $s.out)"
		rc=1
	fi
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
