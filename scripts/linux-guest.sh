#!/usr/bin/env bash
# linux-guest.sh — build vmlab's Linux guest: an i386 Linux 6.1 kernel from Debian's
# linux-source-6.1 (bzImage and vmlinux) and an initramfs whose /init is guests/linux/init.c.
#
#   scripts/linux-guest.sh [OUTDIR]        (default OUTDIR: build/linux)
#   scripts/linux-guest.sh --variant scan [OUTDIR]   (default OUTDIR: build/linux-scan)
#
# --variant NAME adds scripts/linux/NAME.config to guest.config (scan.config: DWARF line info and
# CONFIG_PARAVIRT=y, for `vmlab scan`, issue 19); it is cached under the hash of both fragments,
# so the default guest's key, build and cache entry stay as they were.
#
# Writes OUTDIR/bzImage, OUTDIR/vmlinux, OUTDIR/initrd.cpio, OUTDIR/init and OUTDIR/true (the
# initramfs's two programs, guests/linux/). The kernel build is slow (measured cold on 2
# cores: about 2 minutes; the scan variant, with DWARF, about 5), so it is cached outside the clone, in
# $VMLAB_LINUX_CACHE (default ~/.cache/vmlab/linux), keyed by the source package's version and the
# hash of scripts/linux/guest.config: a second run with the same config copies the cached images.
# Nothing of Linux is ever committed. The config is tinyconfig plus scripts/linux/guest.config
# (each option there says why it is on or off); every option is checked in the final .config.
#
# Needs: linux-source-6.1, flex, bison, bc, gcc-multilib (scripts/install-deps.sh installs them).
# Concurrent runs (ctest fixtures, two clones) serialize on a lock in the cache directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
variant=
if [ "${1:-}" = --variant ]; then
  [ -n "${2:-}" ] || { echo "linux-guest: --variant needs a name (scripts/linux/NAME.config)" >&2; exit 1; }
  variant=$2; shift 2
fi
out=${1:-$here/build/linux${variant:+-$variant}}
cache=${VMLAB_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmlab/linux}
tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$here/scripts/linux/guest.config
fragments=("$fragment")

die() { echo "linux-guest: $*" >&2; exit 1; }
[ -f "$tarball" ] || die "$tarball is missing (apt-get install linux-source-6.1, or run scripts/install-deps.sh)"
if [ -n "$variant" ]; then
  [ -f "$here/scripts/linux/$variant.config" ] || die "no scripts/linux/$variant.config for --variant $variant"
  fragments+=("$here/scripts/linux/$variant.config")
fi
for t in flex bison bc make gcc; do command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh installs it)"; done

version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$tarball")
key=$( (echo "$version"; cat "${fragments[@]}") | sha256sum | cut -c1-12)
mkdir -p "$cache" "$out"
exec 9>"$cache/lock"
flock 9

src=$cache/src-$version
kbuild=$cache/build-$key
if [ ! -f "$src/.vmlab-extracted" ]; then
  echo "linux-guest: extracting $tarball into $src"
  rm -rf "$src"; mkdir -p "$src"
  tar -xJf "$tarball" -C "$src" --strip-components=1
  touch "$src/.vmlab-extracted"
fi

if [ ! -f "$kbuild/.vmlab-built" ]; then
  echo "linux-guest: building Linux $version (config $key) in $kbuild; log $kbuild.log"
  rm -rf "$kbuild"; mkdir -p "$kbuild"
  mk() { make -C "$src" O="$kbuild" ARCH=i386 "$@" >> "$kbuild.log" 2>&1 || { tail -30 "$kbuild.log"; die "make $* failed (log $kbuild.log)"; }; }
  : > "$kbuild.log"
  mk tinyconfig
  args=()
  while read -r line; do
    line=${line%%#*}; line=$(echo "$line" | tr -d ' ')
    [ -n "$line" ] || continue
    name=${line%%=*}; val=${line#*=}; name=${name#CONFIG_}
    case $val in y) args+=(--enable "$name");; n) args+=(--disable "$name");; *) die "bad line in ${fragments[*]}: $line";; esac
  done < <(cat "${fragments[@]}")
  "$src/scripts/config" --file "$kbuild/.config" "${args[@]}"
  mk olddefconfig
  while read -r line; do
    line=${line%%#*}; line=$(echo "$line" | tr -d ' ')
    [ -n "$line" ] || continue
    name=${line%%=*}; val=${line#*=}
    if [ "$val" = y ]; then grep -qx "$name=y" "$kbuild/.config" || die "$name=y did not survive olddefconfig (a dependency is off)"
    else ! grep -q "^$name=" "$kbuild/.config" || die "$name is still set after olddefconfig"; fi
  done < <(cat "${fragments[@]}")
  mk -j"$(nproc)" bzImage
  touch "$kbuild/.vmlab-built"
fi
cp "$kbuild/arch/x86/boot/bzImage" "$out/bzImage"
cp "$kbuild/vmlinux" "$out/vmlinux"

# --- the initramfs: /init (static i386), /true (execproc's child), /dev/console ------------------
gcc -m32 -static -O2 -Wall -Wextra -o "$out/init" "$here/guests/linux/init.c"
gcc -m32 -static -nostdlib -O2 -Wall -Wextra -o "$out/true" "$here/guests/linux/true.c"
gcc -O2 -o "$out/gen_init_cpio" "$src/usr/gen_init_cpio.c"
cat > "$out/initrd.list" <<LIST
dir /dev 755 0 0
nod /dev/console 600 0 0 c 5 1
file /init $out/init 755 0 0
file /true $out/true 755 0 0
LIST
"$out/gen_init_cpio" "$out/initrd.list" > "$out/initrd.cpio"
echo "linux-guest: $out/bzImage $out/vmlinux $out/initrd.cpio (Linux $version, config $key)"
