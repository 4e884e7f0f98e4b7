#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/dkms.sh RELEASE...    (make dkms-check: every kernel that
#                                     vm/kver.sh --tested names)
#
# dkms add, build and uninstall cowstat for each kernel RELEASE (e.g.
# 6.1.0-56-amd64), from the tracked files of this checkout, in a DKMS tree
# and source tree of its own under $BUILD/dkms: nothing is installed into
# /usr/src, /var/lib/dkms or /lib/modules.  Debian 13's kernels build with
# the trixie root's dkms (vm/buildroot.sh), in a tree of their own (dkms
# links the tree to the source by absolute path).  Installs dkms and the
# headers it needs (as root).  Checks that each built module's vermagic
# names its release.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

[ $# -gt 0 ] || die "usage: tests/dkms.sh RELEASE..."
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

host=() trixie=()
for rel in "$@"; do
	if vm/buildroot.sh needed "$rel"; then trixie+=("$rel"); else host+=("$rel"); fi
done
install_missing dkms "${host[@]/#/linux-headers-}"

top=$BUILD/dkms
rm -rf "$top"
mkdir -p "$top/source/cowstat-$version"
git ls-files -z | xargs -0 cp --parents -t "$top/source/cowstat-$version"

failed=0
# build_all WHERE TREE RELEASE...: WHERE is "host" or "trixie".
build_all() {
	local where=$1 tree=$2 rel ko magic dkms
	shift 2

	mkdir -p "$top/$tree"
	if [ "$where" = host ]; then
		dkms=(dkms --sourcetree "$top/source" --dkmstree "$top/$tree")
	else
		# The same folders, as the root sees this checkout (at /src).
		dkms=(vm/buildroot.sh run dkms --sourcetree "/src/${top#"$TOP"/}/source"
		      --dkmstree "/src/${top#"$TOP"/}/$tree")
	fi
	# (readelf, run by dkms, complains about stripped objects on stderr.)
	"${dkms[@]}" add -m cowstat -v "$version" >"$top/add-$where.log" 2>&1 ||
		{ cat "$top/add-$where.log"; failed=1; return; }
	for rel in "$@"; do
		[ "$where" = host ] || vm/buildroot.sh headers "$rel"
		if ! "${dkms[@]}" build -m cowstat -v "$version" -k "$rel" \
			--kernelsourcedir "/usr/src/linux-headers-$rel" >"$top/build-$rel.log" 2>&1; then
			tail -n 20 "$top/build-$rel.log"
			echo "not ok - dkms build for $rel"
			failed=1
			continue
		fi
		ko=$(find "$top/$tree/cowstat/$version/$rel" -name 'cowstat.ko*' | head -n 1)
		magic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
		if [ "$magic" = "$rel" ]; then
			echo "ok - dkms build for $rel (vermagic $magic, $where)"
		else
			echo "not ok - dkms build for $rel: vermagic says '$magic'"
			failed=1
		fi
	done
	"${dkms[@]}" remove -m cowstat -v "$version" --all >"$top/remove-$where.log" 2>&1
}

[ ${#host[@]} -eq 0 ] || build_all host tree "${host[@]}"
[ ${#trixie[@]} -eq 0 ] || build_all trixie tree-trixie "${trixie[@]}"
exit "$failed"
