#!/usr/bin/env bash
# Boot a Debian kernel under QEMU/TCG with the host's / as a read-only 9p root and run one
# script inside it as root (DESIGN.md §7). See usage() or --help.
set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELF_DIR/../.." && pwd)
VM_BUILD=${VM_BUILD:-$REPO/build/vm}

usage() {
    cat <<EOF
Usage: tests/vm/guest.sh --kver VERSION [options] -- SCRIPT [ARGS...]

Boots /boot/vmlinuz-VERSION under QEMU TCG (-accel tcg,thread=multi -cpu max) with a
tiny busybox initramfs that loads the 9p modules, mounts the host's / read-only over
virtio-9p, tmpfs on /tmp /run /var, the --out DIR read-write at the same path, then
chroots into the host root and runs SCRIPT ARGS as root (loopback up, cwd = the caller's
cwd when the guest can see it, else /). After SCRIPT exits the guest writes into DIR:
  exitcode   SCRIPT's exit status
  dmesg.txt  the full kernel log
  tainted    /proc/sys/kernel/tainted
and powers off. The host then fails the run if dmesg shows BUG / WARNING / Oops /
refcount / leak / hung task / Call Trace / general protection, or if the taint has any
bit other than O (4096) and E (8192) (and X (65536) when dmesg shows Debian's kernel set it
for a fanotify permission listener). Exit status: SCRIPT's if clean, 1 otherwise
(2 on usage errors). A guest that dies before SCRIPT starts (QEMU exits with status 0, no timeout:
a fault in the kernel's own start-up, before anything of this project runs) is booted
once more and that is said; its console is kept in DIR/console.boot-failed.log.

Options:
  --kver VERSION         kernel version (required), e.g. the KVER_* printed by deps.sh
  --mem SIZE             guest memory (default 2G)
  --smp N                guest CPUs (default 2)
  --timeout S            kill QEMU after S seconds (default 600); counts as failure
  --fwd HOST:GUEST       user-mode NIC with hostfwd tcp 127.0.0.1:HOST -> guest GUEST
                         (repeatable; without --fwd the guest has no NIC)
  --out DIR              results directory (default \$VM_BUILD/runs/<time>-<kver>-<pid>,
                         VM_BUILD defaults to <repo>/build/vm). Must not be under /tmp,
                         /run, /proc, /sys or /dev (the guest has its own there).
  --allow ERE            extra dmesg line regex to ignore in the scan (repeatable)
  --quiet                do not copy the guest console to stdout (it is always saved
                         to DIR/console.log)
  --cmdline ARGS         extra kernel command line arguments
  --bench                boot as Debian does, without the allocator debugging every test
                         boot has (slub_debug=FZPU records a stack trace on every slab
                         allocation and free, KFENCE samples every 100 ms): for
                         benchmarks and profiles. The dmesg scan still runs
  --icount               count instead of time: one host thread runs every vCPU in turn
                         (-accel tcg,thread=single) and guest time advances by the
                         instructions executed (-icount shift=4,sleep=off: 16 ns each,
                         idle time skipped). A benchmark then measures instructions,
                         not how fast the host emulates them: side-by-side runs repeat
                         within a few per cent where multi-threaded TCG swings +-15 %.
                         Its cost model is not hardware's either (no cache misses, no
                         emulated TLB refills, no two vCPUs at once): for A/B
                         comparisons of code, not for headline ratios. Boots the 6.12
                         kernel; Debian's 6.1 prints nothing and never reaches SCRIPT
  --kernel BZIMAGE       boot this image instead of /boot/vmlinuz-VERSION (e.g. the debug
                         kernel of tests/vm/debug_kernel.sh; --kver is then its release).
                         The guest then also runs kmemleak when the kernel has it: a scan
                         and clear before SCRIPT, two scans after it; anything reported is
                         saved to DIR/kmemleak.txt, printed, and fails the run
  --moddir DIR           modules of that kernel (modules.dep, modules.builtin) instead of
                         /lib/modules/VERSION
  -h, --help             this text

Inside the guest SCRIPT sees: VM_OUT (the out dir), VM_KVER, HOME=/tmp; with --fwd also
VM_NIC (virtio_net loaded, 10.0.2.15/24, default route via 10.0.2.2; QEMU's restrict=on
keeps the guest off every outside network: only the forwarded ports reach it). The guest
has no udev: modules are not autoloaded, use modprobe/insmod.
Prints "vm: boot-to-script S.SSs" (host wall clock from QEMU start until the guest is
about to exec SCRIPT; measured by polling a marker file) and the total run time.
EOF
}

die_usage() { echo "guest.sh: $*" >&2; echo "Try 'guest.sh --help'." >&2; exit 2; }
msg() { echo "vm: $*" >&2; }

KVER="" MEM=2G SMP=2 TIMEOUT=600 OUT="" QUIET=0 EXTRA_CMDLINE="" BENCH=0 ICOUNT=0
KERNEL_OPT="" MODDIR_OPT=""
FWDS=() ALLOWS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --kver) [[ $# -ge 2 ]] || die_usage "--kver needs a value"; KVER=$2; shift 2 ;;
        --mem) [[ $# -ge 2 ]] || die_usage "--mem needs a value"; MEM=$2; shift 2 ;;
        --smp) [[ $# -ge 2 ]] || die_usage "--smp needs a value"; SMP=$2; shift 2 ;;
        --timeout) [[ $# -ge 2 ]] || die_usage "--timeout needs a value"; TIMEOUT=$2; shift 2 ;;
        --fwd) [[ $# -ge 2 ]] || die_usage "--fwd needs a value"; FWDS+=("$2"); shift 2 ;;
        --out) [[ $# -ge 2 ]] || die_usage "--out needs a value"; OUT=$2; shift 2 ;;
        --allow) [[ $# -ge 2 ]] || die_usage "--allow needs a value"; ALLOWS+=("$2"); shift 2 ;;
        --cmdline) [[ $# -ge 2 ]] || die_usage "--cmdline needs a value"; EXTRA_CMDLINE=$2; shift 2 ;;
        --kernel) [[ $# -ge 2 ]] || die_usage "--kernel needs a value"; KERNEL_OPT=$2; shift 2 ;;
        --moddir) [[ $# -ge 2 ]] || die_usage "--moddir needs a value"; MODDIR_OPT=$2; shift 2 ;;
        --quiet) QUIET=1; shift ;;
        --bench) BENCH=1; shift ;;
        --icount) ICOUNT=1; shift ;;
        --) shift; break ;;
        *) die_usage "unknown option: $1" ;;
    esac
done
[[ $# -ge 1 ]] || die_usage "missing -- SCRIPT"
[[ -n $KVER ]] || die_usage "--kver is required"
[[ $KVER =~ ^[A-Za-z0-9._+~-]+$ ]] || die_usage "bad --kver: $KVER"
[[ $SMP =~ ^[1-9][0-9]*$ ]] || die_usage "bad --smp: $SMP"
[[ $ICOUNT = 0 || $KVER != 6.1.* ]] || die_usage "--icount needs the 6.12 kernel (6.1 does not boot under -icount)"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die_usage "bad --timeout: $TIMEOUT"
[[ $MEM =~ ^[1-9][0-9]*[MGmg]?$ ]] || die_usage "bad --mem: $MEM"
for f in "${FWDS[@]}"; do
    [[ $f =~ ^[0-9]+:[0-9]+$ ]] || die_usage "bad --fwd (want HOSTPORT:GUESTPORT): $f"
done

[[ $(id -u) -eq 0 ]] || { echo "guest.sh: must run as root (QEMU's 9p server must read all of /)" >&2; exit 2; }
KERNEL=${KERNEL_OPT:-/boot/vmlinuz-$KVER}
MODDIR=${MODDIR_OPT:-/lib/modules/$KVER}
[[ -r $KERNEL ]] || { echo "guest.sh: $KERNEL not found (run tests/vm/deps.sh)" >&2; exit 2; }
[[ -d $MODDIR ]] || { echo "guest.sh: $MODDIR not found (run tests/vm/deps.sh)" >&2; exit 2; }
for t in qemu-system-x86_64 cpio gzip; do
    command -v "$t" >/dev/null || { echo "guest.sh: $t missing (run tests/vm/deps.sh)" >&2; exit 2; }
done
BUSYBOX=/bin/busybox
bb_ldd=""
[[ -x $BUSYBOX ]] && bb_ldd=$(ldd "$BUSYBOX" 2>&1 || true)
if [[ $bb_ldd != *"not a dynamic"* ]]; then
    echo "guest.sh: static $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 2
fi

# SCRIPT: an absolute path the guest resolves in the host root (same filesystem view).
SCRIPT=$1; shift
if [[ $SCRIPT == */* ]]; then
    [[ -e $SCRIPT ]] || die_usage "SCRIPT not found: $SCRIPT"
    SCRIPT=$(realpath -- "$SCRIPT")
else
    SCRIPT_PATH=$(command -v -- "$SCRIPT") || die_usage "SCRIPT not found in PATH: $SCRIPT"
    SCRIPT=$(realpath -- "$SCRIPT_PATH")
fi
[[ -x $SCRIPT ]] || die_usage "SCRIPT is not executable: $SCRIPT"

# The project tree is shared read-only at its own path, mounted after the
# guest's tmpfs mounts: the guest sees it wherever the clone lives, /tmp or
# /var included (CI's clone path is not ours to choose).
REPO=$(cd "$REPO" && pwd -P)
[[ $REPO =~ ^/[A-Za-z0-9._+~/-]+$ ]] || die_usage "project path has unsupported characters: $REPO"

# Paths the guest does not share with the host (its own tmpfs / pseudo
# filesystems), unless they lie in the shared project tree.
guest_private() {
    case "$1/" in "$REPO"/*) return 1 ;; esac
    case "$1/" in
        /tmp/*|/run/*|/proc/*|/sys/*|/dev/*|/var/*) return 0 ;;
    esac
    return 1
}
if guest_private "$SCRIPT"; then
    die_usage "SCRIPT must be visible to the guest (in $REPO, or not under /tmp /run /var /proc /sys /dev): $SCRIPT"
fi

# ---------------------------------------------------------------- out dir
if [[ -z $OUT ]]; then
    OUT=$VM_BUILD/runs/$(date +%Y%m%d-%H%M%S)-$KVER-$$
fi
OUT=$(realpath -m -- "$OUT")
case "$OUT/" in /proc/*|/sys/*|/dev/*)
    die_usage "--out must not be under /proc, /sys or /dev: $OUT" ;;
esac
[[ $OUT != / ]] || die_usage "--out must not be /"
[[ $OUT =~ ^/[A-Za-z0-9._+~/-]+$ ]] || die_usage "--out path has unsupported characters: $OUT"
mkdir -p -- "$OUT"
OUT=$(realpath -- "$OUT")   # symlinks resolved: re-check where it really is
case "$OUT/" in /proc/*|/sys/*|/dev/*)
    die_usage "--out must not be under /proc, /sys or /dev: $OUT" ;;
esac
rm -rf -- "$OUT/.vm"
rm -f -- "$OUT/exitcode" "$OUT/dmesg.txt" "$OUT/tainted" "$OUT/console.log" "$OUT/result"
rm -f -- "$OUT/kmemleak.txt" "$OUT/console.boot-failed.log"
mkdir -p -- "$OUT/.vm"

# Guest cwd: the caller's, when the guest sees the same directory.
GUEST_CWD=/
if ! guest_private "$PWD"; then GUEST_CWD=$PWD; fi

# ---------------------------------------------------------------- kernel command line
kconfig() { grep -qx "$1" "/boot/config-$KVER" 2>/dev/null; }
CMDLINE="console=ttyS0,115200 loglevel=5 log_buf_len=8M panic_on_warn=1 panic=-1 oops=panic"
if ((!BENCH)); then
    CMDLINE+=" slub_debug=FZPU"
    if kconfig 'CONFIG_KFENCE=y'; then
        CMDLINE+=" kfence.sample_interval=100"
    fi
fi
CMDLINE+=" vm.out=$OUT vm.repo=$REPO"
[[ -z $EXTRA_CMDLINE ]] || CMDLINE+=" $EXTRA_CMDLINE"

# ---------------------------------------------------------------- initramfs
# 9p stack in load order (DESIGN.md §7). Each one may be built in (modules.builtin), merged
# into another module (6.12: fscache lives in netfs.ko) or a loadable .ko[.xz|.zst|.gz].
MODS=(netfs fscache 9pnet virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet_virtio 9p)

# modules.dep line for a module name -> "relpath: deps..."
mod_dep_line() {
    awk -v m="$1" -F: '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n);
                         gsub(/-/, "_", n); if (n == m) { print; exit } }' "$MODDIR/modules.dep"
}
mod_builtin() {
    awk -v m="$1" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n);
                     if (n == m) { found = 1; exit } } END { exit !found }' "$MODDIR/modules.builtin"
}

ORDER=()     # module relpaths, dependencies first
declare -A SEEN=()
add_relpath() {
    local rel=$1 line dep
    [[ -z ${SEEN[$rel]:-} ]] || return 0
    SEEN[$rel]=1
    line=$(awk -v r="$rel" -F: '$1 == r { print; exit }' "$MODDIR/modules.dep")
    for dep in ${line#*:}; do add_relpath "$dep"; done
    ORDER+=("$rel")
}
MOD_NOTES=()
for m in "${MODS[@]}"; do
    line=$(mod_dep_line "$m")
    if [[ -n $line ]]; then
        add_relpath "${line%%:*}"
    elif mod_builtin "$m"; then
        MOD_NOTES+=("$m=builtin")
    else
        MOD_NOTES+=("$m=absent")
    fi
done
for m in 9p 9pnet_virtio; do  # the two that must exist in some form
    if [[ -z $(mod_dep_line "$m") ]] && ! mod_builtin "$m"; then
        echo "guest.sh: kernel $KVER has no $m module; cannot mount the 9p root" >&2; exit 1
    fi
done

INIT_TEXT=$(cat <<'INIT'
#!/bin/sh
# guest init (busybox). PID 1 stays here: chroot runs SCRIPT as a child, then we power off.
export PATH=/bin
fail() {
    echo "vm-init: FATAL: $*" >&2
    poweroff -f
    sleep 60
}
mount -t proc proc /proc || fail "mount proc"
mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
exec </dev/console >/dev/console 2>&1
OUT=
for a in $(cat /proc/cmdline); do
    case "$a" in
        vm.out=*) OUT=${a#vm.out=} ;;
        vm.repo=*) REPO=${a#vm.repo=} ;;
    esac
done
[ -n "$OUT" ] || fail "no vm.out= on the kernel command line"
grep -qw vm.failboot=1 /proc/cmdline && fail "vm.failboot=1: dying before the script, as asked"
for ko in $(cat /modules.list); do
    insmod "/modules/$ko" || fail "insmod $ko"
done
NEW=/newroot
P9="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "ro,$P9,cache=loose" hostroot "$NEW" || fail "mount 9p hostroot"
mount --move /proc "$NEW/proc" || fail "move /proc"
mount --move /sys "$NEW/sys" || fail "move /sys"
mount --move /dev "$NEW/dev" || fail "move /dev"
mkdir -p "$NEW/dev/pts" "$NEW/dev/shm"
# what udev would make: bash's <(...) needs /dev/fd
ln -sf /proc/self/fd "$NEW/dev/fd"
ln -sf /proc/self/fd/0 "$NEW/dev/stdin"
ln -sf /proc/self/fd/1 "$NEW/dev/stdout"
ln -sf /proc/self/fd/2 "$NEW/dev/stderr"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$NEW/dev/pts" || fail "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs "$NEW/dev/shm" || fail "mount /dev/shm"
mount -t tmpfs -o mode=1777 tmpfs "$NEW/tmp" || fail "mount /tmp"
mount -t tmpfs -o mode=755 tmpfs "$NEW/run" || fail "mount /run"
mount -t tmpfs -o mode=755 tmpfs "$NEW/var" || fail "mount /var"
mkdir -p "$NEW/run/lock" "$NEW/var/log" "$NEW/var/lib" "$NEW/var/cache" "$NEW/var/spool" "$NEW/var/tmp"
chmod 1777 "$NEW/var/tmp" "$NEW/run/lock"
ln -s /run "$NEW/var/run"
ln -s /run/lock "$NEW/var/lock"
mount -t cgroup2 cgroup2 "$NEW/sys/fs/cgroup" 2>/dev/null
mount -t debugfs debugfs "$NEW/sys/kernel/debug" 2>/dev/null
[ -n "$REPO" ] || fail "no vm.repo= on the kernel command line"
mkdir -p "$NEW$REPO" || fail "mkdir $REPO"
mount -t 9p -o "ro,$P9,cache=loose" repo "$NEW$REPO" || fail "mount 9p repo"
mkdir -p "$NEW$OUT" || fail "mkdir $OUT"
mount -t 9p -o "rw,$P9" outdir "$NEW$OUT" || fail "mount 9p outdir"
hostname vm
[ -f "$NEW$OUT/.vm/run.sh" ] || fail "$OUT/.vm/run.sh not visible in the guest"
read -r up _ <"$NEW/proc/uptime"
echo "$up" >"$NEW$OUT/.vm/started.tmp" && mv "$NEW$OUT/.vm/started.tmp" "$NEW$OUT/.vm/started"
chroot "$NEW" /bin/bash "$OUT/.vm/run.sh" </dev/null
rc=$?
dmesg -s 16777216 >"$NEW$OUT/dmesg.txt"
cat "$NEW/proc/sys/kernel/tainted" >"$NEW$OUT/tainted"
echo "$rc" >"$NEW$OUT/exitcode"
sync
umount "$NEW$OUT" 2>/dev/null
poweroff -f
echo o >"$NEW/proc/sysrq-trigger"
sleep 60
INIT
)

initramfs_key() {
    {
        echo "$INIT_TEXT"
        sha256sum "$BUSYBOX"
        printf '%s\n' "${ORDER[@]}"
        for rel in "${ORDER[@]}"; do stat -c '%n %s %Y' "$MODDIR/$rel"; done
    } | sha256sum | cut -c1-16
}
INITRD_DIR=$VM_BUILD/initramfs
INITRD=$INITRD_DIR/$KVER-$(initramfs_key).cpio.gz
if [[ ! -s $INITRD ]]; then
    mkdir -p "$INITRD_DIR"
    stage=$(mktemp -d "$INITRD_DIR/stage.XXXXXX")
    trap 'rm -rf -- "$stage"' EXIT
    mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
    mknod -m 600 "$stage/dev/console" c 5 1
    mknod -m 666 "$stage/dev/null" c 1 3
    cp "$BUSYBOX" "$stage/bin/busybox"
    for a in $("$BUSYBOX" --list); do
        [[ $a == busybox ]] || ln -s busybox "$stage/bin/$a"
    done
    : >"$stage/modules.list"
    for rel in "${ORDER[@]}"; do
        base=${rel##*/}
        case "$base" in
            *.ko.xz)  xz -dc  "$MODDIR/$rel" >"$stage/modules/${base%.xz}";  base=${base%.xz} ;;
            *.ko.zst) zstd -qdc "$MODDIR/$rel" >"$stage/modules/${base%.zst}"; base=${base%.zst} ;;
            *.ko.gz)  gzip -dc "$MODDIR/$rel" >"$stage/modules/${base%.gz}";  base=${base%.gz} ;;
            *.ko)     cp "$MODDIR/$rel" "$stage/modules/$base" ;;
            *) echo "guest.sh: unexpected module file $rel" >&2; exit 1 ;;
        esac
        echo "$base" >>"$stage/modules.list"
    done
    printf '%s\n' "$INIT_TEXT" >"$stage/init"
    chmod 755 "$stage/init"
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
        gzip -6 >"$INITRD.tmp.$$"
    mv -f "$INITRD.tmp.$$" "$INITRD"
    # drop initramfs images of this kernel built from an older init/module set
    find "$INITRD_DIR" -maxdepth 1 -name "$KVER-*.cpio.gz" ! -path "$INITRD" -mmin +60 -delete 2>/dev/null || true
    rm -rf -- "$stage"
    trap - EXIT
fi

# ---------------------------------------------------------------- the guest-side runner
{
    echo '# generated by tests/vm/guest.sh; runs inside the guest (chroot into the host root)'
    echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    echo 'export HOME=/tmp LANG=C.UTF-8 TERM=dumb'
    printf 'export VM_OUT=%q VM_KVER=%q\n' "$OUT" "$KVER"
    echo 'ip link set lo up || echo "vm: warning: ip link set lo up failed" >&2'
    if [[ ${#FWDS[@]} -gt 0 ]]; then
        # QEMU user-mode networking: guest 10.0.2.15/24, gateway 10.0.2.2. No udev in the
        # guest, so nothing autoloads virtio_net (a module on Debian's 6.1 and 6.12).
        cat <<'NET'
modprobe virtio_net || echo "vm: warning: modprobe virtio_net failed" >&2
nic=""
for d in /sys/class/net/*; do
    [ "$(readlink -f "$d/device/driver" 2>/dev/null)" != "" ] || continue
    case "$(basename "$(readlink -f "$d/device/driver")")" in virtio_net) nic=${d##*/}; break ;; esac
done
if [ -n "$nic" ]; then
    ip link set "$nic" up && ip addr add 10.0.2.15/24 dev "$nic" && ip route add default via 10.0.2.2 ||
        echo "vm: warning: configuring $nic failed" >&2
    export VM_NIC=$nic
else
    echo "vm: warning: no virtio_net interface found" >&2
fi
NET
    fi
    printf 'cd %q 2>/dev/null || cd /\n' "$GUEST_CWD"
    if [[ -z $KERNEL_OPT ]]; then
        printf 'exec'
        printf ' %q' "$SCRIPT" "$@"
        printf '\n'
    else
        # --kernel: kmemleak (when built in). Leaks found before SCRIPT (boot) are
        # cleared; the automatic scanner is stopped so that only the final scans report.
        cat <<'KML1'
kml=/sys/kernel/debug/kmemleak
if [ -w $kml ]; then
    echo scan=off >$kml; echo scan >$kml; sleep 5; echo scan >$kml; echo clear >$kml
else
    kml=""
fi
KML1
        printf '%q' "$SCRIPT"
        [[ $# -eq 0 ]] || printf ' %q' "$@"
        printf '\n'
        cat <<'KML2'
rc=$?
if [ -n "$kml" ]; then
    echo scan >$kml; sleep 5; echo scan >$kml
    cat $kml >"$VM_OUT/kmemleak.txt"
    if [ -s "$VM_OUT/kmemleak.txt" ]; then
        echo "vm: kmemleak reports unreferenced objects:"
        cat "$VM_OUT/kmemleak.txt"
    else
        echo "vm: kmemleak: nothing reported"
    fi
fi
exit $rc
KML2
    fi
} >"$OUT/.vm/run.sh"

# ---------------------------------------------------------------- QEMU
# shellcheck disable=SC2054  # commas are QEMU option syntax
ACCEL=(-accel tcg,thread=multi)
# shellcheck disable=SC2054
[[ $ICOUNT = 0 ]] || ACCEL=(-accel tcg,thread=single -icount shift=4,sleep=off)
# shellcheck disable=SC2054
QEMU=(qemu-system-x86_64
    "${ACCEL[@]}" -cpu max -machine q35
    -m "$MEM" -smp "$SMP"
    -nodefaults -no-user-config -display none -no-reboot
    -chardev "file,id=con0,path=$OUT/console.log"
    -serial chardev:con0
    -monitor none
    -kernel "$KERNEL" -initrd "$INITRD"
    -fsdev "local,id=fs_root,path=/,security_model=none,readonly=on,multidevs=remap"
    -device virtio-9p-pci,fsdev=fs_root,mount_tag=hostroot
    -fsdev "local,id=fs_repo,path=$REPO,security_model=none,readonly=on,multidevs=remap"
    -device virtio-9p-pci,fsdev=fs_repo,mount_tag=repo
    -fsdev "local,id=fs_out,path=$OUT,security_model=none,multidevs=remap"
    -device virtio-9p-pci,fsdev=fs_out,mount_tag=outdir
)
if [[ ${#FWDS[@]} -gt 0 ]]; then
    nd="user,id=net0,restrict=on"
    for f in "${FWDS[@]}"; do nd+=",hostfwd=tcp:127.0.0.1:${f%%:*}-:${f##*:}"; done
    QEMU+=(-netdev "$nd" -device "virtio-net-pci,netdev=net0")
fi
printf '%q ' "${QEMU[@]}" -append "$CMDLINE" >"$OUT/.vm/qemu.cmd"; echo >>"$OUT/.vm/qemu.cmd"

QPID="" TAILPID=""
# shellcheck disable=SC2317  # called via trap
cleanup() {
    [[ -z $QPID ]] || kill -KILL "$QPID" 2>/dev/null || true
    [[ -z $TAILPID ]] || kill "$TAILPID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT TERM

# boot_guest CMDLINE - one QEMU run; sets T0 BOOT_S TIMED_OUT QRC TOTAL_S
boot_guest() {
    local deadline
    rm -f -- "$OUT/.vm/started"
    : >"$OUT/console.log"
    T0=$(date +%s.%N)
    "${QEMU[@]}" -append "$1" </dev/null >"$OUT/.vm/qemu.stdout" 2>&1 &
    QPID=$!
    if [[ $QUIET -eq 0 ]]; then
        tail -n +1 -f --pid="$QPID" "$OUT/console.log" &
        TAILPID=$!
    fi
    BOOT_S="" TIMED_OUT=0
    deadline=$(( $(date +%s) + TIMEOUT ))
    while kill -0 "$QPID" 2>/dev/null; do
        if [[ -z $BOOT_S && -e $OUT/.vm/started ]]; then
            BOOT_S=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
            msg "boot-to-script ${BOOT_S}s (guest kernel uptime $(cat "$OUT/.vm/started")s)"
        fi
        if [[ $(date +%s) -ge $deadline ]]; then
            TIMED_OUT=1
            kill -KILL "$QPID" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    QRC=0
    wait "$QPID" || QRC=$?
    QPID=""
    if [[ -n $TAILPID ]]; then
        sleep 0.2; kill "$TAILPID" 2>/dev/null || true; wait "$TAILPID" 2>/dev/null || true; TAILPID=""
    fi
    TOTAL_S=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

msg "kernel $KVER, out $OUT"
# A guest that dies before SCRIPT starts (QEMU exited by itself with status
# 0, i.e. a panic and -no-reboot or our init's poweroff; no started marker)
# died in the kernel's own start-up or in our init, before anything
# of this project ran: seen under TCG as an int3 Oops in sched_clock_cpu
# while 6.12 patches its text, and once as a KASAN report in the debug
# kernel's early IRQ handling. It is booted once more, and said; its console
# is kept as console.boot-failed.log. A second death fails the run.
# VM_FAIL_FIRST_BOOT=1 (tests/vm/selftest.sh) makes the first boot die there.
first_cmdline=$CMDLINE
[[ ${VM_FAIL_FIRST_BOOT:-0} != 1 ]] || first_cmdline+=" vm.failboot=1"
boot_guest "$first_cmdline"
if [[ -z $BOOT_S && $TIMED_OUT -eq 0 && $QRC -eq 0 ]]; then
    mv -f -- "$OUT/console.log" "$OUT/console.boot-failed.log"
    msg "the guest died before the script started (${TOTAL_S}s; console kept in $OUT/console.boot-failed.log); booting again"
    tr -d '\r' <"$OUT/console.boot-failed.log" | grep -v '^[[:space:]]*$' | tail -n 5 | sed 's/^/vm:   | /' >&2
    boot_guest "$CMDLINE"
fi

# ---------------------------------------------------------------- verdict
REASONS=()
[[ $TIMED_OUT -eq 0 ]] || REASONS+=("timeout: QEMU killed after ${TIMEOUT}s")
if [[ $QRC -ne 0 && $TIMED_OUT -eq 0 ]]; then
    REASONS+=("qemu exited with status $QRC: $(tr '\n' ' ' <"$OUT/.vm/qemu.stdout" | cut -c1-300)")
fi
[[ -n $BOOT_S ]] || REASONS+=("the guest never reached SCRIPT (see $OUT/console.log)")

# Known-benign lines that contain a scanned word (none seen on a clean 6.1/6.12 TCG boot so
# far; add with --allow rather than here unless it is a kernel-wide fact).
DEFAULT_ALLOWS=(
    'Kernel command line:'   # the command line itself, in case --cmdline carries a word
    'kmemleak: Kernel memory leak detector initialized'     # debug kernels (--kernel)
    'kmemleak: Automatic memory scanning thread started'
    'kmemleak: Automatic memory scanning thread ended'
)
# Case-sensitive; BUG/WARNING/Oops as words (so DEBUG does not match).
PATTERN='(^|[^A-Za-z])(BUG|WARNING|Oops)([^A-Za-z]|$)|refcount|[Ll]eak|[Hh]ung[ _]task|blocked for more than|Call Trace|[Gg]eneral protection|Kernel panic|UBSAN|detected stall'
# debug kernels (--kernel): KASAN/KFENCE reports, lockdep, kmemleak, debugobjects
PATTERN+='|KASAN|KFENCE|unreferenced object|possible circular locking|possible recursive locking|ODEBUG'
scan_log() { # file -> offending lines on stdout
    local f=$1 line a skip
    while IFS= read -r line; do
        skip=0
        for a in "${DEFAULT_ALLOWS[@]}"; do
            if [[ $line == *"$a"* ]]; then skip=1; break; fi
        done
        if [[ $skip -eq 0 ]]; then
            for a in "${ALLOWS[@]}"; do
                if [[ $line =~ $a ]]; then skip=1; break; fi
            done
        fi
        [[ $skip -eq 1 ]] || printf '%s\n' "$line"
    done < <(grep -aE "$PATTERN" "$f" || true)
}

SCRIPT_RC=""
if [[ -s $OUT/exitcode ]]; then
    SCRIPT_RC=$(tr -d '[:space:]' <"$OUT/exitcode")
    [[ $SCRIPT_RC =~ ^[0-9]+$ ]] || { REASONS+=("bad exitcode file: $SCRIPT_RC"); SCRIPT_RC=""; }
else
    REASONS+=("no exit code from the guest (script hung, guest crashed or panicked; see $OUT/console.log)")
fi

if [[ -s $OUT/dmesg.txt ]]; then
    BAD=$(scan_log "$OUT/dmesg.txt")
    if [[ -n $BAD ]]; then
        REASONS+=("dmesg has suspicious lines:")
        while IFS= read -r l; do REASONS+=("    $l"); done < <(head -n 20 <<<"$BAD")
    fi
else
    if [[ -s $OUT/console.log ]]; then
        BAD=$(scan_log "$OUT/console.log")
        if [[ -n $BAD ]]; then
            REASONS+=("no dmesg.txt; console.log has suspicious lines:")
            while IFS= read -r l; do REASONS+=("    $l"); done < <(head -n 20 <<<"$BAD")
        fi
    fi
    [[ -n $SCRIPT_RC ]] && REASONS+=("no dmesg.txt from the guest")
fi

# O (out-of-tree module) and E (unsigned module) are ours. X (65536, Debian's
# auxiliary taint) only when Debian's kernel says it was set for a fanotify
# permission listener (tests/vm/fsnotify_check.py runs one), and nothing else.
TAINT_OK=$((4096 | 8192)) TAINT_OK_NAMES="O=4096/E=8192"
if grep -q 'Using fanotify permission checks may lead to deadlock; tainting kernel' "$OUT/dmesg.txt" 2>/dev/null; then
    TAINT_OK=$((TAINT_OK | 65536)) TAINT_OK_NAMES+="/X=65536 (fanotify permission listener)"
fi
if [[ -s $OUT/tainted ]]; then
    TAINT=$(tr -d '[:space:]' <"$OUT/tainted")
    if [[ ! $TAINT =~ ^[0-9]+$ ]]; then
        REASONS+=("bad tainted value: $TAINT")
    elif (( TAINT & ~TAINT_OK )); then
        REASONS+=("kernel tainted $TAINT (bits other than $TAINT_OK_NAMES: $(( TAINT & ~TAINT_OK )))")
    fi
elif [[ -n $SCRIPT_RC ]]; then
    REASONS+=("no tainted value from the guest")
fi
if [[ -s $OUT/kmemleak.txt ]]; then
    REASONS+=("kmemleak reports $(grep -c '^unreferenced object' "$OUT/kmemleak.txt") unreferenced objects ($OUT/kmemleak.txt):")
    while IFS= read -r l; do REASONS+=("    $l"); done < <(head -n 40 "$OUT/kmemleak.txt")
fi

msg "total ${TOTAL_S}s (boot-to-script ${BOOT_S:-n/a}s)"
if [[ ${#REASONS[@]} -gt 0 ]]; then
    msg "FAIL ($KVER): script exit ${SCRIPT_RC:-none}"
    for r in "${REASONS[@]}"; do echo "vm:   $r" >&2; done
    echo "FAIL" >"$OUT/result"
    exit 1
fi
msg "clean ($KVER): script exit $SCRIPT_RC, taint $TAINT, dmesg clean"
echo "clean $SCRIPT_RC" >"$OUT/result"
exit "$SCRIPT_RC"
