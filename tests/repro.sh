#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Usage: tests/repro.sh    (make check runs it)
#
# The image must not depend on where the repository is checked out (as
# Debian's reprotest varies the build path): copy the work tree's files
# into two folders whose paths differ in length, run `make all` and
# vm/image.sh in each, and compare the two sha256 lines.  Prints "ok - ..."
# or "not ok - ..." with the files that differ, and exits non-zero then.
# Needs what vm/deps.sh installs, not the VM's kernel.
set -euo pipefail
source "$(dirname "$0")/../vm/config.sh"
cd "$TOP"

# A module built elsewhere would hide the one built here.
unset COWSTAT_KO
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "ok - image is the same built in two folders # SKIP not a git checkout"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
a=$tmp/a
b=$tmp/much/longer/path/b
mkdir -p "$a" "$b"

# The files git knows plus the new ones it does not ignore, as they are in
# the work tree (uncommitted edits count; deleted ones are skipped).  b is
# copied from a, so both build the same bytes even while someone edits.
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			printf '%s\0' "$f"
		fi
	done | xargs -0 -r cp -P --parents -t "$a"
# A build output .gitignore misses (a new program) must not come along as built.
make -s -C "$a" clean >/dev/null 2>&1 || true
cp -a "$a/." "$b/"

# build DIR: make all and the image in DIR; prints image.sh's sha256 line.
build() {
	local dir=$1 log=$1.log

	if ! make -s -C "$dir" -j"$(nproc)" all >"$log" 2>&1 ||
		! BUILD=$dir/build "$dir/vm/image.sh" >>"$log" 2>&1; then
		echo "not ok - image is the same built in two folders: the build in $dir failed" >&2
		sed 's/^/#   /' "$log" | tail -n 20 >&2
		return 1
	fi
	sed -n 's/^sha256: /sha256 /p' "$log"
}

start=$SECONDS
sum_a=$(build "$a")
sum_b=$(build "$b")
if [ "$sum_a" = "$sum_b" ]; then
	echo "ok - image is the same built in two folders ($sum_a; $((SECONDS - start)) s)"
	exit 0
fi

echo "not ok - image is the same built in two folders"
echo "#   $a: $sum_a"
echo "#   $b: $sum_b"

# Which files differ: unpack both archives and cmp them, file by file.
for side in a b; do
	dir=${!side}
	mkdir -p "$tmp/unpacked-$side"
	(cd "$tmp/unpacked-$side" &&
		gzip -dc "$dir/build/initramfs.cpio.gz" | cpio -idm --quiet --no-absolute-filenames)
done
# note FILE-IN-A FILE-IN-B: says whether a differing file holds its build path.
note() {
	if grep -qaF "$a" "$1" 2>/dev/null || grep -qaF "$b" "$2" 2>/dev/null; then
		echo " (holds the build path)"
	fi
}
while IFS= read -r f; do
	fa=$tmp/unpacked-a/$f fb=$tmp/unpacked-b/$f
	if [ ! -e "$fa" ] && [ ! -L "$fa" ]; then
		echo "#   only in $b's image: $f"
	elif [ ! -e "$fb" ] && [ ! -L "$fb" ]; then
		echo "#   only in $a's image: $f"
	elif [ -L "$fa" ] || [ -L "$fb" ]; then
		[ "$(readlink "$fa")" = "$(readlink "$fb")" ] || echo "#   differs: $f (symlink)"
	elif [ -f "$fa" ] && ! cmp -s "$fa" "$fb"; then
		echo "#   differs: $f$(note "$fa" "$fb")"
	fi
done < <( (cd "$tmp/unpacked-a" && find . -mindepth 1 -printf "%P\n"; cd "$tmp/unpacked-b" && find . -mindepth 1 -printf "%P\n") |
	LC_ALL=C sort -u)
# And which of the module's objects: they tell what the flags missed.
while IFS= read -r f; do
	cmp -s "$a/$f" "$b/$f" || echo "#   object differs: $f$(note "$a/$f" "$b/$f")"
done < <(cd "$a" && find module -name '*.o' -o -name '*.ko' | LC_ALL=C sort)
exit 1
