#!/usr/bin/env bash
# install-deps.sh — make a fresh Debian 12 (or newer) machine able to build and test vmlab.
#
# What it does, in order:
#   1. installs the Debian packages vmlab builds and tests with (compiler with -m32 support, CMake,
#      Capstone, libyaml, SQLite, elfutils libelf/libdw (`vmlab scan`), Criterion, gnuplot, QEMU for the cross-check tests, Python 3 for
#      the checker in tests/integration/timer_exact.sh; Debian's linux-source-6.1 with flex, bison and bc
#      for the Linux guest that scripts/linux-guest.sh builds; groff and man-db for the man page
#      that tests/integration/install_docs.sh renders);
#   2. makes sure Unicorn >= 2.1 is present. Where the system's own libunicorn-dev is >= 2.1 (Debian
#      13 and later) it is installed from the system's sources. On Debian 12, which ships only 2.0.1
#      (no address translation, see emu/UNICORN.md), Debian 13's libunicorn2t64 and
#      libunicorn-dev 2.1.1 are fetched with `apt-get download` through a project-local apt
#      configuration (.deps/apt/, never the system's sources.list) and installed with dpkg.
#
#   3. with VMLAB_FUZZ=1 in the environment only: clang, LLVM's tools (llvm-symbolizer for readable
#      sanitizer stacks) and clang's runtime libraries (libclang-rt-N-dev: libFuzzer, ASan), for the
#      -DVMLAB_FUZZ=ON build (README.md, "Fuzzing"). The -DVMLAB_SANITIZE=ON build needs nothing
#      more: gcc brings libasan and libubsan.
#
# It is idempotent: run it again and it only checks. Needs root (or sudo) for apt-get and dpkg.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

pkgs=(build-essential gcc-multilib cmake pkg-config libcapstone-dev libyaml-dev libsqlite3-dev
      libelf-dev libdw-dev
      sqlite3 libcriterion-dev gnuplot-nox qemu-system-x86 dpkg-dev python3
      linux-source-6.1 flex bison bc xz-utils groff-base man-db)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- clang and libFuzzer, only for the fuzz build (VMLAB_FUZZ=1) ------------------------------
if [ "${VMLAB_FUZZ:-0}" = 1 ]; then
  if ! command -v clang >/dev/null || ! command -v llvm-symbolizer >/dev/null; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang llvm
  fi
  # clang only recommends its runtime; libFuzzer is in it (Debian 12: libclang-rt-14-dev).
  rt="libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
  if ! dpkg-query -W -f='${Status}' "$rt" 2>/dev/null | grep -q 'install ok installed'; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$rt"
  fi
  echo "install-deps: $(clang --version | head -n 1) with $rt (libFuzzer)"
fi

# --- Unicorn >= 2.1 ---------------------------------------------------------------------------
unicorn_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' libunicorn-dev 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 2.1
}
if unicorn_ok; then
  echo "install-deps: unicorn $(dpkg-query -W -f='${Version}' libunicorn-dev) present"
  exit 0
fi

# The system's own package, if it is new enough (Debian 13+, Ubuntu 24.10+).
cand=$(apt-cache policy libunicorn-dev 2>/dev/null | awk '/Candidate:/ {print $2}')
if [ -n "$cand" ] && [ "$cand" != "(none)" ] && dpkg --compare-versions "$cand" ge 2.1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libunicorn-dev
  exit 0
fi

# Debian 12: fetch Debian 13's build through a private apt configuration.
apt_dir="$here/.deps/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$apt_dir/etc/sources.list.d" "$apt_dir/etc/preferences.d"
cat > "$apt_dir/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
SRC
if [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  echo "install-deps: /usr/share/keyrings/debian-archive-keyring.gpg missing (apt-get install debian-archive-keyring)" >&2
  exit 1
fi
apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list"
          -o "Dir::Etc::sourceparts=$apt_dir/etc/sources.list.d"
          -o "Dir::Etc::preferencesparts=$apt_dir/etc/preferences.d"
          -o "Dir::State::Lists=$apt_dir/lists"
          -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::State::status=/var/lib/dpkg/status"
          -o "APT::Architecture=amd64"
          -o "Debug::NoLocking=1")
echo "install-deps: fetching Unicorn 2.1 from Debian 13 (project-local apt config in .deps/apt)"
apt-get "${apt_opts[@]}" update -qq
( cd "$apt_dir/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download libunicorn2t64 libunicorn-dev )
$SUDO dpkg -i "$apt_dir"/debs/*.deb
unicorn_ok || { echo "install-deps: Unicorn >= 2.1 could not be installed" >&2; exit 1; }
echo "install-deps: unicorn $(dpkg-query -W -f='${Version}' libunicorn-dev) installed"
