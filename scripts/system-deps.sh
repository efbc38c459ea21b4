#!/usr/bin/env bash
# Install the Debian/Ubuntu packages cpmlab's screens and tests need, where we can.
# Prints what is missing (and how to get it) where we cannot; never fails the build by itself.
set -u
PKGS=(xvfb xauth xdotool libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
      libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0
      libgl1 libegl1 libgl1-mesa-dri libglu1-mesa libportaudio2 libusb-1.0-0 libasound2
      libsndfile1 fonts-dejavu-core)
command -v dpkg >/dev/null 2>&1 || { echo "system-deps: not a Debian/Ubuntu system; install Xvfb and the Qt/OpenGL libraries by hand"; exit 0; }
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "system-deps: missing ${missing[*]}"
    echo "system-deps: run: sudo apt-get install -y ${missing[*]}"
    exit 0
  fi
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  # Install one by one so one unavailable name does not block the rest.
  for p in "${missing[@]}"; do
    $SUDO apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 || echo "system-deps: could not install $p"
  done
fi
exit 0
