#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/debug_kernel.sh - build once, then reuse, a small 6.12 debug kernel for
# tests/vm/guest.sh (KASAN, KFENCE, UBSAN, lockdep, kmemleak, DEBUG_LIST, hung-task and
# soft-lockup detectors; DESIGN.md §7), from Debian's linux-source-6.12 package.
#
# Must run as root (apt-get installs the build dependencies when missing). Logs go to
# stderr; the last stdout line is the cache directory, which then holds:
#   env                 KREL=... BZIMAGE=... MODDIR=... KDIR=... (shell-sourceable)
#   bzImage System.map config
#   mod/lib/modules/KREL  the installed modules (modules.dep, modules.builtin)
#   src/                  the kernel build tree: build sakura.ko with KDIR=<dir>/src
#   build.log             the full build log
#   complete              stamp: present once everything above is in place
# The cache directory is $DEBUG_KERNEL_CACHE (default /var/cache/kserver/debug-kernel)
# /<package version>-<hash of this script's config list>; a second run with a complete
# directory builds nothing. Never inside the repository.
set -euo pipefail

CACHE_ROOT=${DEBUG_KERNEL_CACHE:-/var/cache/kserver/debug-kernel}
PKG=linux-source-6.12
TARBALL=/usr/src/linux-source-6.12.tar.xz
LOCALVERSION=-kserver-debug
JOBS=${JOBS:-$(nproc)}

msg() { echo "debug-kernel: $*" >&2; }
die() { msg "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# Options set with scripts/config on top of x86_64_defconfig + kvm_guest.config, then
# verified after olddefconfig: "NAME=y", "NAME=n" (must not be y), "NAME=VALUE",
# NAME="string". Changing this list changes the cache key (a new build).
CONFIG=(
    # what the guest needs built in (guest.sh: 9p root, devtmpfs, tmpfs, NIC, initramfs)
    VIRTIO=y VIRTIO_PCI=y VIRTIO_NET=y NET_9P=y NET_9P_VIRTIO=y 9P_FS=y 9P_FS_POSIX_ACL=y
    TMPFS=y TMPFS_POSIX_ACL=y DEVTMPFS=y UNIX=y INET=y IPV6=y BLK_DEV_INITRD=y
    RD_GZIP=y MODULES=y MODULE_UNLOAD=y MODULE_SIG=n CGROUPS=y DEBUG_FS=y
    # what kserver and the suites use (defaults, checked): epoll, eventfd, sendfile,
    # signalfd/timerfd, ptrace for strace, /proc/slabinfo (SLUB_DEBUG), mkfifo/mknod
    EPOLL=y EVENTFD=y SIGNALFD=y TIMERFD=y FHANDLE=y PROC_FS=y SYSFS=y SYSVIPC=y
    POSIX_TIMERS=y FUTEX=y MULTIUSER=y
    # fanotify permission events, as Debian's kernels have (tests/vm/fsnotify_check.py)
    FANOTIFY=y FANOTIFY_ACCESS_PERMISSIONS=y
    # /proc/PID/task/TID/children, as Debian's kernels have (tests/server/test_server.py)
    PROC_CHILDREN=y
    # ext4 on a loop device: the cold-cache fanotify checks (supervisor_guest.sh 2e)
    EXT4_FS=y BLK_DEV_LOOP=y
    # no debug info: faster build, smaller tree (kallsyms still symbolizes reports)
    DEBUG_INFO_NONE=y DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=n DEBUG_INFO_DWARF4=n
    DEBUG_INFO_DWARF5=n DEBUG_INFO_BTF=n KALLSYMS=y KALLSYMS_ALL=y
    # memory error detectors
    KASAN=y KASAN_GENERIC=y KASAN_INLINE=y KASAN_OUTLINE=n KASAN_VMALLOC=y
    KFENCE=y
    UBSAN=y UBSAN_BOUNDS=y UBSAN_SHIFT=y UBSAN_ALIGNMENT=n UBSAN_TRAP=n
    SLUB_DEBUG=y DEBUG_LIST=y
    DEBUG_OBJECTS=y DEBUG_OBJECTS_FREE=y DEBUG_OBJECTS_TIMERS=y DEBUG_OBJECTS_WORK=y
    DEBUG_KMEMLEAK=y DEBUG_KMEMLEAK_AUTO_SCAN=y DEBUG_KMEMLEAK_DEFAULT_OFF=n
    DEBUG_KMEMLEAK_MEM_POOL_SIZE=32000
    # lock and context checking
    DEBUG_KERNEL=y PROVE_LOCKING=y DEBUG_ATOMIC_SLEEP=y DEBUG_SPINLOCK=y DEBUG_MUTEXES=y
    DEBUG_RWSEMS=y DEBUG_LOCK_ALLOC=y PROVE_RCU=y
    # hangs
    LOCKUP_DETECTOR=y SOFTLOCKUP_DETECTOR=y DETECT_HUNG_TASK=y
    # a small kernel: big subsystems from the defconfig the guest never uses (it boots
    # from 9p, talks over virtio-net and the serial console)
    DRM=n SOUND=n USB_SUPPORT=n WLAN=n WIRELESS=n CFG80211=n NETFILTER=n ETHERNET=n
    ATA=n MD=n AGP=n PCCARD=n NFS_FS=n SECURITY_SELINUX=n HIBERNATION=n SCSI=n
    HID=n NET_SCHED=n NETLABEL=n IP_PNP=n RFKILL=n EFI=n KPROBES=n FTRACE=n AUDIT=n
    QUOTA=n DMADEVICES=n NUMA=n
    # never collide with Debian's kernels
    LOCALVERSION="$LOCALVERSION" LOCALVERSION_AUTO=n
)

# ------------------------------------------------------------------ build deps
need=()
command -v bc >/dev/null || need+=(bc)
command -v bison >/dev/null || need+=(bison)
command -v flex >/dev/null || need+=(flex)
command -v xz >/dev/null || need+=(xz-utils)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v perl >/dev/null || need+=(perl)
dpkg -s libelf-dev >/dev/null 2>&1 || need+=(libelf-dev)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
[[ -r $TARBALL ]] || need+=("$PKG")
if [[ ${#need[@]} -gt 0 ]]; then
    msg "apt-get install ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2; } ||
        die "apt-get install ${need[*]} failed"
fi
[[ -r $TARBALL ]] || die "$TARBALL missing after installing $PKG"

PKGVER=$(dpkg-query -W -f '${Version}' "$PKG" 2>/dev/null || echo unknown)
KEY=$({ printf '%s\n' "${CONFIG[@]}"; echo "$PKGVER"; } | sha256sum | cut -c1-12)
DIR=$CACHE_ROOT/${PKGVER//[^A-Za-z0-9.+-]/_}-$KEY
mkdir -p "$CACHE_ROOT"

# one builder at a time per cache root
exec 9>"$CACHE_ROOT/.lock"
flock 9

if [[ -e $DIR/complete ]]; then
    msg "reusing $DIR"
    echo "$DIR"
    exit 0
fi

mkdir -p "$DIR"
LOG=$DIR/build.log
msg "building into $DIR (log: $LOG)"
T0=$(date +%s)
SRC=$DIR/src
if [[ ! -e $SRC/.extracted ]]; then
    rm -rf -- "$SRC"
    mkdir -p "$SRC"
    msg "extracting $TARBALL"
    tar -xJf "$TARBALL" -C "$SRC" --strip-components=1
    touch "$SRC/.extracted"
fi

cd "$SRC"
kmake() { nice -n 19 make -j"$JOBS" "$@" >>"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die "make $* failed (see $LOG)"; }; }

if [[ ! -e .config.done ]]; then
    : >"$LOG"
    kmake x86_64_defconfig
    kmake kvm_guest.config
    args=()
    for c in "${CONFIG[@]}"; do
        name=${c%%=*} val=${c#*=}
        case "$val" in
            y) args+=(--enable "$name") ;;
            n) args+=(--disable "$name") ;;
            [0-9]*) args+=(--set-val "$name" "$val") ;;
            *) args+=(--set-str "$name" "$val") ;;
        esac
    done
    scripts/config --file .config "${args[@]}"
    kmake olddefconfig
    bad=()
    for c in "${CONFIG[@]}"; do
        name=${c%%=*} val=${c#*=}
        case "$val" in
            y) grep -qx "CONFIG_$name=y" .config || bad+=("$name (want y)") ;;
            n) ! grep -qx "CONFIG_$name=y" .config || bad+=("$name (want off)") ;;
            [0-9]*) grep -qx "CONFIG_$name=$val" .config || bad+=("$name (want $val)") ;;
            *) grep -qx "CONFIG_$name=\"$val\"" .config || bad+=("$name (want \"$val\")") ;;
        esac
    done
    # options that only exist on some configurations are not listed; everything listed
    # must have stuck, or the kernel is not the one this script promises
    [[ ${#bad[@]} -eq 0 ]] || die "config did not take: ${bad[*]}"
    touch .config.done
fi

msg "make bzImage modules (-j$JOBS, nice 19)"
kmake bzImage modules
KREL=$(make -s kernelrelease)
[[ $KREL == *"$LOCALVERSION" ]] || die "unexpected kernelrelease $KREL"
rm -rf -- "$DIR/mod"
kmake INSTALL_MOD_PATH="$DIR/mod" modules_install
MODDIR=$DIR/mod/lib/modules/$KREL
[[ -s $MODDIR/modules.dep && -s $MODDIR/modules.builtin ]] || die "modules_install left no modules.dep/modules.builtin"
# modules_install links build/source at the tree; make sure, as later readers expect it
ln -sfn "$SRC" "$MODDIR/build"
cp arch/x86/boot/bzImage "$DIR/bzImage"
cp System.map "$DIR/System.map"
cp .config "$DIR/config"
{
    printf 'KREL=%q\n' "$KREL"
    printf 'BZIMAGE=%q\n' "$DIR/bzImage"
    printf 'MODDIR=%q\n' "$MODDIR"
    printf 'KDIR=%q\n' "$SRC"
} >"$DIR/env"
T1=$(date +%s)
echo "$((T1 - T0))" >"$DIR/build-seconds"
touch "$DIR/complete"
msg "built $KREL in $((T1 - T0)) s: $DIR ($(du -sh "$DIR" | cut -f1))"
echo "$DIR"
