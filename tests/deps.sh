#!/usr/bin/env bash
# tests/deps.sh - install what the build and the tests need, from Debian's
# packages, only when something is missing (one apt-get update at most).
set -euo pipefail

packages=(
	build-essential pkg-config	# compiler, make
	check				# unit tests
	media-types			# /etc/mime.types
	python3				# conformance suite
	curl wrk strace		# real clients, syscall proofs
	chromium			# the site in a real browser
	fonts-dejavu-core		# so screenshots have glyphs
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps: missing ${missing[*]}; run 'make test' as root (or apt-get install them)" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "deps: all present"
