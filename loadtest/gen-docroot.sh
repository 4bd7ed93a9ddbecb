#!/usr/bin/env bash
# loadtest/gen-docroot.sh OUT - a benchmark docroot: the www/ site plus
# files of 1 KiB, 16 KiB, 256 KiB and 1 MiB with deterministic content.
# Generated at build time, never committed.
set -euo pipefail
out=${1:?usage: gen-docroot.sh OUT}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
cp -r "$here/www/." "$out/"
for spec in 1k:1024 16k:16384 256k:262144 1m:1048576; do
	name=${spec%%:*} size=${spec#*:} f="$out/${spec%%:*}.bin"
	if [[ ! -f $f || $(stat -c %s "$f") -ne $size ]]; then
		# a repeating, recognisable pattern: easy to check, cheap to make
		{ yes "kserver benchmark file $name: the quick brown fox" || :; } |
			head -c "$size" >"$f"
	fi
done
