#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - slow and many clients against one kserver on loopback.
#
#   a. slowhttptest's slowloris (-H), slow POST (-B) and slow read (-X), one
#      after the other, each while wrk measures normal clients: they keep at
#      least half the throughput wrk measured just before without an attack
#      (medians of short runs, retried once: the machine is shared); the
#      attack was real (the server held, or slowhttptest saw closed, at least
#      rate/5 slow connections); then the attacker is frozen (SIGSTOP) with
#      its connections open, and the server must close them all by its
#      header/send timeout (its /proc/PID/fd back to the baseline); the
#      kernel's TCP memory stays under tcp_mem's pressure mark
#   b. 10,000 idle connections (half of them after one keep-alive request,
#      hold.py) plus wrk: no error, half the baseline throughput or better,
#      p99 latency at most 10x the baseline's; VmRSS grows by less than
#      2 KiB a connection; the server closes every idle one by its
#      keep-alive/header timeout
#   c. descriptor exhaustion: a server limited to 64 descriptors and 300
#      connections held open: it does not crash, does not spin (its CPU time
#      over 3 s of exhaustion against 2 s idle), says so in its log, and
#      serves again (and says so) as soon as the excess connections go away
#
# Usage: tests/slow/run.sh [--long|--small] [--mode user|supervisor]
#                          [--only PARTS]
#   --long   60 s attacks, 20,000 idle connections, longer runs (make stress)
#   --small  for a QEMU/TCG guest, ~100x slower than the host: 100 slow
#            connections a second, 2,000 idle ones, 60 s idle timeout
#   --mode   where the server's handler runs (supervisor: sakura.ko loaded,
#            e.g. in a guest, tests/slow/slow_guest.sh)
#   --only   some of the parts a, b, c (e.g. "c", "ab"; default all)
# Environment: KSERVER, PYTHON (tests/http/lib.sh), KEEP_WORK=1,
#   SLOW_IDLE_TIMEOUT  the idle server's timeouts (default 10 s; long 20, small 60)
# Prints "ok"/"FAIL" per check, "figure: slow_connections N" (most slow
# connections the server held at once), "figure: idle_connections N" and
# "N passed, N failed". Exit: 0 all passed, 1 a failure, 77 skipped.
# Only 127.0.0.0/8 is ever contacted; every step has a time bound.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../http/lib.sh
. "$here/../http/lib.sh"

long=0 small=0 mode=user only=abc
while [ $# -gt 0 ]; do
	case $1 in
	--long) long=1 ;;
	--mode)
		mode=${2:-}
		shift
		;;
	--only)
		only=${2:-}
		shift
		;;
	--small) small=1 ;;
	*)
		echo "usage: $0 [--long|--small] [--mode user|supervisor] [--only a|b|c]" >&2
		exit 2
		;;
	esac
	shift
done
case $mode in
user | supervisor) ;;
*)
	echo "--mode: '$mode' is neither user nor supervisor" >&2
	exit 2
	;;
esac

require_server
for tool in wrk slowhttptest curl strace; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is not installed (tests/deps.sh)"
		exit 77
	fi
done
if [ "$mode" = supervisor ] && [ ! -e /dev/sakura ]; then
	echo "skip: supervisor mode needs sakura.ko loaded (/dev/sakura)"
	exit 77
fi

# sizes: short for make test (<= 2 min on the host), long for make stress
if [ "$long" = 1 ]; then
	rate=250 ramp=60		# slow connections a second, seconds
	wrk_runs=5 wrk_secs=5
	idle=20000 idle_timeout=20 spin_pct=10
else
	rate=500 ramp=8
	wrk_runs=3 wrk_secs=1
	idle=10000 idle_timeout=10 spin_pct=10
fi
if [ "$small" = 1 ]; then
	rate=100 wrk_runs=3 idle=2000 idle_timeout=60	# connects: 35 s
fi
# a slow guest (TCG) needs longer to open the idle connections
idle_timeout=${SLOW_IDLE_TIMEOUT:-$idle_timeout}
header_timeout=2 send_timeout=3		# the attacks' server
min_held=$((rate / 5))			# slow connections an attack must reach
exhaust_nofile=64 exhaust_conns=300
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"	# root may raise it
if [ "$(ulimit -n)" -lt $((idle + 1000)) ]; then
	if [ "$long" = 0 ]; then
		echo "skip: ulimit -n $(ulimit -Hn) is below $((idle + 1000)) (hard limit)"
		exit 77
	fi
	idle=$(($(ulimit -n) - 1000))
	echo "note: ulimit -n $(ulimit -Hn) (hard limit): $idle idle connections"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kserver-slow.XXXXXX")
trap 'stop_attacker; stop_sampler; cleanup_work' EXIT
root=$work/root
mkdir -p "$root"
{
	echo "<!doctype html><title>slow</title><p>"
	head -c 768 /dev/zero | tr '\0' x
	echo "</p>"
} >"$root/index.html"
head -c $((8 << 20)) /dev/zero >"$root/big.bin"	# for the slow reader
KSERVER_FLAGS="--mode $mode"
slow_peak=0

now() { echo "${EPOCHREALTIME/,/.}"; }
# elapsed SINCE - seconds since SINCE (from now), 1 decimal
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# nfds PID - descriptors open in PID (0 when it is gone)
nfds() {
	local f=(/proc/"$1"/fd/*)
	[ -e "${f[0]}" ] && echo "${#f[@]}" || echo 0
}

# cpu_ticks PID - its user + system time, clock ticks
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# tcp_mem - pages the kernel's TCP sockets use now (all of them)
tcp_mem() {
	awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' \
		/proc/net/sockstat
}

sampler_pid=
# start_sampler FILE - every 0.2 s into FILE: the server's descriptors, the
# kernel's TCP memory in pages
start_sampler() {
	(
		while kill -0 "$server_pid" 2>/dev/null; do
			echo "$(nfds "$server_pid") $(tcp_mem)"
			sleep 0.2
		done
	) >"$1" &
	sampler_pid=$!
}

stop_sampler() {
	[ -n "$sampler_pid" ] || return 0
	kill "$sampler_pid" 2>/dev/null
	wait "$sampler_pid" 2>/dev/null
	sampler_pid=
}

# wrk_once SECONDS - one wrk run on /index.html: sets rps, p99_ms, errs
wrk_once() {
	timeout $(($1 + 20)) wrk -t1 -c16 -d"$1"s --latency \
		"http://$addr/index.html" >"$work/wrk.out" 2>&1
	cat "$work/wrk.out" >>"$work/wrk.log"
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.out")
	p99_ms=$(awk '$1 == "99%" { v = $2 + 0
		if ($2 ~ /us$/) v /= 1000; else if ($2 ~ /[^m]s$/) v *= 1000
		print v }' "$work/wrk.out")
	errs=$(awk '/Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
		/Non-2xx/ { n += $NF } END { print n + 0 }' "$work/wrk.out")
	rps=${rps:-0} p99_ms=${p99_ms:-999999}
}

# wrk_median - wrk_runs runs: median rps and p99_ms, errors summed
wrk_median() {
	local r=() p=() e=0 i
	for ((i = 0; i < wrk_runs; i++)); do
		wrk_once "$wrk_secs"
		r+=("$rps") p+=("$p99_ms") e=$((e + errs))
	done
	rps=$(printf '%s\n' "${r[@]}" | sort -g | awk '{ v[NR] = $1 }
		END { print v[int((NR + 1) / 2)] }')
	p99_ms=$(printf '%s\n' "${p[@]}" | sort -g | awk '{ v[NR] = $1 }
		END { print v[int((NR + 1) / 2)] }')
	errs=$e
	echo "    wrk: ${r[*]} req/s (median $rps), p99 ${p[*]} ms, errors $e"
}

# at_least_half GOT BASE - true iff GOT >= BASE / 2
at_least_half() {
	awk -v g="$1" -v b="$2" 'BEGIN { exit !(g * 2 >= b) }'
}

# --- a. slow attacks while normal clients are measured ------------------------

atk=
stop_attacker() {
	[ -n "$atk" ] || return 0
	kill -CONT "$atk" 2>/dev/null
	kill -INT "$atk" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$atk" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$atk" 2>/dev/null
	wait "$atk" 2>/dev/null
	atk=
}

# attack NAME TIMEOUT SLOWHTTPTEST-ARGS... - one attack, with wrk meanwhile;
# then the attacker is frozen (SIGSTOP): it holds its connections without
# another byte, and the server must close them all by its TIMEOUT
attack() {
	local name=$1 timeout=$2 conns=$((rate * (ramp + 10))) t0 peak left=-1 bound
	shift 2
	echo "  $name: baseline first, no attack:"
	wrk_median
	base_rps=$rps base_p99=$p99_ms
	[ "$errs" = 0 ] && awk -v r="$rps" 'BEGIN { exit !(r > 0) }'
	result "$name: baseline without an attack ($base_rps req/s, p99 $base_p99 ms)" $?
	start_sampler "$work/$name.fds"
	t0=$(now)
	nice -n 10 slowhttptest "$@" -c "$conns" -r "$rate" -l 300 -i 10 -p 3 \
		-g -o "$work/$name" >"$work/$name.txt" 2>&1 &
	atk=$!
	sleep 2
	echo "  $name: under attack:"
	wrk_median
	if ! at_least_half "$rps" "$base_rps"; then
		echo "    (once more: this machine is shared)"
		local first=$rps
		wrk_median
		rps=$(awk -v a="$first" -v b="$rps" 'BEGIN { print (a > b ? a : b) }')
	fi
	at_least_half "$rps" "$base_rps" && [ "$errs" = 0 ]
	result "$name: normal clients keep half the throughput ($rps req/s, baseline $base_rps, $errs errors)" $?
	# the attack lasts ramp s (still opening connections), then freezes
	while awk -v e="$(elapsed "$t0")" -v l="$ramp" 'BEGIN { exit !(e < l) }'; do
		sleep 0.5
	done
	kill -STOP "$atk"
	t0=$(now)
	held=$(($(nfds "$server_pid") - base_fds))
	# a lingering close (after a refused POST) waits up to 5 s
	bound=$((timeout > 5 ? timeout + 3 : 8))
	while :; do
		left=$(($(nfds "$server_pid") - base_fds))
		((left <= 4)) && break
		awk -v e="$(elapsed "$t0")" -v b="$bound" 'BEGIN { exit !(e < b) }' || break
		sleep 0.2
	done
	took=$(elapsed "$t0")
	kill -0 "$atk" 2>/dev/null
	alive=$?
	stop_attacker
	stop_sampler
	peak=$(sort -n "$work/$name.fds" | awk 'END { print $1 + 0 }')
	peak=$((peak - base_fds))
	((peak > slow_peak)) && slow_peak=$peak
	mem=$(sort -n -k2 "$work/$name.fds" | awk 'END { print $2 + 0 }')
	echo "    $name: $conns slow connections asked at $rate/s; the server held up to $peak at once, $held when the attacker froze, $left after $took s"
	grep -a -E -A7 'Test ended|status on' "$work/$name.txt" | sed 's/\x1b\[[0-9;]*m//g' |
		grep -a -E 'connected|closed|Exit' | tail -n 3 | sed 's/^/    /'
	# not vacuous: the attack reached the server (a refused POST is
	# closed at once, so slowhttptest counts those)
	if [ "$name" = slow-post ]; then
		strength=$(grep -a 'closed:' "$work/$name.txt" | tail -n 1 |
			sed 's/\x1b\[[0-9;]*m//g' | awk '{ print $2 + 0 }')
	else
		strength=$peak
	fi
	((strength >= min_held))
	result "$name: the attack was real: $strength slow connections (at least $min_held)" $?
	((left <= 4)) && [ "$alive" = 0 ]
	result "$name: the server closed the slow connections by its ${timeout} s timeout while the frozen attacker held them ($took s, at most $bound)" $?
	# what the server lets one slow reader queue, times thousands
	((mem < tcp_pressure))
	result "$name: the kernel's TCP memory stayed under its pressure mark (peak $mem pages, pressure at $tcp_pressure)" $?
}

part() { [[ $only == *$1* ]]; }

part a && start_server attack "$root" --header-timeout "$header_timeout" \
	--keepalive-timeout "$header_timeout" --send-timeout "$send_timeout"
part a && result "server started, $mode mode (--header-timeout $header_timeout --send-timeout $send_timeout)" $?
if part a && [ -n "$server_pid" ]; then
	sleep 0.5
	base_fds=$(nfds "$server_pid")
	tcp_pressure=$(awk '{ print $2 }' /proc/sys/net/ipv4/tcp_mem)
	url=http://$addr/index.html
	attack slowloris "$header_timeout" -H -u "$url"
	attack slow-post "$header_timeout" -B -s 100000 -u "$url"
	attack slow-read "$send_timeout" -X -k 4 -w 512 -y 1024 -n 5 -z 32 \
		-u "http://$addr/big.bin"
	kill -0 "$server_pid" 2>/dev/null && stop_server
	result "server survived the attacks and exits 0" $?
fi
part a && echo "figure: slow_connections $slow_peak" && echo "  (at $SECONDS s)"

# --- b. many idle connections plus normal traffic ------------------------------

held=0
part b && start_server idle "$root" --header-timeout "$idle_timeout" \
	--keepalive-timeout "$idle_timeout"
part b && result "server started (--header-timeout/--keepalive-timeout $idle_timeout)" $?
if part b && [ -n "$server_pid" ]; then
	sleep 0.5
	base_fds=$(nfds "$server_pid")
	echo "  baseline, no idle connections:"
	wrk_median
	base_rps=$rps base_p99=$p99_ms
	rss0=$(rss_kb "$server_pid")
	"$PYTHON" "$here/hold.py" "$addr" "$idle" --requests 0.5 \
		--wait-close $((idle_timeout + 30)) >"$work/hold.out" 2>&1 &
	hold=$!
	for _ in $(seq 1800); do	# hold.py gives up connecting after 60 s
		grep -q '^held' "$work/hold.out" || ! kill -0 "$hold" 2>/dev/null && break
		sleep 0.1
	done
	t0=$(now)
	now_fds=$(($(nfds "$server_pid") - base_fds))
	rss1=$(rss_kb "$server_pid")
	held=$(awk '/^held/ { print $2 }' "$work/hold.out")
	held=${held:-0}
	sed 's/^/    /' "$work/hold.out"
	[ "$held" -ge $((idle * 95 / 100)) ] && [ "$now_fds" -ge $((idle * 95 / 100)) ]
	result "$idle idle connections open at once (client: $held, server: $now_fds)" $?
	# normal clients while they are held (they close after idle_timeout)
	wrk_median
	if ! at_least_half "$rps" "$base_rps"; then
		echo "    (once more: this machine is shared)"
		first=$rps
		wrk_median
		rps=$(awk -v a="$first" -v b="$rps" 'BEGIN { print (a > b ? a : b) }')
	fi
	echo "    ($(elapsed "$t0") s after the idle ones were open)"
	lat_max=$(awk -v b="$base_p99" 'BEGIN { v = 10 * b; print v < 100 ? 100 : v }')
	at_least_half "$rps" "$base_rps" && [ "$errs" = 0 ] &&
		awk -v p="$p99_ms" -v m="$lat_max" 'BEGIN { exit !(p <= m) }'
	result "normal clients beside them: no error, $rps req/s (baseline $base_rps), p99 $p99_ms ms (at most $lat_max)" $?
	growth=$((rss1 - rss0))
	[ "$growth" -le $((idle * 2 + 8192)) ]
	result "VmRSS bounded: $rss0 -> $rss1 KiB with $now_fds idle connections ($((growth * 1024 / (now_fds > 0 ? now_fds : 1))) bytes each)" $?
	wait "$hold"
	sed -n 's/^closed/    closed/p' "$work/hold.out"
	read -r closed of took < <(awk '/^closed/ { print $2, $4, $6 }' "$work/hold.out")
	left=$(($(nfds "$server_pid") - base_fds))
	[ "${closed:-0}" = "${of:-x}" ] && [ "$held" -gt 0 ] && [ "$left" -le 8 ] &&
		awk -v t="${took:-999}" -v m="$((idle_timeout + 3))" 'BEGIN { exit !(t <= m) }'
	result "the server closed all ${of:-?} idle ones by its ${idle_timeout} s timeout (${took:-?} s; $left descriptors left)" $?
	stop_server
	result "server exits 0 after the idle connections" $?
fi
part b && echo "figure: idle_connections $held" && echo "  (at $SECONDS s)"

# --- c. descriptor exhaustion ---------------------------------------------------

# start_limited NAME - like start_server, with RLIMIT_NOFILE exhaust_nofile
start_limited() {
	addr=$(free_addr)
	(
		ulimit -n "$exhaust_nofile"
		# shellcheck disable=SC2086 # KSERVER_FLAGS is a list of flags
		exec "$KSERVER" --root "$root" --listen "$addr" \
			--header-timeout 60 --keepalive-timeout 60 \
			$KSERVER_FLAGS >"$work/$1.out" 2>&1
	) &
	server_pid=$!
	wait_listening "$addr" && kill -0 "$server_pid" 2>/dev/null
}

# get_ok - one GET of /index.html answered 200 within 2 s
get_ok() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://$addr/index.html")" = 200 ]
}

part c && start_limited exhaust
part c && result "server started with ulimit -n $exhaust_nofile" $?
if part c && kill -0 "$server_pid" 2>/dev/null; then
	get_ok
	result "it serves before the exhaustion" $?
	i0=$(cpu_ticks "$server_pid")
	sleep 2
	i1=$(cpu_ticks "$server_pid")
	"$PYTHON" "$here/hold.py" "$addr" "$exhaust_conns" --hold 10 \
		>"$work/exhaust-hold.out" 2>&1 &
	hold=$!
	for _ in $(seq 300); do
		grep -q '^held' "$work/exhaust-hold.out" || ! kill -0 "$hold" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	c0=$(cpu_ticks "$server_pid")
	sleep 3
	c1=$(cpu_ticks "$server_pid")
	fds=$(nfds "$server_pid")
	during=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
		"http://$addr/index.html")
	hz=$(getconf CLK_TCK)
	echo "    $(grep '^held' "$work/exhaust-hold.out") connections; the server has $fds descriptors; a new request meanwhile: HTTP ${during:-none} (000: queued, timed out)"
	kill -0 "$server_pid" 2>/dev/null
	result "server alive with $exhaust_conns connections and $exhaust_nofile descriptors" $?
	# a spinning loop takes a core each (a TCG guest's accounting charges
	# the server with far more than it runs: there only the calls count)
	max=$(((i1 - i0) * 3 / 2 + hz * 3 * spin_pct / 100))
	if [ "$small" = 1 ]; then
		echo "    CPU: $((c1 - c0)) ticks in 3 s of exhaustion, $((i1 - i0)) in 2 s idle before (not judged in a guest)"
	else
		[ $((c1 - c0)) -le "$max" ]
		result "no spin: $((c1 - c0)) ticks of CPU in 3 s of exhaustion, $((i1 - i0)) in 2 s idle before (at most $max: $spin_pct % of a core more)" $?
	fi
	# paused, each loop tries accept() 10 times a second
	# (attached, but no accept4 row in strace's table: none was made)
	calls=$(timeout 3 strace -f -c -e trace=accept4 -p "$server_pid" 2>&1 >/dev/null |
		awk '$NF == "accept4" { n = $4 } /Process [0-9]+ attached/ { t = 1 }
			END { if (t) print n + 0 }')
	[ -n "$calls" ] && [ "$calls" -le 300 ]
	result "no spin: ${calls:-no} accept4 calls in 3 s of exhaustion (strace; at most 300)" $?
	grep -i 'descriptor' "$work/exhaust.out" | head -n 3 | sed 's/^/    /'
	grep -qi 'out of file descriptors' "$work/exhaust.out"
	result "it says it is out of descriptors in its log" $?
	wait "$hold"
	ok=1
	for _ in $(seq 20); do	# the queue drains: closed ones are accepted
		get_ok && ok=0 && break
		sleep 0.5
	done
	bad=0
	for _ in $(seq 20); do
		get_ok || bad=$((bad + 1))
	done
	[ "$ok" = 0 ] && [ "$bad" = 0 ]
	result "it serves again once they are gone (20 of 20 GETs, $bad failed)" $?
	grep -i 'accepting again' "$work/exhaust.out" | head -n 2 | sed 's/^/    /'
	grep -qi 'accepting again' "$work/exhaust.out"
	result "it says it accepts again in its log" $?
	stop_server
	result "server exits 0 after the exhaustion" $?
fi

echo "took $SECONDS s"
summary
