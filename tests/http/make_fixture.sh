#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make_fixture.sh DIR - build the deterministic docroot the HTTP conformance
# suite (conformance.py) runs against.
#
# Every byte and every mtime is fixed, so ETag and Last-Modified are the same
# on every machine and in every run: two servers (or two modes of one) must
# give byte-identical answers apart from Date. Built at run time, never
# committed (it holds files over 1 MiB, a FIFO and symlinks out of the root).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
root=$1
# 2020-09-13 12:26:40 UTC = 0x5f5e1000: hello.txt's ETag is "5f5e1000-d".
mtime=@1600000000

# pattern SIZE - SIZE bytes of zero-padded line numbers "000000\n000001\n...":
# deterministic, text, and without a short period, so a Range served from the
# wrong offset cannot match by accident.
pattern() {
	seq -w 0 999999 | head -c "$1"
}

if [ -e "$root" ]; then
	echo "$0: $root exists; refusing to touch it" >&2
	exit 1
fi
mkdir -p "$root"
cd "$root"

printf '<!DOCTYPE html>\n<title>kserver fixture</title>\n<p>root index</p>\n' \
	> index.html
printf 'hello, world\n' > hello.txt

for size in 0 1 1023 1024 65536 1048583; do
	pattern "$size" > "bytes-$size.bin"
done

mkdir dir noindex sub sub/deep .hidden
printf '<!DOCTYPE html>\n<title>dir</title>\n<p>dir index</p>\n' > dir/index.html
printf 'a file in a directory without index.html\n' > noindex/file.txt
printf 'body { color: #123456; }\n' > sub/deep/file.css
printf 'console.log("kserver");\n' > a.js
# A valid 1x1 PNG, so a browser pointed at the fixture could render it too.
printf '\211PNG\r\n\032\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\10\6\0\0\0\37\25\304\211' > p.png
printf '\0\0\0\rIDATx\234c\370\377\377?\0\5\376\2\376\247\65\201\204' >> p.png
printf '\0\0\0\0IEND\256B`\202' >> p.png
printf '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n' > x.svg
printf '\377\330\377\340fake jpeg\377\331' > j.jpg
printf 'unknown extension\n' > unknown.zzz
printf '<!DOCTYPE html>\n<title>upper</title>\n' > UPPER.HTML
printf 'a name with a space\n' > 'with space.txt'
printf 'utf-8 name\n' > "$(printf 'utf8-\303\251.txt')"
printf 'hidden file\n' > .secret
printf 'file in a hidden directory\n' > .hidden/file.txt

ln -s hello.txt link-in
ln -s /etc/passwd link-out
ln -s /etc dirlink-out
# Things that are not files, none of which may be served (or block):
mkfifo fifo
mkdir fifodir
mkfifo fifodir/index.html
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' sock
# Device nodes need root (CAP_MKNOD); without, their cases are skipped.
# null is /dev/null's; 60 is "local/experimental use", no driver behind it.
if mknod null c 1 3 2>/dev/null; then
	mknod nodev c 60 0
	mknod blkdev b 60 0
else
	echo "$0: not allowed to create device nodes; their cases are skipped" >&2
fi
# A sparse 5 GiB file: sizes and offsets past 32 bits. Line-number patterns
# around 4 GiB and at the end, so that an offset cut to 32 bits (or off by
# any amount) reads different bytes.
huge="huge-5g.bin"
truncate -s 5G "$huge"
pattern 65536 | dd of="$huge" bs=4096 seek=$((((4 << 30) - 32768) / 4096)) \
	conv=notrunc status=none
pattern 4096 | dd of="$huge" bs=4096 seek=$(((5 << 30) / 4096 - 1)) \
	conv=notrunc status=none

find . -type d -exec chmod 755 {} +
find . -type f -exec chmod 644 {} +
chmod 644 fifo fifodir/index.html sock
[ ! -e null ] || chmod 644 null nodev blkdev
# -h: set the links' own times and never open anything (the FIFO would block).
find . -depth -exec touch -h -d "$mtime" {} +
