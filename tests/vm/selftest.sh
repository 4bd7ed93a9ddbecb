#!/usr/bin/env bash
# Self-test of the QEMU guest test bench (tests/vm/guest.sh) on Debian's 6.1 and 6.12
# kernels. Run as root. Ends with "N passed, N failed"; exits 0 only if nothing failed.
set -euo pipefail

SELF=$(realpath -- "${BASH_SOURCE[0]}")
SELF_DIR=$(dirname -- "$SELF")
REPO=$(cd "$SELF_DIR/../.." && pwd)
VM_BUILD=${VM_BUILD:-$REPO/build/vm}
GUEST=$SELF_DIR/guest.sh

usage() {
    cat <<'EOF'
Usage: tests/vm/selftest.sh [--kver VERSION]... [--no-deps] [--fast] [--help]

Checks, on each kernel (default: the 6.1 and 6.12 versions resolved by deps.sh):
  basic     guest runs a script: uname -r matches, /work/main readable over the 9p
            root, a file written to the out dir arrives on the host, the test
            boot's allocator debugging (slub_debug=FZPU) is on
  exitcode  the script's exit status (7) is guest.sh's exit status; booted with
            --bench, which leaves slub_debug off
  boot-again  the first boot dies before the script (VM_FAIL_FIRST_BOOT=1): guest.sh
            says so, keeps its console, boots again and returns the script's status
  warn      a script writing "WARNING: test-marker" to /dev/kmsg makes guest.sh FAIL
  fwd       --fwd HOST:8080: a busybox httpd in the guest answers curl on 127.0.0.1:HOST
  module    tests/vm/hello is built against the kernel's headers on the host
            (make -C /lib/modules/VER/build M=build/vm/...), insmod'ed in the guest,
            its messages appear in dmesg, rmmod works, taint is O/E only (O set)
and on the last kernel (6.12):
  icount    booted with --icount, a guest that sleeps 60 s (idle) is done in under
            50 s of host time: its clock counts instructions, idle skipped
and once (first kernel):
  panic     sysrq-c crash: guest.sh fails promptly (no exit code), no hang
  timeout   a script that sleeps is killed by --timeout and guest.sh fails

--kver V    test only these kernels (repeatable)
--no-deps   do not run deps.sh (kernels must then be given with --kver)
--fast      skip panic and timeout
Results: build/vm/selftest/<kver>/<case>/ (console.log, dmesg.txt, ...).
EOF
}

# ------------------------------------------------------------------ guest side
# guest.sh runs this same file inside the guest as: selftest.sh --guest CASE ARGS...
if [[ ${1:-} == --guest ]]; then
    case "${2:-}" in
        basic)
            echo "uname: $(uname -r)"
            [[ $(uname -r) == "$VM_KVER" ]] || { echo "uname -r != VM_KVER ($VM_KVER)"; exit 10; }
            [[ -r $3/tests/vm/guest.sh ]] || { echo "cannot read $3/tests/vm/guest.sh over 9p"; exit 11; }
            head -n 1 "$3/tests/vm/guest.sh" >/dev/null
            ! touch /work/.ro-probe 2>/dev/null || { echo "host root is writable?!"; exit 12; }
            if ! { echo scratch >/tmp/scratch && echo scratch >/var/tmp/scratch; }; then
                echo "tmpfs not writable"; exit 13
            fi
            ip -o link show lo | grep -q 'UP' || { echo "lo is not up"; exit 14; }
            grep -qw 'slub_debug=FZPU' /proc/cmdline || { echo "no slub_debug in a test boot"; exit 15; }
            echo "guest-wrote $(uname -r)" >"$VM_OUT/from-guest.txt"
            echo "basic ok"
            ;;
        exitcode)   # booted with --bench: no allocator debugging
            ! grep -q 'slub_debug' /proc/cmdline || { echo "slub_debug in a --bench boot"; exit 8; }
            exit 7 ;;
        warn) echo "WARNING: test-marker" >/dev/kmsg ;;
        module)
            ko=$3
            insmod "$ko"
            grep -q '^vm_hello ' /proc/modules || { echo "vm_hello not in /proc/modules"; exit 20; }
            dmesg | grep -F "vm_hello: loaded on $(uname -r)" || { echo "no load message"; exit 21; }
            rmmod vm_hello
            dmesg | grep -F "vm_hello: unloaded" || { echo "no unload message"; exit 22; }
            t=$(cat /proc/sys/kernel/tainted)
            echo "tainted=$t"
            (( t & 4096 )) || { echo "O taint bit missing after out-of-tree insmod"; exit 23; }
            ;;
        fwd)
            mkdir -p /tmp/www
            echo "fwd-ok $(uname -r)" >/tmp/www/index.html
            busybox httpd -p "$3" -h /tmp/www   # daemonizes
            touch "$VM_OUT/ready"
            for _ in $(seq 1200); do
                [[ ! -e $VM_OUT/done ]] || exit 0
                sleep 0.1
            done
            echo "host never signalled done"; exit 30
            ;;
        icount)     # booted with --icount: guest time is instructions, idle skipped
            t0=$(date +%s)
            sleep 60
            echo "guest-slept $(($(date +%s) - t0))" >"$VM_OUT/slept.txt" ;;
        panic) echo c >/proc/sysrq-trigger; sleep 60 ;;
        timeout) sleep 3600 ;;
        *) echo "selftest guest: unknown case ${2:-}" >&2; exit 99 ;;
    esac
    exit 0
fi

# ------------------------------------------------------------------ host side
KVERS=() DEPS=1 FAST=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --kver) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; KVERS+=("$2"); shift 2 ;;
        --no-deps) DEPS=0; shift ;;
        --fast) FAST=1; shift ;;
        *) echo "selftest.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "selftest.sh: must run as root" >&2; exit 2; }

if [[ $DEPS -eq 1 ]]; then
    deps_out=$("$SELF_DIR/deps.sh" --quiet)
    if [[ ${#KVERS[@]} -eq 0 ]]; then
        while IFS='=' read -r k v; do
            [[ $k == KVER_* && -n $v ]] && KVERS+=("$v")
        done <<<"$deps_out"
    fi
fi
[[ ${#KVERS[@]} -gt 0 ]] || { echo "selftest.sh: no kernels (use --kver or let deps.sh run)" >&2; exit 2; }

PASS=0 FAIL=0 FAILED=()
ok()  { PASS=$((PASS + 1)); echo "selftest: PASS $1"; }
bad() { FAIL=$((FAIL + 1)); FAILED+=("$1"); echo "selftest: FAIL $1: $2"; }

RES=$VM_BUILD/selftest
BOOTS=()
# run_guest KVER OUTDIR [guest.sh options] -- args ; sets RC, LOG, ELAPSED.
run_guest() {
    local kver=$1 out=$2 t0; shift 2
    rm -rf -- "$out"; mkdir -p -- "$out"
    LOG=$out/guest-sh.log
    t0=$SECONDS
    RC=0
    "$GUEST" --kver "$kver" --out "$out" --quiet "$@" >"$LOG" 2>&1 || RC=$?
    ELAPSED=$((SECONDS - t0))
    local b again
    again=$(grep -m1 'died before the script started' "$LOG" || true)
    [[ -z $again ]] || echo "selftest:   ($kver) $again"
    b=$(sed -n 's/^vm: boot-to-script \([0-9.]*\)s.*/\1/p' "$LOG" | tail -n1)
    [[ -z $b ]] || BOOTS+=("$kver $b")
    echo "selftest:   ($kver) guest.sh rc=$RC in ${ELAPSED}s, boot-to-script ${b:-n/a}s"
}
show_log() { sed 's/^/    | /' "$LOG" | tail -n "${1:-15}"; }

T_START=$SECONDS
first=1
for kver in "${KVERS[@]}"; do
    echo "selftest: ===== kernel $kver"
    base=$RES/$kver

    # basic
    name="$kver basic"
    run_guest "$kver" "$base/basic" --timeout 300 -- "$SELF" --guest basic "$REPO"
    if [[ $RC -ne 0 ]]; then
        bad "$name" "guest.sh exit $RC"; show_log; sed 's/^/    console| /' "$base/basic/console.log" | tail -n 15
    elif [[ $(cat "$base/basic/from-guest.txt" 2>/dev/null) != "guest-wrote $kver" ]]; then
        bad "$name" "from-guest.txt missing or wrong"
    elif ! grep -q "^uname: $kver" "$base/basic/console.log"; then
        bad "$name" "uname line not on the console"
    else
        ok "$name"
    fi

    # exit code propagation
    name="$kver exitcode"
    run_guest "$kver" "$base/exitcode" --timeout 300 --bench -- "$SELF" --guest exitcode
    if [[ $RC -eq 7 ]]; then ok "$name"; else bad "$name" "expected exit 7, got $RC"; show_log; fi

    # a boot that dies before the script is booted once more (and said); the
    # same script then runs and its status is guest.sh's
    name="$kver boot-again"
    VM_FAIL_FIRST_BOOT=1 run_guest "$kver" "$base/boot-again" --timeout 300 --bench -- "$SELF" --guest exitcode
    if [[ $RC -eq 7 ]] && grep -q 'died before the script started' "$LOG" &&
       grep -q 'vm.failboot=1: dying before the script' "$base/boot-again/console.boot-failed.log" &&
       ! grep -q 'vm.failboot' "$base/boot-again/console.log"; then
        ok "$name"
    else
        bad "$name" "expected a second boot that runs the script (exit 7), got $RC"; show_log
    fi

    # dmesg scanner: a WARNING line must fail the run
    name="$kver warn-detected"
    run_guest "$kver" "$base/warn" --timeout 300 -- "$SELF" --guest warn
    if [[ $RC -eq 1 ]] && grep -q 'WARNING: test-marker' "$LOG" && [[ $(cat "$base/warn/exitcode" 2>/dev/null) == 0 ]]; then
        ok "$name"
    else
        bad "$name" "expected guest.sh to fail on the marker (rc=$RC)"; show_log
    fi

    # user-mode NIC + hostfwd (what `make vm-run` will use)
    name="$kver fwd"
    # A port below the ephemeral range (ip_local_port_range starts at 32768) that no
    # socket of any state holds: a client socket or a TIME_WAIT left by the load suites
    # on an ephemeral port makes QEMU's hostfwd bind fail.
    fo=$base/fwd
    for attempt in 1 2 3; do
        port=""
        for _ in $(seq 50); do
            p=$((20000 + RANDOM % 12000))
            if ! ss -Htan "( sport = :$p or dport = :$p )" | grep -q .; then port=$p; break; fi
        done
        rm -rf -- "$fo"; mkdir -p -- "$fo"
        LOG=$fo/guest-sh.log
        t0=$SECONDS
        "$GUEST" --kver "$kver" --out "$fo" --quiet --timeout 300 --fwd "$port:8080" -- "$SELF" --guest fwd 8080 >"$LOG" 2>&1 &
        gpid=$!
        while kill -0 "$gpid" 2>/dev/null && [[ ! -e $fo/ready ]]; do sleep 0.2; done
        body=""
        if [[ -e $fo/ready ]]; then
            # slirp accepts on the host at once; under TCG the guest side may lag
            for _ in 1 2 3 4 5; do
                body=$(curl -s --max-time 20 "http://127.0.0.1:$port/index.html" || true)
                [[ -z $body ]] || break
                sleep 1
            done
        fi
        touch "$fo/done"
        RC=0; wait "$gpid" || RC=$?
        # only a lost race for the port is retried (another socket took it meanwhile)
        grep -q 'host forwarding' "$LOG" 2>/dev/null && [[ $RC -ne 0 ]] || break
        echo "selftest:   ($kver) port $port taken, retrying"
    done
    echo "selftest:   ($kver) guest.sh rc=$RC in $((SECONDS - t0))s, curl got: ${body:-nothing}"
    if [[ $RC -eq 0 && $body == "fwd-ok $kver" ]]; then ok "$name"; else bad "$name" "rc=$RC body='$body'"; show_log; fi

    # out-of-tree module: build on the host, load/unload in the guest
    name="$kver module-build"
    mb=$VM_BUILD/hello/$kver
    rm -rf -- "$mb"; mkdir -p -- "$mb"
    cp -- "$SELF_DIR/hello/Kbuild" "$SELF_DIR/hello/hello.c" "$mb/"
    if make -C "/lib/modules/$kver/build" M="$mb" modules >"$mb/build.log" 2>&1 && [[ -f $mb/vm_hello.ko ]]; then
        if grep -qi 'warning:' "$mb/build.log"; then
            bad "$name" "compiler warnings (see $mb/build.log)"
        else
            ok "$name"
        fi
        name="$kver module-load"
        run_guest "$kver" "$base/module" --timeout 300 -- "$SELF" --guest module "$mb/vm_hello.ko"
        taint=$(cat "$base/module/tainted" 2>/dev/null || echo none)
        if [[ $RC -ne 0 ]]; then
            bad "$name" "guest.sh exit $RC"; show_log 25
        elif [[ ! $taint =~ ^[0-9]+$ ]] || (( (taint & 4096) == 0 || (taint & ~12288) != 0 )); then
            bad "$name" "unexpected taint $taint"
        elif ! grep -q "vm_hello: loaded on $kver" "$base/module/dmesg.txt" ||
             ! grep -q 'vm_hello: unloaded' "$base/module/dmesg.txt"; then
            bad "$name" "module messages missing from dmesg.txt"
        else
            ok "$name (taint $taint)"
        fi
    else
        bad "$name" "make failed (see $mb/build.log)"; tail -n 15 "$mb/build.log" | sed 's/^/    | /'
        bad "$kver module-load" "not run: build failed"
    fi

    if [[ $kver == "${KVERS[-1]}" ]]; then
        # --icount: the guest's clock runs on instructions, not on the host's
        # (a 60 s sleep in the guest, idle all along, passes in far less).
        # The last kernel only: Debian's 6.1 prints nothing and never reaches
        # the script under -icount (seen 7 December, not investigated)
        name="$kver icount"
        run_guest "$kver" "$base/icount" --timeout 120 --bench --icount -- "$SELF" --guest icount
        slept=$(sed -n 's/^guest-slept //p' "$base/icount/slept.txt" 2>/dev/null || true)
        if [[ $RC -eq 0 && ${slept:-0} -ge 60 && $ELAPSED -lt 50 ]]; then
            ok "$name"
        else
            bad "$name" "expected a 60 s guest sleep in under 50 s (rc=$RC, guest ${slept:-?}s, host ${ELAPSED}s)"; show_log
        fi
    fi

    if [[ $first -eq 1 && $FAST -eq 0 ]]; then
        # kernel crash -> panic -> reboot -> QEMU exits (-no-reboot): must fail, not hang
        name="$kver panic-detected"
        run_guest "$kver" "$base/panic" --timeout 300 -- "$SELF" --guest panic
        if [[ $RC -eq 1 && $ELAPSED -lt 200 ]] && grep -q 'no exit code' "$LOG" &&
           ! grep -q 'booting again' "$LOG" &&
           grep -q 'Kernel panic' "$base/panic/console.log"; then
            ok "$name"
        else
            bad "$name" "expected a prompt failure with a panic on the console (rc=$RC, ${ELAPSED}s)"; show_log
        fi

        # --timeout kills a hung guest
        name="$kver timeout-enforced"
        run_guest "$kver" "$base/timeout" --timeout 45 -- "$SELF" --guest timeout
        if [[ $RC -eq 1 && $ELAPSED -lt 60 ]] && grep -q 'timeout: QEMU killed' "$LOG"; then
            ok "$name"
        else
            bad "$name" "expected a timeout failure within ~45s (rc=$RC, ${ELAPSED}s)"; show_log
        fi
    fi
    first=0
done

echo "selftest: boot-to-script times (s):"
for b in "${BOOTS[@]}"; do echo "selftest:   $b"; done
echo "selftest: total $((SECONDS - T_START))s"
if [[ $FAIL -gt 0 ]]; then
    echo "selftest: failed: ${FAILED[*]}"
fi
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
