#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/deb-install.sh [DIST...]    (make test-deb, after make deb; as root)
#
# The packages as a Debian user installs them, in a fresh root of each
# DIST (default: bookworm, Debian 12 with its linux-headers-amd64, and
# trixie, Debian 13 with trixie-backports' linux-headers-amd64), made with
# debootstrap from the host's mirror and thrown away after:
#  1. apt install ./cowstat-dkms_*.deb ./cowprobe_*.deb builds the module
#     through DKMS for the root's kernel (its vermagic checked), and
#     cowprobe --help and --version run;
#  2. apt purge removes the module from DKMS and /lib/modules, and the
#     packages' files from the system.
# Prints "ok" / "not ok" lines, then "N passed, N failed".
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

[ "$(id -u)" -eq 0 ] || die "tests/deb-install.sh needs root (debootstrap, chroot)"
install_missing debootstrap
version=$(cat "$TOP/VERSION")
debs=("$BUILD/deb/cowstat-dkms_${version}_all.deb" "$BUILD/deb/cowprobe_${version}_amd64.deb")
for deb in "${debs[@]}"; do
	[ -f "$deb" ] || die "no $deb: run make deb"
done
[ $# -gt 0 ] || set -- bookworm trixie

mirror=$(apt-get indextargets --format '$(SITE)' 'Component: main' 2>/dev/null |
	grep -v security | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
root=

# shellcheck disable=SC2317	# run by the trap
unmount_root() {
	[ -n "$root" ] || return 0
	! mountpoint -q "$root/proc" || umount "$root/proc" || umount -l "$root/proc"
}
trap unmount_root EXIT
trap 'unmount_root; exit 130' INT TERM HUP

in_root() {	# in_root COMMAND...: as root in the fresh root
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

for dist in "$@"; do
	root=$BUILD/deb-roots/$dist
	log=$BUILD/deb-roots/$dist.log
	rm -rf "$root"
	mkdir -p "$root"
	echo "# $dist: debootstrap into $root"
	if ! debootstrap --variant=minbase "$dist" "$root" "$mirror" >"$log" 2>&1; then
		result 0 "$dist: debootstrap" "$(tail -n 5 "$log")"
		continue
	fi
	headers=(linux-headers-amd64)
	if [ "$dist" = trixie ]; then
		printf 'deb %s trixie-backports main\n' "$mirror" \
			>"$root/etc/apt/sources.list.d/backports.list"
		headers=(-t trixie-backports linux-headers-amd64)
	fi
	mount -t proc proc "$root/proc"
	cp "${debs[@]}" "$root/tmp/"
	if ! { in_root apt-get update -q &&
	       in_root apt-get install -y -q --no-install-recommends "${headers[@]}"; } >>"$log" 2>&1; then
		result 0 "$dist: linux-headers-amd64" "$(tail -n 5 "$log")"
		unmount_root
		continue
	fi
	rel=$(find "$root/usr/src" -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
		sed 's/^linux-headers-//' | sort -V | tail -n 1)
	echo "# $dist: kernel headers $rel"

	# 1. Install: DKMS builds the module for the kernel whose headers are there.
	in_root apt-get install -y -q --no-install-recommends \
		"/tmp/${debs[0]##*/}" "/tmp/${debs[1]##*/}" >>"$log" 2>&1 || true
	ko=$(find "$root/lib/modules/$rel" -name 'cowstat.ko*' 2>/dev/null | head -n 1)
	magic=
	[ -z "$ko" ] || magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	result "$([ "$magic" = "$rel" ] && echo 1 || echo 0)" \
		"$dist: apt install built cowstat.ko for $rel through DKMS" \
		"module: ${ko:-none}, vermagic '${magic}'" "$(grep -i -E 'dkms|error' "$log" | tail -n 8)"
	status=$(in_root dkms status cowstat 2>/dev/null || true)
	result "$(grep -q "cowstat/$version, $rel, x86_64: installed" <<<"$status" && echo 1 || echo 0)" \
		"$dist: dkms status says cowstat/$version is installed for $rel" "dkms status: $status"
	help=$(in_root cowprobe --help 2>&1 | head -n 1 || true)
	said=$(in_root cowprobe --version 2>&1 || true)
	result "$([[ $help == usage:\ cowprobe* ]] && [ "$said" = "cowprobe $version" ] && echo 1 || echo 0)" \
		"$dist: cowprobe --help and --version run" "--help: $help" "--version: $said"
	result "$([ -f "$root/usr/share/man/man1/cowprobe.1.gz" ] &&
		  [ -f "$root/usr/share/man/man5/cowstat.5.gz" ] && echo 1 || echo 0)" \
		"$dist: the manual pages cowprobe(1) and cowstat(5) are installed"

	# 2. Purge: the module leaves DKMS and /lib/modules, the files the system.
	in_root apt-get purge -y -q cowstat-dkms cowprobe >>"$log" 2>&1 || true
	status=$(in_root dkms status cowstat 2>/dev/null || true)
	left=$(find "$root/lib/modules" "$root/usr/src" "$root/var/lib/dkms" "$root/usr/bin" \
		\( -name 'cowstat*' -o -name cowprobe \) 2>/dev/null || true)
	result "$([ -z "$status" ] && [ -z "$left" ] && echo 1 || echo 0)" \
		"$dist: apt purge removed the module from DKMS and every file" \
		"dkms status: $status" "left: $left"
	unmount_root
	rm -rf "$root"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
