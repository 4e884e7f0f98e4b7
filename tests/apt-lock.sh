#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/apt-lock.sh [PACKAGE]    (make check runs it; as root)
#
# vm/config.sh's apt-get must wait for a lock that another apt or dpkg
# holds (unattended upgrades, on a user's machine) rather than fail at
# once.  A tiny C program holds the locks the way apt does (fcntl
# F_SETLK: flock(1) does not conflict with those) for a few seconds while
#  1. install_missing installs PACKAGE (default hello: 53 kB, needs only
#     libc6), removed again afterwards, under dpkg's frontend lock and lock;
#  2. apt_get update (what vm/deps.sh runs) runs under the lists lock,
#     which apt's own DPkg::Lock::Timeout does not cover.
# Each must print the waiting message, succeed, and take about as long as
# the lock was held.  Prints "ok - ..." or "not ok - ..." a case.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"

pkg=${1:-hello}
hold=8	# long enough that apt, slow to start on a loaded machine, still meets it

if [ "$(id -u)" -ne 0 ]; then
	echo "ok - apt waits for another apt's lock # SKIP needs root"
	exit 0
fi
# Removing it afterwards must not take away a package someone wanted.
if dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed'; then
	echo "ok - apt waits for another apt's lock # SKIP $pkg is installed already"
	exit 0
fi

tmp=$(mktemp -d)
holder_pid=
# shellcheck disable=SC2317	# run by the trap
cleanup() {
	if [ -n "$holder_pid" ]; then
		kill "$holder_pid" 2>/dev/null || true
	fi
	if dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed'; then
		apt_get purge -y -q "$pkg" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# holdlock SECONDS FILE...: lock each FILE as apt does (waiting its turn
# if a real apt holds one), print "locked", hold them SECONDS, exit.
cat >"$tmp/holdlock.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int i, fd;

	for (i = 2; i < argc; i++) {
		fd = open(argv[i], O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd < 0 || fcntl(fd, F_SETLKW, &fl) < 0) {
			perror(argv[i]);
			return 1;
		}
	}
	printf("locked\n");
	fflush(stdout);
	sleep(atoi(argv[1]));
	return 0;
}
EOF
gcc -O2 -Wall -Werror -o "$tmp/holdlock" "$tmp/holdlock.c"

# under_lock NAME COMMAND...: run COMMAND while holdlock holds $locks for
# $hold seconds; it must say it waits, succeed, and last till the release.
failed=0
under_lock() {
	local name=$1 start elapsed status=0 i
	shift

	rm -f "$tmp/ready"
	"$tmp/holdlock" "$hold" "${locks[@]}" >"$tmp/ready" &
	holder_pid=$!
	for ((i = 0; i < 600; i++)); do	# a real apt may hold them: a minute at most
		grep -q locked "$tmp/ready" 2>/dev/null && break
		kill -0 "$holder_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q locked "$tmp/ready" 2>/dev/null; then
		echo "not ok - $name: could not take ${locks[*]} to hold them"
		failed=1
		return
	fi
	start=$SECONDS
	("$@") >"$tmp/out" 2>&1 || status=$?
	elapsed=$((SECONDS - start))
	wait "$holder_pid" || true
	holder_pid=

	if [ "$status" -ne 0 ]; then
		echo "not ok - $name: failed (status $status) after $elapsed s"
	elif ! grep -q 'another apt or dpkg holds the lock; waiting' "$tmp/out"; then
		echo "not ok - $name: succeeded, but did not say it waited"
	elif [ "$elapsed" -lt $((hold - 1)) ]; then
		echo "not ok - $name: done after $elapsed s, before the lock's $hold s"
	else
		echo "ok - $name: waited, done after $elapsed s (lock held $hold s)"
		sed 's/^/#   /' "$tmp/out" | grep -v debconf
		return
	fi
	sed 's/^/#   /' "$tmp/out"
	failed=1
}

# shellcheck disable=SC2317	# run by under_lock
installed() {	# installed: install_missing's package is there now
	install_missing "$pkg" &&
		dpkg-query -W -f='${Status}\n' "$pkg" | grep -q '^install ok installed'
}

locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock)
under_lock "install_missing $pkg under dpkg's locks" installed

locks=(/var/lib/apt/lists/lock)
under_lock "apt-get update under the lists lock" apt_get update -q

exit "$failed"
