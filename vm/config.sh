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

# The Debian kernel release the module is built for and the VM boots.
kver() {
	if [ -z "${KVER:-}" ]; then
		KVER=$("$TOP/vm/kver.sh") || exit 1
	fi
	printf '%s\n' "$KVER"
}
