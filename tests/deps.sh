#!/usr/bin/env bash
# tests/deps.sh - install what the build and every test need, from Debian's
# packages, only what is missing, with one apt-get update at most: the
# project's packages ride along with the guest bench's (tests/vm/deps.sh:
# qemu, Debian's 6.1 kernel and the newest 6.12 for bookworm, with headers).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	build-essential pkg-config	# compiler, make
	check				# unit tests
	clang libclang-rt-14-dev	# libFuzzer harnesses (tests/fuzz)
	media-types			# /etc/mime.types
	python3				# conformance suite
	curl wrk strace			# real clients, syscall proofs
	slowhttptest			# slow-client attacks (tests/slow)
	chromium			# the site in a real browser
	fonts-dejavu-core		# so screenshots have glyphs
	gnuplot-nox			# loadtest charts
)
# make bench adds its own (loadtest/deps.sh: nginx), in the same apt run
# shellcheck disable=SC2206 # a list of package names
packages+=(${KS_MORE_PACKAGES:-})

if [[ $(id -u) -ne 0 ]]; then
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	if ((${#missing[@]})); then
		echo "deps: missing ${missing[*]}; run 'make test' as root" >&2
		exit 1
	fi
	echo "deps: not root: the guest bench's kernels are not checked"
	exit 0
fi
KS_EXTRA_PACKAGES="${packages[*]}" tests/vm/deps.sh
echo "deps: all present"
