#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--serve-hidden] - the HTTP conformance suite against a fresh kserver.
#
# Builds the fixture, starts the server on it, runs conformance.py (timeouts
# included), checks the access log, stops the server with SIGTERM and wants
# exit status 0. --serve-hidden also runs the hidden-file cases against a
# second instance started with --serve-hidden.
#
# Environment (and KSERVER, KSERVER_FLAGS, ADDR, PYTHON: see lib.sh):
#   CONFORMANCE_FLAGS  extra conformance.py flags, e.g. "--only range"
#   TRANSCRIPT         keep conformance.py's transcript here (cmp two modes)
#   KS_TIMEOUT_SCALE   N: the server's timeouts (and the suite's waits) are N
#                      times the usual, for a slow machine (the debug kernel)
#   KEEP_WORK=1        keep the fixture, logs and server output
#
# Exit: 0 all passed, 1 a failure, 77 no server binary.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
LOG_UA=kserver-log-check

serve_hidden=0
for arg; do
	case $arg in
	--serve-hidden) serve_hidden=1 ;;
	*) sed -n '4,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done

require_server
work=$(mktemp -d "${TMPDIR:-/tmp}/kserver-http.XXXXXX")
chmod 755 "$work"	# a server that drops privileges must still see the root
trap cleanup_work EXIT

# conformance [FLAG...] - the suite against the running server.
conformance() {
	# shellcheck disable=SC2086 # CONFORMANCE_FLAGS is a list of flags
	"$PYTHON" "$here/conformance.py" --addr "$addr" --docroot "$work/root" \
		--timeout-scale "$scale" --timeout $((5 * scale)) \
		${CONFORMANCE_FLAGS:-} "$@"
}

# log_requests - a few requests whose access log lines are checked exactly.
log_requests() {
	local url=http://$addr
	curl -s -o /dev/null -A "$LOG_UA-get" -e http://referer.test/ "$url/hello.txt"
	curl -s -o /dev/null -A "$LOG_UA-head" -I "$url/hello.txt"
	curl -s -o /dev/null -A "$LOG_UA-range" -r 0-4 "$url/hello.txt"
	curl -s -o /dev/null -A "$LOG_UA-404" "$url/missing?q=1"
}

# check_log NAME - every line a combined record, the log_requests ones exact.
check_log() {
	"$PYTHON" "$here/accesslog.py" "$work/$1.log" \
		"$LOG_UA-get=\"GET /hello.txt HTTP/1.1\" 200 13 \"http://referer.test/\"" \
		"$LOG_UA-head=\"HEAD /hello.txt HTTP/1.1\" 200 0 \"-\"" \
		"$LOG_UA-range=\"GET /hello.txt HTTP/1.1\" 206 5 \"-\"" \
		"$LOG_UA-404=\"GET /missing?q=1 HTTP/1.1\" 404 148 \"-\""
}

"$here/make_fixture.sh" "$work/root" || exit 1
# a slow machine (a debug kernel) scales the timeouts, and the suite's
# expectations with them: KS_TIMEOUT_SCALE=N
scale=${KS_TIMEOUT_SCALE:-1}
case $scale in ''|*[!0-9]*|0) echo "run.sh: KS_TIMEOUT_SCALE wants a whole number from 1" >&2; exit 2 ;; esac
timeouts=(--header-timeout $((2 * scale)) --keepalive-timeout $((3 * scale)))

if start_server main "$work/root" "${timeouts[@]}"; then
	conformance --with-timeouts --transcript "${TRANSCRIPT:-$work/transcript}" |
		tee "$work/conformance.out"
	counted "conformance suite" "$work/conformance.out" "${PIPESTATUS[0]}"
	log_requests
	stop_server
	result "exit 0 on SIGTERM" $?
	check_log main
	result "access log" $?
else
	result "server start" 1
fi

if [ "$serve_hidden" = 1 ]; then
	if start_server hidden "$work/root" "${timeouts[@]}" --serve-hidden; then
		conformance --serve-hidden --only '^hidden ' |
			tee "$work/hidden.out"
		counted "hidden files with --serve-hidden" "$work/hidden.out" \
			"${PIPESTATUS[0]}"
		stop_server
		result "exit 0 on SIGTERM (--serve-hidden)" $?
	else
		result "server start (--serve-hidden)" 1
	fi
fi

summary
