#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/kernel.sh
#
# Fetch the Debian kernel the VM boots: the image of $KVER at exactly the
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

# Debian 13's kernels come from the trixie root (vm/buildroot.sh), which
# has their headers; Debian 12's from the host's apt.
if "$TOP/vm/buildroot.sh" needed "$KVER"; then
	"$TOP/vm/buildroot.sh" headers "$KVER"
	version=$("$TOP/vm/buildroot.sh" run dpkg-query -W -f='${Version}' "linux-headers-$KVER") ||
		die "linux-headers-$KVER is not in the trixie root"
	download() { "$TOP/vm/buildroot.sh" download "$dir/deb" "$1" 2>/dev/null; }
else
	version=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER" 2>/dev/null) ||
		die "linux-headers-$KVER is not installed: run vm/deps.sh"
	download() { (cd "$dir/deb" && apt-get download -q "$1" >/dev/null 2>&1); }
fi
echo "kernel: fetching the kernel of $KVER=$version"
rm -rf "$dir"
mkdir -p "$dir/deb"
# 7.x splits the image: linux-binary holds the vmlinuz alone (14 MB).
for pkg in "linux-binary-$KVER" "linux-image-$KVER" "linux-image-$KVER-unsigned"; do
	download "$pkg=$version" && break
done
compgen -G "$dir/deb/*.deb" >/dev/null || die "cannot download the kernel of $KVER=$version (run 'apt-get update'?)"
dpkg-deb -x "$dir"/deb/*.deb "$dir/root"
# 6.19 to 7.1 and older: /boot; 7.2 on: beside the modules.
for f in "$dir/root/boot/vmlinuz-$KVER" "$dir/root/usr/lib/modules/$KVER/vmlinuz"; do
	[ -f "$f" ] && cp "$f" "$dir/vmlinuz"
done
[ -s "$dir/vmlinuz" ] || die "no vmlinuz in $(basename "$dir"/deb/*.deb)"
rm -rf "$dir/deb" "$dir/root"
printf '%s %s\n' "$KVER" "$version" >"$dir/version"
echo "kernel: $dir/vmlinuz ($KVER, Debian $version)"
