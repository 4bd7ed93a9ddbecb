#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - real clients against kserver serving the site in www/.
#
#   curl      every file of the site: status, bytes, Content-Type; then an
#             ETag -> If-None-Match -> 304 round trip, a Range -> 206, a
#             404, a directory redirect and HEAD
#   wrk       -t2 -c64 -d3s: no socket error, no non-2xx/3xx response
#   Chromium  every page loads headless with every resource (browser.py);
#             screenshots in build/screenshots/; no 4xx/5xx for the browser
#             in the access log
#
# Environment (and KSERVER, KSERVER_FLAGS, ADDR, PYTHON: see
# tests/http/lib.sh):
#   WWW          the site (default: www)
#   CHROMIUM     browser binary (default: chromium)
#   KEEP_WORK=1  keep the access log and server output
#
# Exit: 0 all passed, 1 a failure, 77 no server binary.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../http/lib.sh
. "$here/../http/lib.sh"
WWW=$(cd "${WWW:-$top/www}" && pwd)
CHROMIUM=${CHROMIUM:-chromium}
SCREENSHOTS=$top/build/screenshots

require_server
work=$(mktemp -d "${TMPDIR:-/tmp}/kserver-clients.XXXXXX")
trap cleanup_work EXIT

# mime_type FILE - its Content-Type by /etc/mime.types, as kserver finds it.
mime_type() {
	local base=${1##*/} ext='' type
	[[ $base == *.* ]] && ext=${base##*.}
	type=$(awk -v ext="${ext,,}" '!/^#/ {
		for (i = 2; i <= NF; i++) if (tolower($i) == ext) { print $1; exit } }' \
		/etc/mime.types)
	echo "${type:-application/octet-stream}"
}

# fetch PATH [CURL_ARG...] - GET http://$addr/PATH; sets code and ctype;
# the body lands in $work/body, the headers in $work/headers.
fetch() {
	local path=$1 out
	shift
	rm -f "$work/body"
	: >"$work/body"	# curl writes no file for an empty body
	out=$(curl -s -o "$work/body" -D "$work/headers" \
		-w '%{http_code} %{content_type}' "$@" "http://$addr$path")
	read -r code ctype <<<"$out"
}

# header NAME - a header of the last fetch.
header() {
	tr -d '\r' <"$work/headers" | sed -n "s/^$1: //Ip" | head -n 1
}

# expect WHAT WANT GOT - say what differs; true iff equal.
expect() {
	[ "$2" = "$3" ] && return 0
	echo "    $1: got '$3', want '$2'"
	return 1
}

# check_file FILE - GET serves FILE of the site byte for byte, typed.
check_file() {
	local rel=${1#"$WWW"/} status=0
	fetch "/${rel// /%20}"
	expect status 200 "$code" || status=1
	expect Content-Type "$(mime_type "$rel")" "$ctype" || status=1
	cmp -s "$work/body" "$1" || { echo "    body differs"; status=1; }
	return "$status"
}

check_304() {
	local etag
	fetch /index.html
	etag=$(header ETag)
	[ -n "$etag" ] || { echo "    no ETag"; return 1; }
	fetch /index.html -H "If-None-Match: $etag"
	expect status 304 "$code" && expect "body bytes" 0 "$(wc -c <"$work/body")"
}

check_range() {
	local file
	file=$(find "$WWW" -type f -size +1k | sort | head -n 1)
	[ -n "$file" ] || { echo "    no file over 1 KiB"; return 1; }
	fetch "/${file#"$WWW"/}" -r 100-199
	expect status 206 "$code" &&
		expect Content-Range "bytes 100-199/$(stat -c %s "$file")" \
			"$(header Content-Range)" &&
		cmp -s "$work/body" <(tail -c +101 "$file" | head -c 100)
}

check_404() {
	fetch /no-such-page.html
	expect status 404 "$code" && expect Content-Type text/html "$ctype"
}

check_redirect() {
	local dir
	dir=$(find "$WWW" -mindepth 1 -type d | sort | head -n 1)
	dir=${dir#"$WWW"}
	fetch "$dir"
	expect status 301 "$code" &&
		expect Location "$dir/" "$(header Location)"
}

check_head() {
	fetch /index.html -I
	expect status 200 "$code" &&
		expect Content-Length "$(stat -c %s "$WWW/index.html")" \
			"$(header Content-Length)"
}

# wrk_smoke - 3 s of load: requests made, no socket error, no non-2xx/3xx.
wrk_smoke() {
	local out
	out=$(wrk -t2 -c64 -d3s "http://$addr/") || return 1
	# shellcheck disable=SC2001 # indent every line
	sed 's/^/    /' <<<"$out"
	grep -Eq '^ +[1-9][0-9]* requests in' <<<"$out" || return 1
	if grep -q 'Socket errors' <<<"$out"; then
		grep -Eq 'Socket errors: connect 0, read 0, write 0, timeout 0$' \
			<<<"$out" || return 1
	fi
	! grep -q 'Non-2xx or 3xx responses' <<<"$out"
}

# browser_log_clean - the access log shows no 4xx/5xx sent to Chromium.
browser_log_clean() {
	local bad
	bad=$(grep 'HeadlessChrome' "$work/clients.log" |
		grep -E '" [45][0-9][0-9] [0-9]+ "')
	[ -z "$bad" ] && grep -q HeadlessChrome "$work/clients.log" && return 0
	echo "${bad:-    no request from Chromium in the access log}"
	return 1
}

if ! start_server clients "$WWW"; then
	result "server start" 1
	summary
	exit
fi

while IFS= read -r -d '' file; do
	check_file "$file"
	result "curl /${file#"$WWW"/}" $?
done < <(find "$WWW" -type f -print0 | sort -z)
for check in check_304 check_range check_404 check_redirect check_head; do
	"$check"
	result "curl ${check#check_}" $?
done

wrk_smoke
result "wrk smoke" $?

if command -v "$CHROMIUM" >/dev/null; then
	"$PYTHON" "$here/browser.py" --base "http://$addr" --www "$WWW" \
		--screenshots "$SCREENSHOTS" --chromium "$CHROMIUM"
	result "Chromium loads every page" $?
else
	echo "no $CHROMIUM (apt-get install -y chromium)"
	result "Chromium loads every page" 1
fi

stop_server
result "exit 0 on SIGTERM" $?
browser_log_clean
result "no 4xx/5xx for Chromium in the access log" $?

summary
