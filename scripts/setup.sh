#!/usr/bin/env bash
# Installs the Debian packages slashscope builds and tests with (Debian 12).
# Idempotent: does nothing when everything is already there.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopenblas-openmp-dev liblapacke-dev libcjson-dev libpcre2-dev libutf8proc-dev
  libpng-dev nettle-dev
  libxxhash-dev              # xxhash.h (compiled inline, not linked): the weights' fingerprint (src/model/fingerprint.c)
  clang libclang-rt-14-dev   # libFuzzer and the sanitizers' runtime
  python3                    # fuzz/run.sh makes its tiny seed files with it
  python3-numpy python3-pytest python3-setuptools python3-pip   # the Python package and its tests
  libopenmpi-dev openmpi-bin # optional MPI build (scan/rank/freq over ranks) and its tests
  chromium python3-html5lib  # the HTML report: opened in a real browser, validated
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
