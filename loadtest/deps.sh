#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# loadtest/deps.sh - what make bench needs on top of make test's packages
# (tests/deps.sh): nginx and gnuplot, installed in the same single apt run.
# Debian's nginx package starts a system nginx on port 80 when installed; the
# benchmark starts its own, so a policy-rc.d keeps the service from starting.
set -euo pipefail
cd "$(dirname "$0")/.."
policy=/usr/sbin/policy-rc.d
if ! dpkg-query -W -f='${Status}' nginx 2>/dev/null | grep -q 'ok installed' &&
	[ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# kserver loadtest/deps.sh: no services while installing\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
KS_MORE_PACKAGES="${KS_MORE_PACKAGES:-nginx gnuplot-nox}" tests/deps.sh
