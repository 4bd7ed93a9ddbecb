# SPDX-License-Identifier: GPL-2.0
#
# ftrace_agg.awk - make profile: sums a function_graph trace (options
# funcgraph-proc and funcgraph-tail) per function, for the server's side (every
# task but wrk and the unnamed, below) and wrk's. Prints, sorted by time per
# request:
#   side  function  calls/request  us/call  us/request
# "A request" is one tcp_sendmsg by wrk: wrk -t1 on keep-alive writes each
# request with one call. Durations are as traced, tracing's own cost and that
# of traced callees included, on an emulated CPU: compare rows, not numbers.
# A task whose name ftrace did not keep prints as "<...>-PID": its calls
# are wrk's or the server's, so they count on neither side ("unnamed").
function side(task)
{
	if (task ~ /^wrk-/)
		return "wrk"
	return task ~ /^<\.\.\.>-/ ? "unnamed" : "server"
}
/ us +\| / || / us +\|$/ {
	task = ""
	n = split($0, part, "|")
	if (n < 3)
		next
	# part[1]: " 1)  kserver-213  " ; part[2]: duration ; part[3]: the call
	task = part[1]
	sub(/^ *[0-9]+\) +/, "", task)
	sub(/ +$/, "", task)
	d = part[2]
	if (!match(d, /[0-9.]+ us/))
		next
	d = substr(d, RSTART, RLENGTH - 3) + 0
	call = part[3]
	fn = ""
	if (match(call, /\} \/\* [A-Za-z_0-9.]+ /))
		fn = substr(call, RSTART + 5, RLENGTH - 6)
	else if (match(call, /[A-Za-z_0-9.]+( \[[a-z_]+\])?\(\);/)) {
		fn = substr(call, RSTART, RLENGTH)
		sub(/( \[[a-z_]+\])?\(\);/, "", fn)
	}
	if (fn == "")
		next
	s = side(task)
	k = s "\t" fn
	calls[k]++
	us[k] += d
	if (s == "unnamed")
		unnamed++
}
END {
	reqs = calls["wrk\ttcp_sendmsg"]
	if (!reqs) {
		print "ftrace_agg: no tcp_sendmsg by wrk in the trace" > "/dev/stderr"
		exit 1
	}
	printf "# %d requests traced (tcp_sendmsg calls by wrk)\n", reqs
	if (unnamed)
		printf "# %d calls by tasks ftrace did not name (<...>): on " \
			"neither side; if some were wrk's, per-request figures " \
			"are too high\n", unnamed
	printf "# %-6s %-28s %9s %9s %10s\n", "side", "function", "calls/req", "us/call", "us/req"
	for (k in calls) {
		split(k, f, "\t")
		printf "%-8s %-28s %9.2f %9.2f %10.2f\n", f[1], f[2], calls[k] / reqs,
			us[k] / calls[k], us[k] / reqs | "sort -k5,5 -rn"
	}
}
