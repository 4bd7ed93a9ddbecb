#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# switch_guest.sh - runs INSIDE a test guest (tests/vm/guest.sh) as root:
# live mode switching with kserverctl, end to end.
#
#   1. a server started in user mode registers, is listed by kserverctl
#      status (text and JSON), switches to supervisor mode and back, serves
#      in each, and says "already" when asked for the mode it has
#   2. another uid cannot switch it: EPERM (node opened to all), or no
#      access to the root-only node; the mode does not change. No such pid;
#      a stopped server times out and applies the switch when resumed; with
#      two servers switch-mode wants --pid
#   3. wrk -c64 for 30 s while the mode alternates every 100 ms, three ways
#      (keep-alive from user mode, pipelined from supervisor mode, and
#      Connection: close): zero socket errors, zero non-2xx, every switch
#      acknowledged, >= 200 switches, both modes served, nothing lost
#      kill -9 of a server while it is being switched under load
#   4. kserverctl daemon switches up under load and back down after it,
#      logging why, and exits 0 on SIGTERM
#   5. every server exits 0 on SIGTERM, and sakura.ko unloads
# Ends with "N passed, N failed". dmesg and taint are checked by guest.sh.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/build/kserverctl
DURATION=${SWITCH_DURATION:-30}
MIN_SWITCHES=${SWITCH_MIN:-200}
. "$top/tests/vm/guest_lib.sh"
guest_work switch-guest
trap 'cleanup_work; kill $daemon_pid 2>/dev/null' EXIT
daemon_pid=
# served from tmpfs: on the guest's 9p root every open is a round trip to
# QEMU, which would measure 9p rather than kserver
root=$work/root
mkdir -p "$root"
cp -r "$top/www/." "$root/"
cp "$top/build/docroot/1k.bin" "$root/"	# make bench-files

# counted output of a sub-suite, folded into ours
run_counted() {
	local name=$1
	shift
	"$@" >"$work/sub.out" 2>&1
	local rc=$?
	grep -vE '^ok ' "$work/sub.out"
	counted "$name" "$work/sub.out" "$rc"
}

# field KEY - one top-level field of the server's status --json
field() {
	"$CTL" status --json --pid "$server_pid" |
		"$PYTHON" -c 'import json, sys
s = json.load(sys.stdin)["servers"][0]
v = s
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

get() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$addr/1k.bin"
}

insmod "$ko"
result "insmod $ko" $?

# --- 1. status, one switch each way ----------------------------------------------
out=$("$CTL" status 2>&1)
[ $? = 0 ] && [ "$out" = "no kserver is registered with sakura.ko" ]
result "kserverctl status with no server: '$out'" $?
out=$("$CTL" switch-mode supervisor 2>&1)
[ $? = 1 ] && [[ $out =~ no\ kserver\ is\ registered ]]
result "switch-mode with no server: exit 1, '$out'" $?
start_server user "$root"
result "kserver starts in user mode" $?
grep -q 'switchable with kserverctl' "$work/user.out"
result "it says it is switchable: $(head -n 1 "$work/user.out")" $?
"$CTL" status >"$work/status.txt" 2>&1
cat "$work/status.txt"
grep -q "$server_pid" "$work/status.txt" && grep -qi 'user' "$work/status.txt"
result "kserverctl status lists it in user mode" $?
[ "$(field pid)" = "$server_pid" ] && [ "$(field mode)" = user ]
result "kserverctl status --json: pid and mode" $?
[ "$(get)" = 200 ]
result "GET in user mode" $?
out=$("$CTL" switch-mode supervisor 2>&1)
rc=$?
echo "  $out"
[ $rc = 0 ] && [[ $out =~ ^pid\ $server_pid:\ user\ -\>\ supervisor\ in\ [0-9.]+\ ms$ ]]
result "switch-mode supervisor (the only server, no --pid)" $?
before=$(field requests.supervisor)
[ "$(get)" = 200 ] && [ "$(get)" = 200 ]
result "GET in supervisor mode" $?
after=$(field requests.supervisor)
[ "$(field mode)" = supervisor ] && [ "$after" -ge $((before + 2)) ]
result "the kernel served them ($before -> $after supervisor-mode requests)" $?
out=$("$CTL" switch-mode supervisor --pid "$server_pid" 2>&1)
[ $? = 0 ] && [ "$out" = "pid $server_pid: already in supervisor mode" ]
result "switch-mode to the mode it has: '$out'" $?
out=$("$CTL" switch-mode user --pid "$server_pid" 2>&1)
[ $? = 0 ] && [[ $out =~ supervisor\ -\>\ user ]] && [ "$(get)" = 200 ] &&
	[ "$(field mode)" = user ]
result "switch-mode user: '$out', and it serves" $?

# --- 2. another uid may not switch it --------------------------------------------
chmod 0666 /dev/sakura
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$CTL" switch-mode supervisor --pid "$server_pid" 2>&1)
rc=$?
chmod 0600 /dev/sakura
echo "  as nobody, node 0666: $out"
[ $rc = 1 ] && [[ $out =~ permission\ denied ]] && [ "$(field mode)" = user ]
result "another uid gets EPERM, mode unchanged" $?
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$CTL" switch-mode supervisor --pid "$server_pid" 2>&1)
rc=$?
echo "  as nobody, node 0600: $out"
[ $rc = 1 ] && [[ $out =~ /dev/sakura ]] && [ "$(field mode)" = user ]
result "another uid cannot open the root-only node, mode unchanged" $?

# --- 2b. no such pid; a stopped server times out, then applies it -------------
out=$("$CTL" switch-mode supervisor --pid 999999 2>&1)
[ $? = 1 ] && [[ $out =~ no\ kserver\ with\ that\ pid ]]
result "switch-mode --pid of no server: exit 1, '$out'" $?
kill -STOP "$server_pid"
out=$("$CTL" switch-mode supervisor --timeout 0.5 2>&1)
rc=$?
[ "$(field pending)" = True ] && [ "$(field mode)" = user ]
pending=$?
kill -CONT "$server_pid"
[ $rc = 1 ] && [[ $out =~ no\ acknowledgement\ within\ 0.5\ s ]] && [ $pending = 0 ]
result "a stopped server: timeout after 0.5 s, exit 1, request pending: '$out'" $?
for _ in $(seq 50); do
	[ "$(field mode)" = supervisor ] && break
	sleep 0.1
done
[ "$(field mode)" = supervisor ] && [ "$(get)" = 200 ]
result "resumed, it applies the pending switch and serves" $?

# --- 2c. two servers: switch-mode must be told which ---------------------------
first=$server_pid
first_addr=$addr
server_pid=
start_server second "$root"
out=$("$CTL" switch-mode user 2>&1)
[ $? = 1 ] && [[ $out =~ 2\ servers\ are\ registered ]] &&
	[[ $out =~ $first ]] && [[ $out =~ $server_pid ]]
result "two servers, no --pid: exit 1, '$out'" $?
stop_server
result "second server exits 0" $?
server_pid=$first
addr=$first_addr
stop_server
result "first server exits 0 (in supervisor mode, after the switches)" $?

# --- 3. switching under load ------------------------------------------------------
# variant START-MODE
under_load() {
	local v=$1 mode=$2
	if ! start_server "load-$v" "$root" --mode "$mode"; then
		result "$v: server start" 1
		return
	fi
	# the switcher (kserverctl) at nice -10 and wrk at +5: a saturated
	# 2-CPU emulated guest would otherwise time process start-ups
	run_counted "switching under load, $v" nice -n -10 "$PYTHON" \
		"$top/tests/vm/switch_load.py" --kserverctl "$CTL" \
		--pid "$server_pid" --url "http://$addr/1k.bin" --variant "$v" \
		--duration "$DURATION" --min-switches "$MIN_SWITCHES"
	stop_server
	result "$v: server exits 0 after the run" $?
}
under_load keepalive user
under_load pipeline supervisor
under_load close user

# --- 3b. kill -9 in the middle of switching under load ---------------------------
if start_server killed "$root" --mode supervisor; then
	wrk -t1 -c32 -d6s "http://$addr/1k.bin" >/dev/null 2>&1 &
	wrk_pid=$!
	"$CTL" switch-mode user --pid "$server_pid" --repeat 100000 \
		--interval 0.02 >"$work/killed-ctl.out" 2>&1 &
	ctl_pid=$!
	sleep 3
	kill -KILL "$server_pid"
	wait "$server_pid" 2>/dev/null
	server_pid=
	wait "$ctl_pid"
	rc=$?
	wait "$wrk_pid"
	grep -c ' -> ' "$work/killed-ctl.out" | sed 's/^/  switches before the kill: /'
	tail -n 2 "$work/killed-ctl.out" | sed 's/^/  /'
	[ $rc = 1 ] && grep -q 'no kserver with that pid' "$work/killed-ctl.out"
	result "kill -9 while switching under load: kserverctl stops with one clear line" $?
else
	result "server start for the kill -9 test" 1
fi

# --- 4. the daemon ------------------------------------------------------------
start_server daemon "$root"
"$CTL" daemon --auto --up 100 --down 10 --interval 0.5 --samples 3 \
	--pid "$server_pid" >"$work/ctl-daemon.txt" 2>&1 &
daemon_pid=$!
sleep 2
wrk -t1 -c16 -d8s "http://$addr/1k.bin" >"$work/daemon-wrk.out" 2>&1
up=0
grep -q 'user -> supervisor' "$work/ctl-daemon.txt" && up=1
for _ in $(seq 40); do	# back down: three quiet samples, 1.5 s
	grep -q 'supervisor -> user' "$work/ctl-daemon.txt" && break
	sleep 0.25
done
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=
sed 's/^/  daemon: /' "$work/ctl-daemon.txt"
[ $up = 1 ]
result "daemon switched up under load, saying why" $?
grep -qE 'supervisor -> user' "$work/ctl-daemon.txt" && [ "$(field mode)" = user ]
result "daemon switched back down when the load stopped" $?
grep -E 'user -> supervisor' "$work/ctl-daemon.txt" | grep -qE '[0-9]+ rps'
result "daemon log names the rate behind each decision" $?
[ $rc = 0 ]
result "daemon exits 0 on SIGTERM" $?
stop_server
result "server exits 0 after the daemon run" $?

# --- 5. unload ----------------------------------------------------------------
sakura_unload 2>/dev/null
! sakura_loaded
result "rmmod after the switching servers exited" $?
summary
