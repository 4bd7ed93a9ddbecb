#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# faults_guest.sh [KILLS] - runs INSIDE a test guest (tests/vm/guest.sh) as
# root: process and module faults, each followed by proof that the module
# holds nothing (the "module live_*" line of /proc/sakura back to zero).
#
#   1. KILLS (default 50) times: kserver under wrk load, killed with SIGKILL
#      at a random moment (from start-up to mid-switch), in a random mode,
#      sometimes while kserverctl switches it; then everything let go
#   2. kserverctl killed with SIGKILL mid-switch, 20 times, under load: the
#      server answers every request (wrk: no errors), and switches again
#   3. rmmod tried 20 times while a server is busy: always refused, no
#      request lost
#   4. the module unloads, and nothing was left (live counts, use count)
#
# Ends with "N passed, N failed". dmesg and taint are checked by guest.sh.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/build/kserverctl
kills=${1:-50}
. "$top/tests/vm/guest_lib.sh"
guest_work sakura-faults

# no_errors FILE - wrk ran and saw no socket error and no non-2xx answer
no_errors() {
	grep -q 'Requests/sec' "$1" && ! grep -qE 'Socket errors|Non-2xx' "$1"
}

insmod "$ko"
result "insmod $ko" $?
mkdir -p "$work/root"
head -c 1024 /dev/urandom >"$work/root/1k.bin"
head -c $((1 << 20)) /dev/urandom >"$work/root/1m.bin"
echo hello >"$work/root/hello.txt"

# --- 1. kill -9 at random moments ---------------------------------------------
left=0 switching=0
for i in $(seq "$kills"); do
	modes=(user supervisor)
	mode=${modes[RANDOM % 2]}
	addr=$(free_addr)
	"$KSERVER" --root "$work/root" --listen "$addr" --mode "$mode" \
		--access-log "$work/kill.log" >"$work/kill.out" 2>&1 &
	server_pid=$!
	# a random moment: one in five during start-up, else under load
	if ((RANDOM % 5)); then
		wait_listening "$addr"
		files=(1k.bin 1m.bin hello.txt)
		wrk -t1 -c16 -d3s "http://$addr/${files[RANDOM % 3]}" >/dev/null 2>&1 &
		wrk_pid=$!
		ctl_pid=
		if ((RANDOM % 2)); then
			"$CTL" switch-mode user --pid "$server_pid" --repeat 100000 \
				--interval 0.01 >/dev/null 2>&1 &
			ctl_pid=$!
			switching=$((switching + 1))
		fi
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		kill -KILL "$server_pid"
		wait "$server_pid" 2>/dev/null
		[ -n "$ctl_pid" ] && wait "$ctl_pid"
		wait "$wrk_pid"
	else
		sleep "0.0$((RANDOM % 10))"
		kill -KILL "$server_pid"
		wait "$server_pid" 2>/dev/null
	fi
	server_pid=
	if ! sakura_idle; then
		echo "  kill $i ($mode): $(sakura_live)"
		left=$((left + 1))
	fi
done
((left == 0))
result "$kills kills with SIGKILL ($switching while switching): the module let go of everything each time" $?
echo "figure: process_kills $kills"

# --- 2. kserverctl killed mid-switch ------------------------------------------
ctl_kills=0
if start_server ctl "$work/root" --mode user; then
	wrk -t1 -c16 -d20s "http://$addr/1k.bin" >"$work/wrk-ctl.out" 2>&1 &
	wrk_pid=$!
	for _ in $(seq 20); do
		"$CTL" switch-mode supervisor --pid "$server_pid" --repeat 100000 \
			--interval 0.01 >/dev/null 2>&1 &
		ctl_pid=$!
		sleep "0.$((RANDOM % 10))"
		kill -KILL "$ctl_pid"
		wait "$ctl_pid" 2>/dev/null
		ctl_kills=$((ctl_kills + 1))
	done
	"$CTL" switch-mode supervisor --pid "$server_pid" --timeout 10 >"$work/ctl-after.out" 2>&1
	after_up=$?
	"$CTL" switch-mode user --pid "$server_pid" --timeout 10 >>"$work/ctl-after.out" 2>&1
	after_down=$?
	wait "$wrk_pid"
	sed -n 's/^ *\([0-9]*\) requests in.*/  wrk: \1 requests/p' "$work/wrk-ctl.out"
	no_errors "$work/wrk-ctl.out"
	result "kserverctl killed mid-switch $ctl_kills times under load: no request lost" $?
	[ $after_up = 0 ] && [ $after_down = 0 ]
	result "the server switches both ways afterwards" $?
	[ $after_up = 0 ] && [ $after_down = 0 ] || sed 's/^/  /' "$work/ctl-after.out"
	curl -sf -o /dev/null "http://$addr/hello.txt"
	result "and still serves" $?
	stop_server
	result "it exits 0 on SIGTERM" $?
else
	result "server start for the kserverctl kills" 1
fi
echo "figure: switcher_kills $ctl_kills"

# --- 3. rmmod while busy ------------------------------------------------------
refused=0
if start_server busy "$work/root" --mode supervisor; then
	wrk -t1 -c16 -d8s "http://$addr/1k.bin" >"$work/wrk-busy.out" 2>&1 &
	wrk_pid=$!
	"$CTL" switch-mode user --pid "$server_pid" --repeat 100000 --interval 0.05 \
		--duration 6 >/dev/null 2>&1 &
	ctl_pid=$!
	for _ in $(seq 20); do
		rmmod sakura 2>/dev/null || refused=$((refused + 1))
		sleep 0.2
	done
	wait "$ctl_pid"
	wait "$wrk_pid"
	[ "$refused" = 20 ]
	result "rmmod refused $refused/20 times while the server was busy" $?
	no_errors "$work/wrk-busy.out"
	result "no request lost meanwhile" $?
	stop_server
	result "the busy server exits 0 on SIGTERM" $?
else
	result "server start for rmmod while busy" 1
fi

# --- 4. nothing left ----------------------------------------------------------
sakura_idle
result "the module holds nothing: $(sakura_live)" $?
[ "$(cat /sys/module/sakura/refcnt)" = 0 ]
result "the module's use count is 0" $?
rmmod sakura
result "rmmod at the end" $?
summary
