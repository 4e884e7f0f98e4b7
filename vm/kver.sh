#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the Debian kernel release (e.g. 6.1.0-56-amd64) that cowstat builds
# against and boots: $KVER if set, else the one Debian's linux-headers-amd64
# metapackage points to (installed, or else the archive's candidate).
set -euo pipefail

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
