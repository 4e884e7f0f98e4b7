#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/full.sh
#
# Fetch the real programs of the full image (IMAGE=full): Debian 12's own
# redis-server, redis-cli and redis-benchmark, and python3, with the
# shared libraries they load, as vm/kernel.sh fetches the kernel: the
# packages at apt's candidate version, with apt-get download, unpacked with
# dpkg-deb -x under $BUILD/full/root (nothing is installed on the host).
# Documentation, locales and gconv are left out.  $BUILD/full/packages
# records each package and version: the same versions give the same image,
# byte for byte (vm/image.sh).  Each program is started once in the
# unpacked root, so that a missing library shows here, not in the guest.
set -euo pipefail
source "$(dirname "$0")/config.sh"

dir=$BUILD/full
# The programs, then every library their ELF files need (readelf -d; the
# check below fails on one that is missing).
packages=(
	redis-server redis-tools python3.11-minimal python3-minimal
	libc6 libgcc-s1 libstdc++6 libatomic1 libjemalloc2 liblzf1 libssl3 libsystemd0
	libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1
	libpython3.11-minimal libexpat1 zlib1g
)

# Fetched already, for this list of packages.
if [ -s "$dir/packages" ] && [ -d "$dir/root" ] &&
	[ "$(cat "$dir/list" 2>/dev/null)" = "${packages[*]}" ]; then
	exit 0
fi
echo "full: fetching ${#packages[@]} Debian packages (redis, python3 and their libraries)"
rm -rf "$dir"
mkdir -p "$dir/deb" "$dir/root"
(cd "$dir/deb" && apt-get download -q "${packages[@]}" >/dev/null 2>"$dir/download.err") ||
	die "apt-get download failed (run 'apt-get update'?): $(tail -1 "$dir/download.err")"
for deb in "$dir"/deb/*.deb; do
	dpkg-deb -x "$deb" "$dir/root"
	dpkg-deb -f "$deb" Package Version | paste -sd' ' | sed 's/^Package: \(.*\) Version: /\1=/'
done | LC_ALL=C sort >"$dir/packages.tmp"
rm -rf "$dir/root/usr/share" "$dir/root/usr/lib/x86_64-linux-gnu/gconv" \
	"$dir/root/etc/init.d" "$dir/root/etc/logrotate.d" "$dir/root/lib/systemd" \
	"$dir/root/usr/lib/systemd" "$dir/root/etc/systemd"

# Each program starts in the unpacked root: chroot as root; otherwise
# through the root's own loader (python3 may then find the host's library).
check() {	# check PROGRAM ARG...
	local out

	if [ "$(id -u)" -eq 0 ]; then
		out=$(chroot "$dir/root" "$@" 2>&1)
	else
		out=$("$dir/root/lib64/ld-linux-x86-64.so.2" --library-path \
			"$dir/root/lib/x86_64-linux-gnu:$dir/root/usr/lib/x86_64-linux-gnu" \
			"$dir/root$1" "${@:2}" 2>&1)
	fi || die "$1 does not start in $dir/root: $out"
	echo "full: $1: $out" | head -1
}
check /usr/bin/redis-server --version
check /usr/bin/redis-cli --version
check /usr/bin/redis-benchmark --version
check /usr/bin/python3 -c 'import gc, os, sys; print("Python", sys.version.split()[0])'
rm -rf "$dir/deb" "$dir/download.err"
mv "$dir/packages.tmp" "$dir/packages"
echo "${packages[*]}" >"$dir/list"
echo "full: $dir/root ($(du -sh "$dir/root" | cut -f1)), packages in $dir/packages"
