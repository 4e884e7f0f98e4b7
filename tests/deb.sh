#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/deb.sh    (make deb; as root for the build tools)
#
# Build the Debian packages cowstat-dkms and cowprobe with Debian's own
# tools (dpkg-buildpackage -us -uc -b, debhelper, dh-dkms) from a clean
# tree, the tracked files of this checkout, into $BUILD/deb/; then lintian
# on them: no error and no warning (those that stay are overridden in
# debian/*.lintian-overrides, each with its reason).
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

install_missing debhelper dh-dkms lintian fakeroot dpkg-dev git
version=$(cat VERSION)
out=$BUILD/deb
rm -rf "$out"
mkdir -p "$out/cowstat-$version"
git ls-files -z | xargs -0 cp --parents -t "$out/cowstat-$version"
(cd "$out/cowstat-$version" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log"; die "dpkg-buildpackage failed (see $out/build.log)"; }
rm -rf "${out:?}/cowstat-$version"
debs=("$out"/cowstat-dkms_"$version"_all.deb "$out"/cowprobe_"$version"_amd64.deb)
for deb in "${debs[@]}"; do
	[ -f "$deb" ] || die "no $deb (see $out/build.log)"
done
echo "deb: ${debs[*]}"
lintian --fail-on error,warning --info "${debs[@]}"
echo "lintian: no error, no warning"
