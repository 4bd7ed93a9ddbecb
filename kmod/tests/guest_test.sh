#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest_test.sh [CHECK...] - sakura.ko checks, run as root inside a guest
# booted by tests/vm/guest.sh (host root read-only over 9p, /tmp tmpfs):
#
#   tests/vm/guest.sh --kver VER -- kmod/tests/guest_test.sh
#
# Checks (default: all, in this order):
#   load        insmod build/kmod/$(uname -r)/sakura.ko; /dev/sakura is 0600
#   abi         kmod/tests/sakura_abi: every ioctl/mmap/ring misuse is refused
#   same        curl -si of a set of URLs: supervisor == user mode, minus Date
#   bigfile     a 64 MiB file, served zero-copy from the page cache: same bytes
#   copy        cold page cache (9p docroot after drop_caches): the copy path
#   conformance tests/http/run.sh against supervisor mode, transcript == user
#   busy        rmmod is refused while a server is registered
#   load-wrk    wrk keep-alive load: no socket errors, no non-2xx
#   kill9       kill -9 under load; then rmmod succeeds
#   cycles      20 insmod/register/serve/rmmod cycles
# Prints one line per check and "N passed, N failed"; exits 0 iff none failed.
# Binaries: build/kserver, build/kmod/sakura_serve, build/kmod/sakura_abi.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
KO=$REPO/build/kmod/$(uname -r)/sakura.ko
SERVE=$REPO/build/kmod/sakura_serve
ABI=$REPO/build/kmod/sakura_abi
KSERVER=$REPO/build/kserver
W=/tmp/sakura-test
UPORT=8081
SPORT=8082
passed=0
failed=0
spid=
upid=

ok() { echo "ok $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
# verdict WHAT STATUS - ok when STATUS is 0
verdict() { if [ "$2" = 0 ]; then ok "$1"; else bad "$1"; fi; }

wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_super() {
	rm -f "$W/super.log"
	"$SERVE" --root "$1" --listen 127.0.0.1:$SPORT -w "${2:-2}" \
		--access-log "$W/super.log" >"$W/super.out" 2>&1 &
	spid=$!
	wait_port $SPORT
}

stop_super() {
	local rc
	[ -n "$spid" ] || return 0
	kill -TERM "$spid"
	wait "$spid"
	rc=$?
	spid=
	return $rc
}

start_user() {
	"$KSERVER" --root "$1" --listen 127.0.0.1:$UPORT -w 2 >"$W/user.out" 2>&1 &
	upid=$!
	wait_port $UPORT
}

stop_user() {
	[ -n "$upid" ] || return 0
	kill -TERM "$upid"
	wait "$upid"
	upid=
}

rmmod_retry() {
	for _ in $(seq 50); do
		rmmod sakura 2>/dev/null && return 0
		sleep 0.1
	done
	rmmod sakura
}

t_load() {
	insmod "$KO" || { bad load "insmod"; return; }
	local mode
	mode=$(stat -c %a /dev/sakura 2>/dev/null)
	if [ "$mode" = 600 ] && [ -r /proc/sakura ]; then
		ok load
	else
		bad load "/dev/sakura mode '$mode'"
	fi
}

t_abi() {
	if [ ! -x "$ABI" ]; then
		bad abi "$ABI not built"
		return
	fi
	"$ABI" >"$W/abi.out" 2>&1
	local rc=$?
	sed 's/^/    /' "$W/abi.out"
	[ $rc = 0 ]
	verdict abi $?
}

make_root() {
	rm -rf "$W/www"
	mkdir -p "$W/www/dir" "$W/www/noindex"
	cp -r "$REPO/www/." "$W/www/"
	printf 'hello\n' >"$W/www/hello.txt"
	head -c 300000 /dev/urandom >"$W/www/mid.bin"
	printf 'x\n' >"$W/www/noindex/x.txt"
	ln -s /etc/passwd "$W/www/escape"
	mkfifo "$W/www/fifo"
}

t_same() {
	local p n=0 diffs=0
	make_root
	start_user "$W/www" || { bad same "user-mode kserver did not start"; return; }
	start_super "$W/www" || { bad same "sakura_serve did not start"; stop_user; return; }
	for p in / /index.html /hello.txt /mid.bin /missing /dir /dir/ /noindex/ \
		/escape /fifo /%2e%2e/etc/passwd '/hello.txt?x=1' /.hidden; do
		n=$((n + 1))
		curl -si --max-time 10 "http://127.0.0.1:$UPORT$p" | grep -av '^Date:' >"$W/u"
		curl -si --max-time 10 "http://127.0.0.1:$SPORT$p" | grep -av '^Date:' >"$W/s"
		if ! cmp -s "$W/u" "$W/s" || [ ! -s "$W/s" ]; then
			diffs=$((diffs + 1))
			echo "    differs: $p"
			diff <(head -c 2000 "$W/u") <(head -c 2000 "$W/s") | head -10 | sed 's/^/    /'
		fi
	done
	# HEAD, Range, conditional, keep-alive pair
	for args in "-I /hello.txt" "-r 10-99 /mid.bin" \
		"-H If-Modified-Since:_Thu,_01_Jan_2099_00:00:00_GMT /hello.txt"; do
		n=$((n + 1))
		set -- ${args//_/ }
		local url=${!#}
		curl -si --max-time 10 "${@:1:$#-1}" "http://127.0.0.1:$UPORT$url" | grep -av '^Date:' >"$W/u"
		curl -si --max-time 10 "${@:1:$#-1}" "http://127.0.0.1:$SPORT$url" | grep -av '^Date:' >"$W/s"
		cmp -s "$W/u" "$W/s" || { diffs=$((diffs + 1)); echo "    differs: $args"; }
	done
	stop_user
	stop_super
	local rc=$?
	echo "    $n requests compared, $diffs differ; sakura_serve exit $rc"
	[ $diffs = 0 ] && [ $rc = 0 ]
	verdict same $?
}

t_bigfile() {
	make_root
	head -c $((64 << 20)) /dev/urandom >"$W/www/big.bin"
	cat "$W/www/big.bin" >/dev/null	# into the page cache
	start_super "$W/www" || { bad bigfile "sakura_serve did not start"; return; }
	local want got
	want=$(sha256sum <"$W/www/big.bin" | cut -d' ' -f1)
	got=$(curl -s --max-time 120 "http://127.0.0.1:$SPORT/big.bin" | sha256sum | cut -d' ' -f1)
	# a slow reader: the worker must park on write space and resume
	local slow
	slow=$(curl -s --max-time 120 --limit-rate 20M "http://127.0.0.1:$SPORT/big.bin" |
		sha256sum | cut -d' ' -f1)
	grep -E '^ +core' /proc/sakura | sed 's/^/    /'
	local zc
	zc=$(sum_field zerocopy_bytes)
	stop_super
	echo "    zero-copy bytes: $zc"
	[ "$want" = "$got" ] && [ "$want" = "$slow" ] && [ "$zc" -ge $((2 * (64 << 20))) ]
	verdict bigfile $?
}

# sum_field NAME - the sum of a per-core counter in /proc/sakura
sum_field() {
	awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) s += $(i + 1) }
		END { print s + 0 }' /proc/sakura
}

t_copy() {
	# not a running binary: its mapped pages would stay cached
	local dir=$REPO/build/kmod/$(uname -r) f=sakura.ko want got copied
	want=$(sha256sum <"$dir/$f" | cut -d' ' -f1)
	sync
	echo 3 >/proc/sys/vm/drop_caches
	start_super "$dir" || { bad copy "sakura_serve did not start"; return; }
	got=$(curl -s --max-time 60 "http://127.0.0.1:$SPORT/$f" | sha256sum | cut -d' ' -f1)
	copied=$(sum_field copied_bytes)
	stop_super
	echo "    copied bytes: $copied"
	[ "$want" = "$got" ] && [ "$copied" -gt 0 ]
	verdict copy $?
}

t_conformance() {
	local rc_u rc_s
	TRANSCRIPT=$W/t-user KSERVER=$KSERVER "$REPO/tests/http/run.sh" >"$W/conf-user.out" 2>&1
	rc_u=$?
	TRANSCRIPT=$W/t-super KSERVER=$SERVE "$REPO/tests/http/run.sh" >"$W/conf-super.out" 2>&1
	rc_s=$?
	echo "    user:       $(tail -n 1 "$W/conf-user.out")"
	echo "    supervisor: $(tail -n 1 "$W/conf-super.out")"
	grep -E '^(FAIL|not ok)' "$W/conf-super.out" | head -20 | sed 's/^/    /'
	if ! cmp -s "$W/t-user" "$W/t-super"; then
		echo "    transcripts differ:"
		diff "$W/t-user" "$W/t-super" | head -30 | sed 's/^/    /'
		rc_s=1
	fi
	[ $rc_u = 0 ] && [ $rc_s = 0 ]
	verdict conformance $?
}

t_busy() {
	make_root
	start_super "$W/www" || { bad busy "sakura_serve did not start"; return; }
	if rmmod sakura 2>/dev/null; then
		bad busy "rmmod succeeded while registered"
		insmod "$KO"
		return
	fi
	grep -q "^server pid $spid " /proc/sakura || bad busy "not in /proc/sakura"
	stop_super
	[ $? = 0 ]
	verdict busy $?
}

t_load_wrk() {
	make_root
	start_super "$W/www" || { bad load-wrk "sakura_serve did not start"; return; }
	local files0 files1
	files0=$(cut -f1 /proc/sys/fs/file-nr)
	wrk -t2 -c50 -d5s "http://127.0.0.1:$SPORT/hello.txt" >"$W/wrk.out" 2>&1
	sed 's/^/    /' "$W/wrk.out"
	grep -E '^ +core' /proc/sakura | sed 's/^/    /'
	# every request opened a file: their final fput must have run
	files1=$(cut -f1 /proc/sys/fs/file-nr)
	echo "    open files before $files0, after $files1"
	local served dropped logged
	served=$(sum_field requests)
	dropped=$(sum_field log_dropped)
	stop_super
	local rc=$?
	logged=$(wc -l <"$W/super.log")
	echo "    requests $served, access log lines $logged, dropped $dropped"
	local reqs
	reqs=$(awk '/requests in/ { print $1 }' "$W/wrk.out")
	[ -n "$reqs" ] && [ "$reqs" -gt 0 ] && ! grep -q 'Socket errors\|Non-2xx' "$W/wrk.out" && [ $rc = 0 ] && [ "$files1" -lt $((files0 + 200)) ]
	verdict load-wrk $?
}

t_kill9() {
	make_root
	head -c $((8 << 20)) /dev/urandom >"$W/www/big.bin"
	start_super "$W/www" || { bad kill9 "sakura_serve did not start"; return; }
	wrk -t2 -c40 -d4s "http://127.0.0.1:$SPORT/hello.txt" >/dev/null 2>&1 &
	local w1=$!
	for _ in 1 2 3 4; do
		curl -s --max-time 5 --limit-rate 1M "http://127.0.0.1:$SPORT/big.bin" >/dev/null &
	done
	sleep 1.5
	kill -KILL "$spid"
	wait "$spid" 2>/dev/null
	spid=
	wait $w1 2>/dev/null
	wait 2>/dev/null
	if rmmod_retry; then
		insmod "$KO"
		ok kill9
	else
		bad kill9 "rmmod failed after kill -9"
		cat /proc/sakura
	fi
}

t_cycles() {
	local i errs=0
	make_root
	rmmod sakura 2>/dev/null
	for i in $(seq 20); do
		insmod "$KO" || { errs=$((errs + 1)); continue; }
		if start_super "$W/www" 1; then
			curl -s --max-time 5 "http://127.0.0.1:$SPORT/hello.txt" | grep -q hello ||
				errs=$((errs + 1))
			if [ $((i % 2)) = 0 ]; then
				stop_super || errs=$((errs + 1))
			else
				kill -KILL "$spid"; wait "$spid" 2>/dev/null; spid=
			fi
		else
			errs=$((errs + 1))
		fi
		rmmod_retry || errs=$((errs + 1))
	done
	insmod "$KO"
	[ $errs = 0 ]
	verdict "cycles ($errs errors)" $?
}

mkdir -p "$W"
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(load abi same bigfile copy conformance busy load-wrk kill9 cycles)
for c in "${checks[@]}"; do
	echo "--- $c"
	"t_${c//-/_}"
done
[ -z "$spid" ] || kill -KILL "$spid"
[ -z "$upid" ] || kill -KILL "$upid"
rmmod sakura 2>/dev/null
echo "$passed passed, $failed failed"
[ $failed = 0 ]
