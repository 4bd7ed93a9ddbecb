#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# appliance.sh [PORT] - runs INSIDE the guest of `make vm-run`: load
# sakura.ko, copy www/ into tmpfs (a normal page cache, not 9p) and serve it
# in supervisor mode on 0.0.0.0:PORT (the host forwards 127.0.0.1:PORT here)
# until the guest is stopped.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
port=${1:-8080}
insmod "$top/build/kmod/$(uname -r)/sakura.ko"
mkdir -p /tmp/www
cp -r "$top/www/." /tmp/www/
echo "appliance: sakura.ko loaded on $(uname -r); serving www/ in supervisor mode"
echo "appliance: browse http://127.0.0.1:$port/ on the host; stop with Ctrl-C there"
ulimit -n 65536
exec "$top/build/kserver" --root /tmp/www --listen "0.0.0.0:$port" \
	--mode supervisor --access-log -
