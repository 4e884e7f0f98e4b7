# SPDX-License-Identifier: GPL-2.0-only
# Settings shared by the vm/ scripts; sourced, never run.  Every value can
# be overridden from the environment (or on the make command line).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}

# The guest: TCG by default (works everywhere), ACCEL=kvm to opt in.
ACCEL=${ACCEL:-tcg}
VM_MEM=${VM_MEM:-1024}		# MiB; THP needs 512 or more
VM_SMP=${VM_SMP:-2}
VM_TIMEOUT=${VM_TIMEOUT:-300}	# seconds before the host kills the guest

die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Install the Debian packages named that dpkg does not have yet (as root),
# or stop with the apt-get command that would (as anyone else).
install_missing() {	# install_missing PACKAGE...
	local pkg cmd missing=()

	for pkg in "$@"; do
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	cmd="apt-get install -y --no-install-recommends ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "missing packages; run: sudo $cmd"
	echo "${0##*/}: $cmd"
	DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
}

# The Debian kernel release the module is built for and the VM boots.
kver() {
	if [ -z "${KVER:-}" ]; then
		KVER=$("$TOP/vm/kver.sh") || exit 1
	fi
	printf '%s\n' "$KVER"
}
