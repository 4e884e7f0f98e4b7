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
		apt_get update -q
	else
		die "apt knows no packages yet: run 'sudo apt-get update', then again"
	fi
fi
KVER=$(kver)

# The VM needs a static BusyBox for /init and the guest's shell.  Debian
# 13's kernels build in the trixie root, which has their headers.
if "$TOP/vm/buildroot.sh" needed "$KVER"; then
	install_missing gcc make libc6-dev cpio busybox-static qemu-system-x86
	"$TOP/vm/buildroot.sh" headers "$KVER"
else
	install_missing gcc make libc6-dev cpio busybox-static qemu-system-x86 "linux-headers-$KVER"
fi
