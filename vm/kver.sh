#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/kver.sh [SERIES | --tested]
#
# Print the Debian kernel release (e.g. 6.1.0-56-amd64) that cowstat builds
# against and boots: $KVER if set, else the one Debian's linux-headers-amd64
# metapackage points to (installed, or else the archive's candidate).
#
# With SERIES, the newest release of that series Debian has, so that
# nothing names a point release that will vanish:
#   6.12         Debian 12's (6.12.117+deb12-amd64), from the host's apt
#   6.12+deb13   Debian 13's (6.12.117+deb13-amd64), from the trixie root
#   7.3          where only Debian 13 has it: trixie-backports (7.3.4+deb13-amd64)
# With --tested, every kernel the suite runs on (make test-kernels), oldest
# first: Debian 12's two, Debian 13's 6.12, and the newest two series of
# trixie-backports.  The trixie root is vm/buildroot.sh's.
set -euo pipefail
source "$(dirname "$0")/config.sh"
top=$TOP

# The newest plain -amd64 release of SERIES in the host's apt lists.
host_series() {
	apt-cache search --names-only "^linux-headers-$1\\." 2>/dev/null | headers_releases |
		newest_of_series "$1"
}

case ${1:-} in
--tested)
	env -u KVER "$0"
	"$0" 6.12
	"$top/vm/buildroot.sh" series 6.12
	"$top/vm/buildroot.sh" newest 2
	exit 0
	;;
*+deb13)
	exec "$top/vm/buildroot.sh" series "${1%+deb13}"
	;;
?*)
	rel=$(host_series "$1" || true)
	[ -n "$rel" ] || rel=$("$top/vm/buildroot.sh" series "$1") || exit 1
	printf '%s\n' "$rel"
	exit 0
	;;
esac

if [ -n "${KVER:-}" ]; then
	printf '%s\n' "$KVER"
	exit 0
fi

release_of() {	# "linux-headers-6.1.0-56-amd64 (= 6.1.192-2)" -> 6.1.0-56-amd64
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p' | head -n 1
}

rel=$(dpkg-query -W -f='${Depends}\n' linux-headers-amd64 2>/dev/null | release_of || true)
if [ -z "$rel" ]; then
	rel=$(apt-cache depends linux-headers-amd64 2>/dev/null | release_of || true)
fi
if [ -z "$rel" ]; then
	echo "kver.sh: cannot tell the Debian kernel release: linux-headers-amd64 is" \
	     "neither installed nor known to apt (run 'apt-get update'), or set KVER=" >&2
	exit 1
fi
printf '%s\n' "$rel"
