#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: vm/kver.sh [SERIES]
#
# Print the Debian kernel release (e.g. 6.1.0-56-amd64) that cowstat builds
# against and boots: $KVER if set, else the one Debian's linux-headers-amd64
# metapackage points to (installed, or else the archive's candidate).  With
# SERIES (e.g. 6.12): the newest linux-headers-SERIES.*-amd64 apt knows,
# such as Debian 12's 6.12.117+deb12-amd64.
set -euo pipefail

if [ -n "${1:-}" ]; then
	# The plain -amd64 flavour, not -rt-amd64 or -cloud-amd64.
	rel=$(apt-cache search --names-only "^linux-headers-$1\\." 2>/dev/null |
		sed -n 's/^linux-headers-\([^ ]*\) .*/\1/p' |
		grep -E "^${1//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$" | sort -V | tail -n 1)
	[ -n "$rel" ] || { echo "kver.sh: apt knows no linux-headers-$1.*-amd64" >&2; exit 1; }
	printf '%s\n' "$rel"
	exit 0
fi

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
