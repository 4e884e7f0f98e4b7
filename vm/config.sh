# SPDX-License-Identifier: GPL-2.0-only
# Settings shared by the vm/ scripts; sourced, never run.  Every value can
# be overridden from the environment (or on the make command line).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}

# The image: small (BusyBox, the module, cowprobe and the tests) or full
# (the same with Debian's redis and python3, vm/full.sh).
IMAGE=${IMAGE:-small}
case $IMAGE in
small) INITRAMFS=$BUILD/initramfs.cpio.gz ;;
full) INITRAMFS=$BUILD/initramfs-full.cpio.gz ;;
*) printf 'IMAGE=%s: the images are small and full\n' "$IMAGE" >&2; exit 1 ;;
esac

# The guest: TCG by default (works everywhere), ACCEL=kvm to opt in.
ACCEL=${ACCEL:-tcg}
VM_MEM=${VM_MEM:-1024}		# MiB; THP needs 512 or more
VM_SMP=${VM_SMP:-2}
VM_TIMEOUT=${VM_TIMEOUT:-300}	# seconds before the host kills the guest
# Seconds apt-get waits for another apt or dpkg (unattended upgrades, say).
APT_LOCK_WAIT=${APT_LOCK_WAIT:-300}

die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# A host-side check, KTAP-like: "ok - NAME", or the non-empty DIAGNOSTICs
# as "# " lines and "not ok - NAME"; counted in $passed and $failed.
passed=0 failed=0
result() {	# result OK NAME [DIAGNOSTIC...]
	local ok=$1 name=$2 line

	shift 2
	if [ "$ok" -eq 1 ]; then
		echo "ok - $name"
		passed=$((passed + 1))
		return
	fi
	for line in "$@"; do
		[ -z "$line" ] || printf '# %s\n' "$line"
	done
	echo "not ok - $name"
	failed=$((failed + 1))
}

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
	apt_get install -y --no-install-recommends "${missing[@]}"
}

# apt-get ARG..., its output dropped (not its errors), waiting up to
# APT_LOCK_WAIT seconds for a lock another apt or dpkg holds instead of
# failing at once.  apt's DPkg::Lock::Timeout covers dpkg's locks only:
# apt 2.6 gives up at once on the lists lock (apt-get update) and the
# archives lock, so those failures are retried here.
apt_get() {
	local deadline=$((SECONDS + APT_LOCK_WAIT)) dir status
	# apt-get's status, not its reader's, whether the caller sets pipefail or not.
	local -
	set -o pipefail

	dir=$(mktemp -d)
	while :; do
		status=0
		# C: the lock messages are matched.
		LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get \
			-o DPkg::Lock::Timeout=$((deadline > SECONDS ? deadline - SECONDS : 0)) \
			"$@" 2>"$dir/err" | apt_lock_note "$dir/said" "$deadline" || status=$?
		if [ "$status" -ne 0 ] && [ "$SECONDS" -lt "$deadline" ] &&
			grep -q 'Could not get lock' "$dir/err"; then
			apt_lock_note "$dir/said" "$deadline" <"$dir/err"
			sleep 2
			continue
		fi
		cat "$dir/err" >&2
		rm -rf "$dir"
		return "$status"
	done
}

# Reads apt-get's output: on its first "Could not get lock" (FLAG names
# a file that marks it said), says who holds which lock and how long this
# waits.
apt_lock_note() {	# apt_lock_note FLAG DEADLINE
	local line what

	while IFS= read -r line; do
		case $line in
		*"Could not get lock "*)
			[ ! -e "$1" ] || continue
			: >"$1"
			# "/var/lib/dpkg/lock-frontend. It is held by process 7294 (apt-get)..."
			what=${line#*Could not get lock }
			what=${what%...}
			echo "${0##*/}: another apt or dpkg holds the lock; waiting up to" \
				"$(($2 - SECONDS)) s: ${what/. It is held by/, held by}"
			;;
		esac
	done
}

# Debian's plain -amd64 kernel releases (not -rt or -cloud) named in
# "apt-cache search linux-headers-..." lines on stdin, oldest first.
headers_releases() {
	sed -n 's/^linux-headers-\([0-9][^ ]*+deb[0-9]*-amd64\) .*/\1/p' | sort -V
}

# The newest release of SERIES (6.12) among releases on stdin; fails if none.
newest_of_series() {	# newest_of_series SERIES
	grep -E "^${1//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64\$" | tail -n 1 | grep .
}

# The Debian kernel release the module is built for and the VM boots.
kver() {
	if [ -z "${KVER:-}" ]; then
		KVER=$("$TOP/vm/kver.sh") || exit 1
	fi
	printf '%s\n' "$KVER"
}
