#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Inside the VM, as root, with cowstat.ko loaded: run the test suite (or,
# with ONLY=A,B from cowstat.only= on the kernel command line, those cases).
# Its KTAP goes to stdout; the exit status is 0 when every case passed.
cd /tmp || exit 1
# shellcheck disable=SC2086
exec /tests/cowstat_test "$@" $(echo "${ONLY:-}" | tr ',' ' ')
