# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# lib.sh - shell helpers shared by tests/http/run.sh and tests/clients/run.sh:
# start and stop a kserver, count checks. Source it from bash; set $work (a
# scratch directory) before calling them.
#
# Environment:
#   KSERVER        server binary (default: build/kserver)
#   KSERVER_FLAGS  extra server flags, e.g. "--mode supervisor"
#   ADDR           listen address (default: 127.0.0.1 and a free port)
#   PYTHON         (default: /usr/bin/python3, Debian's, stdlib only)

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KSERVER=${KSERVER:-$top/build/kserver}
KSERVER_FLAGS=${KSERVER_FLAGS:-}
PYTHON=${PYTHON:-/usr/bin/python3}
work=
addr=
server_pid=
passed=0
failed=0
skipped=0

# result WHAT STATUS - count and print one check's outcome.
result() {
	if [ "$2" = 0 ]; then
		echo "ok $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1"
		failed=$((failed + 1))
	fi
}

# counted WHAT OUTPUT STATUS - fold a sub-suite's own "N passed, N failed[,
# N skipped]" closing line (in file OUTPUT) into the counts, so the last line
# sums cases.
counted() {
	local line p f k
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
	k=$(echo "$line" | sed -n 's/^[0-9]* passed, [0-9]* failed, \([0-9]*\) skipped.*/\1/p')
	if [ -z "$line" ] || { [ "$3" != 0 ] && [ "${f:-0}" = 0 ]; }; then
		f=$((${f:-0} + 1))
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + f))
	skipped=$((skipped + ${k:-0}))
	echo "$1: ${p:-0} passed, $f failed${k:+, $k skipped}"
}

# summary - the closing line; returns 0 iff nothing failed.
summary() {
	if [ "$skipped" != 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" = 0 ]
}

# guest_suite LABEL OUT GUEST_ARGS... - one tests/vm/guest.sh run (--out OUT
# GUEST_ARGS...) counted under LABEL from its console (a dirty dmesg, a bad
# taint or a dead guest fail it). guest.sh itself boots once more a guest
# that died before the script started.
guest_suite() {
	local label=$1 out=$2 rc
	shift 2
	"$top/tests/vm/guest.sh" --out "$out" "$@"
	rc=$?
	tr -d '\r' <"$out/console.log" >"$out/console.txt" 2>/dev/null
	counted "$label" "$out/console.txt" "$rc"
}

# require_server - exit 77 (skip) when there is no server binary.
require_server() {
	if [ ! -x "$KSERVER" ]; then
		echo "skip: $KSERVER is not built (run make)"
		exit 77
	fi
}

free_addr() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print("127.0.0.1:%d" % s.getsockname()[1])'
}

# wait_listening ADDR - until something accepts on ADDR (host:port), at
# most 10 s; fails when nothing does
wait_listening() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_server NAME ROOT [FLAG...] - start kserver on ROOT; sets addr and
# server_pid; access log $work/NAME.log, output $work/NAME.out. Fails when
# it does not accept connections within 10 s.
start_server() {
	local name=$1 root=$2 host port
	shift 2
	addr=${ADDR:-$(free_addr)}
	host=${addr%:*}
	host=${host#[}
	host=${host%]}
	port=${addr##*:}
	# shellcheck disable=SC2086 # KSERVER_FLAGS is a list of flags
	"$KSERVER" --root "$root" --listen "$addr" --access-log "$work/$name.log" \
		$KSERVER_FLAGS "$@" >"$work/$name.out" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "server did not start listening on $addr; its output:"
	sed 's/^/    /' "$work/$name.out"
	kill -KILL "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
	return 1
}

# wait_gone PID SECONDS - until PID has exited, at most SECONDS; fails if
# it still runs then
wait_gone() {
	local _
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# stop_server - SIGTERM; the server must exit with status 0 within 10 s.
stop_server() {
	local status
	kill -TERM "$server_pid"
	if ! wait_gone "$server_pid" 10; then
		echo "server still running 10 s after SIGTERM"
		kill -KILL "$server_pid"
	fi
	wait "$server_pid"
	status=$?
	server_pid=
	[ "$status" = 0 ] || echo "server exited with status $status"
	return "$status"
}

# cleanup_work - kill a server left running, remove $work unless KEEP_WORK=1.
cleanup_work() {
	if [ -n "$server_pid" ]; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "${KEEP_WORK:-0}" = 1 ]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
