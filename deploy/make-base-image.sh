#!/bin/sh
# Make the base image locally, without a registry: Debian bookworm (minbase)
# with Python 3.11, venv and CA certificates, imported as IMAGE.
#
#   deploy/make-base-image.sh [IMAGE]        (default wasmtask-base:bookworm)
#
# The root filesystem tarball is cached under build/deploy/, keyed by this
# script's hash (or at $WASMTASK_BASE_TARBALL): a second run only imports it,
# in seconds. Delete it to pick up newer Debian updates.
# Needs root and debootstrap (apt-get install debootstrap). Environment:
#   DOCKER                  the docker client (default: docker)
#   DEBIAN_MIRROR           the Debian mirror (default http://deb.debian.org/debian)
#   DEBIAN_SECURITY_MIRROR  its security updates (default http://deb.debian.org/debian-security)
set -eu

IMAGE=${1:-wasmtask-base:bookworm}
HERE=$(cd "$(dirname "$0")" && pwd)
KEY=$(sha256sum "$0" | cut -c1-12)
TARBALL=${WASMTASK_BASE_TARBALL:-$HERE/../build/deploy/base-bookworm-$KEY.tar}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
DOCKER=${DOCKER:-docker}
PACKAGES=python3,python3-venv,ca-certificates

if [ ! -s "$TARBALL" ]; then
    command -v debootstrap >/dev/null || { echo "make-base-image: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    mkdir -p "$(dirname "$TARBALL")"
    ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/wasmtask-rootfs.XXXXXX")
    cleanup() {
        # debootstrap mounts proc and sys inside; never rm -rf through a mount.
        grep -o " $ROOTFS/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l
        rm -rf "$ROOTFS"
    }
    trap cleanup EXIT
    debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" >&2
    # debootstrap knows one suite: add the point and security updates, upgrade.
    cat > "$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
SOURCES
    chroot "$ROOTFS" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
        'apt-get update -q && apt-get upgrade -y -q && apt-get clean' >&2
    # Nothing the image needs at run time: package caches, lists, docs.
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
           "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*
    tar --numeric-owner -C "$ROOTFS" -cf "$TARBALL.partial" .
    mv "$TARBALL.partial" "$TARBALL"
fi

"$DOCKER" import --change 'CMD ["/bin/bash"]' "$TARBALL" "$IMAGE" >/dev/null
echo "$IMAGE"
