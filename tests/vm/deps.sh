#!/usr/bin/env bash
# Install what the QEMU guest test bench needs (DESIGN.md §7). Idempotent; run as root.
#
#   - qemu-system-x86, busybox-static, cpio, kmod  (guest boot + initramfs build)
#   - Debian 12's 6.1 kernel:  linux-image-amd64 linux-headers-amd64
#   - the newest Debian 6.12 kernel, plain amd64 flavour (not rt/cloud):
#     linux-image-6.12.*-amd64[-unsigned] + linux-headers-6.12.*-amd64
#     (6.12 first came to bookworm via bookworm-backports as 6.12.*+bpo / 6.12.43+deb12;
#     newer builds 6.12.*+deb12 are published in bookworm-security. The backports source
#     is added if missing and the newest version from any configured suite wins.)
#
# Only packages that are missing (dpkg -s) are installed; `apt-get update` runs at most
# once, and only when something has to be installed or looked up. Prints the two kernel
# versions it resolved as the last two lines:
#   KVER_61=6.1.0-NN-amd64
#   KVER_612=6.12.NN+deb12-amd64
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: tests/vm/deps.sh [--quiet] [--help]

Installs (as root, only what is missing) qemu-system-x86, busybox-static, cpio, kmod,
Debian 12's 6.1 kernel image + headers (linux-image-amd64, linux-headers-amd64) and the
newest Debian 6.12 kernel image + headers of the plain amd64 flavour (unsigned image
preferred), from bookworm-backports or bookworm-security, whichever has the newest.
Adds a bookworm-backports apt source if none is configured. Prints the resolved
kernel versions:
  KVER_61=<version>
  KVER_612=<version>
--quiet   only print the two KVER_ lines (apt output goes to stderr)
EOF
}

QUIET=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -q|--quiet) QUIET=1; shift ;;
        *) echo "deps.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { echo "deps.sh: $*" >&2; }
die() { echo "deps.sh: ERROR: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

UPDATED=0
apt_update_once() {
    if [[ $UPDATED -eq 0 ]]; then
        log "apt-get update"
        apt-get update -q >&2
        UPDATED=1
    fi
}

is_installed() {
    # dpkg -s reports "Status: install ok installed" for a fully installed package
    local st
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $st == "install ok installed" ]]
}

install_missing() {
    local missing=() p
    for p in "$@"; do
        is_installed "$p" || missing+=("$p")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt_update_once
        log "installing: ${missing[*]}"
        apt-get install "${APT_OPTS[@]}" "${missing[@]}" >&2
    fi
}

# ---------------------------------------------------------------- backports source
ensure_backports_source() {
    if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        return 0
    fi
    # Reuse the mirror and keyring of the main Debian entry (deb822 debian.sources).
    local src=/etc/apt/sources.list.d/debian.sources uri="" keyring=""
    if [[ -f $src ]]; then
        # First stanza whose Suites include plain "bookworm".
        read -r uri keyring < <(awk '
            BEGIN { RS=""; FS="\n" }
            {
                u=""; s=""; k=""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)      { u=$i; sub(/^URIs:[ \t]*/, "", u); split(u, a, /[ \t]+/); u=a[1] }
                    if ($i ~ /^Suites:/)    { s=" " $i " " }
                    if ($i ~ /^Signed-By:/) { k=$i; sub(/^Signed-By:[ \t]*/, "", k) }
                }
                if (s ~ /[ \t]bookworm[ \t]/ && u != "") { print u, (k == "" ? "-" : k); exit }
            }' "$src") || true
    fi
    [[ -n $uri ]] || uri=http://deb.debian.org/debian
    [[ -n $keyring && $keyring != "-" ]] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    log "adding /etc/apt/sources.list.d/backports.sources ($uri bookworm-backports)"
    cat > /etc/apt/sources.list.d/backports.sources <<EOF
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $keyring
EOF
}

ensure_backports_source

# ---------------------------------------------------------------- base tools + 6.1 kernel
# KS_EXTRA_PACKAGES: the rest of the project's packages (tests/deps.sh), so
# that one apt-get update serves everything.
# shellcheck disable=SC2086 # a list of package names
install_missing qemu-system-x86 busybox-static cpio kmod procps linux-image-amd64 linux-headers-amd64 \
    ${KS_EXTRA_PACKAGES:-}

# Resolve the 6.1 version from the metapackage's dependency (linux-image-6.1.0-NN-amd64).
KVER_61=$(dpkg-query -W -f='${Depends}' linux-image-amd64 |
          awk -F'[ ,|]+' '{ for (i = 1; i <= NF; i++) if ($i ~ /^linux-image-6\.1\.[^ ]*-amd64$/) { sub(/^linux-image-/, "", $i); print $i; exit } }')
[[ -n $KVER_61 ]] || die "cannot resolve the 6.1 kernel version from linux-image-amd64"
install_missing "linux-image-$KVER_61" "linux-headers-$KVER_61"

# ---------------------------------------------------------------- 6.12 kernel (backports)
# Candidate image packages: linux-image-6.12.<abi>-amd64[-unsigned] where <abi> has no
# dash (6.12.117+deb12, 6.12.90+deb12.1, 6.12.12+bpo); excludes -rt-amd64 / -cloud-amd64.
installed_612() {
    { dpkg-query -W -f='${Package} ${Status}\n' 'linux-image-6.12*' 2>/dev/null || true; } |
        awk '$NF == "installed" && $1 ~ /^linux-image-6\.12\.[0-9][^ -]*-amd64(-unsigned)?$/ { print $1 }'
}

KVER_612=""
pkg_612=$(installed_612 | sed -E 's/^linux-image-//; s/-unsigned$//' | sort -V | tail -n1)
if [[ -n $pkg_612 ]] && is_installed "linux-headers-$pkg_612"; then
    KVER_612=$pkg_612
else
    search_612() {
        apt-cache search --names-only '^linux-image-6\.12\.[0-9][^ -]*-amd64(-unsigned)?$' |
            awk '{ print $1 }' | grep -E '^linux-image-6\.12\.[0-9][^ -]*-amd64(-unsigned)?$' || true
    }
    # A freshly added backports source has no lists yet: the search finds nothing and
    # triggers the (single) update.
    cands=$(search_612)
    if [[ -z $cands ]]; then
        apt_update_once
        cands=$(search_612)
    fi
    [[ -n $cands ]] || die "no linux-image-6.12*-amd64 package found (are bookworm-backports / bookworm-security reachable?)"
    KVER_612=$(sed -E 's/^linux-image-//; s/-unsigned$//' <<<"$cands" | sort -uV | tail -n1)
    img="linux-image-$KVER_612"
    if grep -qx "linux-image-$KVER_612-unsigned" <<<"$cands"; then
        img="linux-image-$KVER_612-unsigned"
    fi
    pkgs=("linux-headers-$KVER_612")
    # A signed/unsigned twin already installed satisfies the image requirement.
    if ! is_installed "linux-image-$KVER_612" && ! is_installed "linux-image-$KVER_612-unsigned"; then
        pkgs=("$img" "${pkgs[@]}")
    fi
    missing=()
    for p in "${pkgs[@]}"; do is_installed "$p" || missing+=("$p"); done
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt_update_once
        log "installing 6.12: ${missing[*]}"
        apt-get install "${APT_OPTS[@]}" "${missing[@]}" >&2
    fi
fi

# ---------------------------------------------------------------- sanity
for v in "$KVER_61" "$KVER_612"; do
    [[ -f /boot/vmlinuz-$v ]] || die "/boot/vmlinuz-$v missing after install"
    [[ -d /lib/modules/$v/kernel ]] || die "/lib/modules/$v/kernel missing after install"
    [[ -e /lib/modules/$v/build/Makefile ]] || die "/lib/modules/$v/build (headers) missing after install"
done

if [[ $QUIET -eq 0 ]]; then
    log "qemu: $(qemu-system-x86_64 --version | head -n1)"
    log "6.1 kernel:  $KVER_61"
    log "6.12 kernel: $KVER_612"
fi
echo "KVER_61=$KVER_61"
echo "KVER_612=$KVER_612"
