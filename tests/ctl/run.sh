#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - kserverctl on a host without sakura.ko: help, usage errors (exit
# 2), and what status, switch-mode and daemon say when the module is not
# loaded or the device is not sakura's. Builds nothing.
#
# Environment:
#   KSERVERCTL  the binary (default: build/kserverctl)
#   PYTHON      for the JSON check (default: python3)
#
# Exit: 0 all passed, 1 a failure, 77 no binary.
set -u
cd "$(dirname "$0")/../.." || exit 1

KSERVERCTL=${KSERVERCTL:-build/kserverctl}
PYTHON=${PYTHON:-python3}
passed=0
failed=0

if [ ! -x "$KSERVERCTL" ]; then
	echo "skip: $KSERVERCTL is not built (run make -C ctl)"
	exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kserverctl-test.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# result WHAT STATUS [DETAIL] - count and print one check's outcome.
result() {
	if [ "$2" = 0 ]; then
		echo "ok - $1"
		passed=$((passed + 1))
	else
		echo "FAIL - $1${3:+: $3}"
		failed=$((failed + 1))
	fi
}

# run ARG... - kserverctl ARG...; sets $rc, $out (stdout) and $err (stderr).
run() {
	timeout 10 "$KSERVERCTL" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}

# one_error_line - stderr is exactly one line starting with "kserverctl: ".
one_error_line() {
	[ "$(wc -l <"$work/err")" = 1 ] && [[ $err == "kserverctl: "* ]]
}

# matches STRING GLOB - STRING matches the pattern GLOB.
matches() {
	# shellcheck disable=SC2053 # a glob, on purpose
	[[ $1 == $2 ]]
}

# expect WHAT RC STDOUT-GLOB STDERR-GLOB ARG... - run kserverctl and want
# exit status RC; an empty glob wants that stream empty; a stderr glob also
# wants exactly one "kserverctl: " line.
expect() {
	local what=$1 want_rc=$2 out_pat=$3 err_pat=$4 why=
	shift 4
	run "$@"
	if [ "$rc" != "$want_rc" ]; then
		why="exit $rc, want $want_rc"
	elif [ -z "$out_pat" ] && [ -n "$out" ]; then
		why="unexpected stdout: $out"
	elif [ -n "$out_pat" ] && ! matches "$out" "$out_pat"; then
		why="stdout: $out"
	elif [ -z "$err_pat" ] && [ -n "$err" ]; then
		why="unexpected stderr: $err"
	elif [ -n "$err_pat" ] && ! { one_error_line && matches "$err" "$err_pat"; }; then
		why="stderr: $err"
	fi
	result "$what" "$([ -z "$why" ]; echo $?)" "$why"
}

# usage WHAT STDERR-PATTERN ARG... - a usage error: exit 2, one line.
usage() {
	local what=$1 pat=$2
	shift 2
	expect "usage error: $what" 2 "" "kserverctl: *$pat*" "$@"
}

# --- help and version ---

for h in --help -h help; do
	expect "'$h' prints the usage, exit 0" 0 "Usage: kserverctl*" "" "$h"
	for cmd in status switch-mode daemon; do
		[[ $out == *"$cmd"* ]]
		result "'$h' mentions $cmd" $?
	done
done
expect "'status --help' prints the usage" 0 "Usage: kserverctl*" "" status --help
expect "--version" 0 "kserverctl [0-9]*" "" --version

# --- usage errors ---

usage "no command" "no command"
usage "unknown command" "unknown command 'frobnicate'" frobnicate
usage "option before the command" "unknown option '--json'" --json status
usage "unknown option" "unknown option '--frob'" status --frob
usage "unknown short option" "unknown option '-x'" status -x
usage "option given a value it does not take" "'--json' takes no value" \
	status --json=yes
usage "stray argument" "unexpected argument 'extra'" status extra
usage "switch-mode without a mode" "which mode" switch-mode
usage "bad mode word" "'kernel' is neither" switch-mode kernel
usage "mode word in capitals" "'User' is neither" switch-mode User
usage "two mode words" "unexpected argument 'user'" switch-mode supervisor user
for t in abc 0 -1 1e9 "" 5s 604801; do
	usage "--timeout '$t'" "--timeout: '$t' is not a number of seconds" \
		switch-mode user --timeout "$t"
done
usage "--timeout without a value" "'--timeout' needs a value" \
	switch-mode user --timeout
for p in abc 0 -5 1.5 "" 2147483648; do
	usage "--pid '$p'" "--pid: '$p' is not a process id" status --pid "$p"
done
usage "switch-mode --pid 'x'" "--pid: 'x' is not a process id" \
	switch-mode user --pid x
usage "daemon without --auto" "--auto is required" daemon --up 10 --down 5
usage "daemon without --up" "--up RPS is required" daemon --auto --down 5
usage "daemon without --down" "--down RPS is required" daemon --auto --up 10
usage "daemon down > up" "--down 10 must be below --up 5" \
	daemon --auto --up 5 --down 10
usage "daemon down == up" "--down 5 must be below --up 5" \
	daemon --auto --up 5 --down 5
usage "daemon --up 'abc'" "--up: 'abc' is not a rate" \
	daemon --auto --up abc --down 5
usage "daemon --down '-1'" "--down: '-1' is not a rate" \
	daemon --auto --up 10 --down -1
usage "daemon --interval below 0.05" "--interval: '0.01'" \
	daemon --auto --up 10 --down 5 --interval 0.01
usage "daemon --samples 0" "--samples: '0'" \
	daemon --auto --up 10 --down 5 --samples 0
usage "daemon --pid 0" "--pid: '0'" daemon --auto --up 10 --down 5 --pid 0

# --- no module: /dev/sakura absent ---

if [ -e /dev/sakura ]; then
	# a loaded module must not turn these into failures: pretend
	echo "note: /dev/sakura exists; using a missing path instead"
	export KSERVERCTL_DEVICE=$work/no-such-device
fi
dev=${KSERVERCTL_DEVICE:-/dev/sakura}
notloaded="sakura.ko is not loaded (no $dev)"
insmod="kserverctl: $notloaded: load it with 'insmod build/kmod/$(uname -r)/sakura.ko'"

expect "status without the module: says so, exit 0" 0 \
	"$notloaded: no server can switch modes; kserver runs in user mode only" \
	"" status
expect "status --pid without the module: exit 0" 0 "$notloaded*" "" \
	status --pid 1
expect "status --json without the module: exit 0" 0 "{*}" "" status --json
"$PYTHON" -m json.tool "$work/out" >/dev/null 2>&1
result "status --json is valid JSON" $?
"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(d != {"module_loaded": False, "servers": []})' "$work/out" 2>/dev/null
result "status --json: module_loaded false, servers []" $?
expect "switch-mode supervisor without the module: exit 1" 1 "" "$insmod" \
	switch-mode supervisor
expect "switch-mode user --pid 1 without the module: exit 1" 1 "" "$insmod" \
	switch-mode user --pid 1
expect "daemon without the module: exit 1" 1 "" "$insmod" \
	daemon --auto --up 10 --down 5
unset KSERVERCTL_DEVICE

# --- a device that is not sakura's, a node root only may open ---

export KSERVERCTL_DEVICE=/dev/null
expect "status on a device without QUERY: exit 1" 1 "" \
	"kserverctl: /dev/null does not answer QUERY*" status
expect "status --json on a device without QUERY: exit 1, no output" 1 "" \
	"kserverctl: /dev/null does not answer QUERY*" status --json
expect "switch-mode on a device without QUERY: exit 1" 1 "" \
	"kserverctl: /dev/null does not answer QUERY*" switch-mode user
expect "switch-mode --pid on a device without SWITCH_MODE: exit 1" 1 "" \
	"kserverctl: pid 1: sakura.ko refused SWITCH_MODE*" \
	switch-mode user --pid 1
expect "daemon on a device without QUERY: exit 1" 1 "" \
	"kserverctl: /dev/null does not answer QUERY*" \
	daemon --auto --up 10 --down 5 --pid 1
export KSERVERCTL_DEVICE=$work
expect "status on a directory: exit 1" 1 "" \
	"kserverctl: cannot open $work: Is a directory" status
unset KSERVERCTL_DEVICE

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	touch "$work/root-only"
	chmod 0600 "$work/root-only"
	chmod 0755 "$work"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env KSERVERCTL_DEVICE="$work/root-only" "$KSERVERCTL" status \
		>"$work/out" 2>"$work/err"
	rc=$? err=$(cat "$work/err")
	[ "$rc" = 1 ] && one_error_line && [[ $err == *"root-only (mode 0600)"*"run kserverctl as root"* ]]
	result "status on a 0600 node as a user: exit 1, run as root" $? "$err"
else
	echo "skip - EACCES check (needs root and setpriv)"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
