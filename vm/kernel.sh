#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/kernel.sh
#
# Fetch the Debian kernel the VM boots: linux-image-$KVER at exactly the
# version of the installed linux-headers-$KVER, so that the module's
# vermagic matches.  The package is unpacked under $BUILD/kernel (the
# host's /boot is never touched); the release is recorded there.
set -euo pipefail
source "$(dirname "$0")/config.sh"

KVER=$(kver)
dir=$BUILD/kernel/$KVER
if [ -s "$dir/vmlinuz" ] && [ -s "$dir/version" ]; then
	exit 0
fi

version=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER" 2>/dev/null) ||
	die "linux-headers-$KVER is not installed: run vm/deps.sh"
pkg=linux-image-$KVER
echo "kernel: fetching $pkg=$version"
rm -rf "$dir"
mkdir -p "$dir/deb"
(cd "$dir/deb" && apt-get download -q "$pkg=$version" >/dev/null 2>&1) ||
	(cd "$dir/deb" && apt-get download -q "$pkg-unsigned=$version" >/dev/null) ||
	die "cannot download $pkg=$version (run 'apt-get update'?)"
dpkg-deb -x "$dir"/deb/*.deb "$dir/root"
cp "$dir/root/boot/vmlinuz-$KVER" "$dir/vmlinuz"
rm -rf "$dir/deb" "$dir/root"
printf '%s %s\n' "$KVER" "$version" >"$dir/version"
echo "kernel: $dir/vmlinuz ($KVER, Debian $version)"
