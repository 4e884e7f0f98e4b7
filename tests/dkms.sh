#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/dkms.sh RELEASE...    (make dkms-check; CI runs it for both
#                                     of Debian 12's kernels)
#
# dkms add, build and uninstall cowstat for each kernel RELEASE (e.g.
# 6.1.0-56-amd64), from the tracked files of this checkout, in a DKMS tree
# and source tree of its own under $BUILD/dkms: nothing is installed into
# /usr/src, /var/lib/dkms or /lib/modules.  Installs dkms and the headers
# it needs (as root).  Checks that each built module's vermagic names its
# release.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

[ $# -gt 0 ] || die "usage: tests/dkms.sh RELEASE..."
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

install_missing dkms "${@/#/linux-headers-}"

top=$BUILD/dkms
rm -rf "$top"
mkdir -p "$top/source/cowstat-$version" "$top/tree"
git ls-files -z | xargs -0 cp --parents -t "$top/source/cowstat-$version"
dkms=(dkms --sourcetree "$top/source" --dkmstree "$top/tree")

# (readelf, run by dkms, complains about stripped objects on stderr.)
"${dkms[@]}" add -m cowstat -v "$version" >"$top/add.log" 2>&1 || { cat "$top/add.log"; exit 1; }
failed=0
for rel in "$@"; do
	if ! "${dkms[@]}" build -m cowstat -v "$version" -k "$rel" \
		--kernelsourcedir "/usr/src/linux-headers-$rel" >"$top/build-$rel.log" 2>&1; then
		tail -n 20 "$top/build-$rel.log"
		echo "not ok - dkms build for $rel"
		failed=1
		continue
	fi
	ko=$(find "$top/tree/cowstat/$version/$rel" -name 'cowstat.ko*' | head -n 1)
	magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	if [ "$magic" = "$rel" ]; then
		echo "ok - dkms build for $rel (vermagic $magic)"
	else
		echo "not ok - dkms build for $rel: vermagic says '$magic'"
		failed=1
	fi
done
"${dkms[@]}" remove -m cowstat -v "$version" --all >"$top/remove.log" 2>&1
exit "$failed"
