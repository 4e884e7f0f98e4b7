#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/buildroot.sh needed RELEASE     exit 0 if RELEASE builds in the root
#        vm/buildroot.sh series SERIES      newest SERIES.* release trixie has
#        vm/buildroot.sh newest N           that of each of the newest N series
#        vm/buildroot.sh headers RELEASE    install linux-headers-RELEASE in it
#        vm/buildroot.sh run COMMAND...     run COMMAND in it, in this checkout
#        vm/buildroot.sh download DIR PKG...  fetch Debian packages into DIR
#
# Debian 13's kernels (+deb13: 6.12 and the 7.x of trixie-backports) have
# headers built for trixie's toolchain (gcc-14, glibc 2.38), which a Debian
# 12 host lacks.  They are built in a trixie root made once with
# debootstrap and cached outside the repository, in
#   ${COWSTAT_CACHE:-$XDG_CACHE_HOME/cowstat or ~/.cache/cowstat}/trixie-root
# (about 900 MB with one kernel's headers).  This checkout is bind-mounted
# at /src in it, /proc is mounted (objtool reads it); both are unmounted
# when the command ends, whether it succeeded or not.  Making the root and
# entering it need root; anyone else is told the commands.
set -euo pipefail
source "$(dirname "$0")/config.sh"

cache=${COWSTAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cowstat}
root=$cache/trixie-root

usage() { sed -n '3,8s/^# \{0,1\}//p' "$0"; exit 2; }

# Debian 13 and later releases: 6.12.57+deb13-amd64, 7.3.4+deb13-amd64.
needed() {
	[[ $1 =~ \+deb([0-9]+)-amd64$ ]] && [ "${BASH_REMATCH[1]}" -ge 13 ]
}

# The host's Debian mirror, so that the root comes from where apt already goes.
mirror() {
	local uri

	uri=$(apt-get indextargets --format '$(SITE)' 'Component: main' 2>/dev/null |
		grep -v security | head -n 1)
	printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

need_root() {	# need_root WHAT COMMAND...
	local what=$1

	shift
	[ "$(id -u)" -ne 0 ] || return 0
	die "$what needs root (debootstrap, chroot); run: sudo $*"
}

# Undo enter()'s mounts: on its return, and on an interrupt or a kill.
unmount_all() {
	local m

	for m in "$root/src" "$root/proc"; do
		! mountpoint -q "$m" || umount "$m" || umount -l "$m"
	done
}

# chroot with /proc and this checkout mounted; both unmounted on any exit.
enter() {	# enter COMMAND...
	local status=0

	mkdir -p "$root/src"
	trap 'unmount_all; exit 130' INT TERM HUP
	trap unmount_all EXIT
	mount -t proc proc "$root/proc"
	mount --bind "$TOP" "$root/src"
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		/bin/sh -c 'cd /src && exec "$@"' sh "$@" || status=$?
	unmount_all
	trap - INT TERM HUP EXIT
	return "$status"
}

# Make the root once: debootstrap (about 35 s, 214 MB), trixie-backports,
# the tools every kernel's headers need.  A root left half made is redone.
make_root() {
	[ -f "$root/.cowstat-ready" ] && return 0
	need_root "the trixie build root" "vm/buildroot.sh $*"
	# Messages to stderr: "series" and "newest" print releases on stdout.
	install_missing debootstrap >&2
	rm -rf "$root"
	mkdir -p "$cache"
	echo "buildroot: debootstrap trixie into $root (once)" >&2
	debootstrap --variant=minbase trixie "$root" "$(mirror)" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
	printf 'deb %s trixie-backports main\n' "$(mirror)" >"$root/etc/apt/sources.list.d/backports.list"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# No pseudo-terminal in the root: dpkg would complain of /dev/pts; and
	# root's own downloads: _apt cannot write to the folders they go to.
	printf 'Dpkg::Use-Pty "0";\nAPT::Sandbox::User "root";\n' \
		>"$root/etc/apt/apt.conf.d/90cowstat"
	# binutils by name: the headers pull gcc-14 but not the assembler.
	enter sh -c 'apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends make binutils dkms kmod sparse >/dev/null'
	: >"$root/.cowstat-ready"
}

# One user of the root at a time: two makes would both install packages.
lock() {
	mkdir -p "$cache"
	exec 9>"$cache/trixie-root.lock"
	flock 9
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case $cmd in
needed)
	[ $# -eq 1 ] || usage
	needed "$1"
	;;
series|newest)
	[ $# -eq 1 ] || usage
	lock
	make_root "$cmd" "$1"
	need_root "asking the trixie root" "vm/buildroot.sh $cmd $1"
	# trixie and trixie-backports.
	releases=$(enter apt-cache search --names-only '^linux-headers-[0-9]' | headers_releases)
	if [ "$cmd" = series ]; then
		series=("$1")
	else
		mapfile -t series < <(sed 's/^\([0-9]*\.[0-9]*\)\..*/\1/' <<<"$releases" |
			uniq | tail -n "$1")
	fi
	for s in "${series[@]}"; do
		rel=$(newest_of_series "$s" <<<"$releases") ||
			die "trixie has no linux-headers-$s.*-amd64"
		printf '%s\n' "$rel"
	done
	;;
headers)
	[ $# -eq 1 ] || usage
	lock
	make_root headers "$1"
	[ -d "$root/usr/src/linux-headers-$1" ] && exit 0
	need_root "installing linux-headers-$1 in the trixie root" "vm/buildroot.sh headers $1"
	echo "buildroot: linux-headers-$1 (once)" >&2
	enter apt-get install -y -q --no-install-recommends -t trixie-backports \
		"linux-headers-$1" >/dev/null
	;;
run)
	[ $# -ge 1 ] || usage
	lock
	make_root run "$@"
	need_root "building in the trixie root" "vm/buildroot.sh run $*"
	enter "$@"
	;;
download)
	[ $# -ge 2 ] || usage
	dir=$1
	shift
	lock
	make_root download "$dir" "$@"
	need_root "downloading in the trixie root" "vm/buildroot.sh download $dir $*"
	rm -rf "$root/tmp/download"
	mkdir -p "$root/tmp/download"
	enter sh -c 'cd /tmp/download && apt-get download -q "$@" >/dev/null' sh "$@"
	mkdir -p "$dir"
	mv "$root"/tmp/download/*.deb "$dir/"
	;;
*)
	usage
	;;
esac
