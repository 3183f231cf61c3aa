#!/usr/bin/env bash
# Set up Callcue on a fresh Debian/Ubuntu machine: system packages, a virtual
# environment in .venv, and the app installed into it (editable).
#   ./setup.sh          what the app needs
#   ./setup.sh --test   and what the tests need (PulseAudio, Xvfb, a window manager, ...)
set -euo pipefail
cd "$(dirname "$0")"

APT_RUN=(python3 python3-venv python3-pip libsndfile1 libportaudio2 libjemalloc2 espeak-ng
         libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
         libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
         libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0 fonts-dejavu-core)
APT_TEST=(pulseaudio pulseaudio-utils xvfb openbox xdotool imagemagick x11-utils xcompmgr
          poppler-utils fonts-nanum binutils strace postgresql)

pkgs=("${APT_RUN[@]}")
[[ "${1:-}" == "--test" ]] && pkgs+=("${APT_TEST[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [[ "${1:-}" == "--test" ]]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
