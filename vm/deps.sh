#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/deps.sh
#
# Make sure the host has what building and booting cowstat needs: a C
# toolchain, the Debian kernel headers of the release the VM boots, QEMU,
# a static BusyBox and cpio.  As root, missing packages are installed with
# apt-get; otherwise the exact command to run is printed.
set -euo pipefail
source "$(dirname "$0")/config.sh"

apt_lists_empty() {
	! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

# On a fresh machine apt knows no packages yet: kver.sh needs the lists.
if apt_lists_empty || ! KVER=$(kver 2>/dev/null); then
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps: apt-get update"
		apt-get update -q >/dev/null
	else
		die "apt knows no packages yet: run 'sudo apt-get update', then again"
	fi
fi
KVER=$(kver)

missing=()
need() {	# need PACKAGE: add it unless dpkg says it is installed
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$1")
}
need gcc
need make
need libc6-dev
need cpio
need busybox-static	# /init and the shell in the guest need a static one
need qemu-system-x86
need "linux-headers-$KVER"

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	die "missing packages; run: sudo $cmd"
fi
echo "deps: $cmd"
DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
