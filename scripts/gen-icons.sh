#!/usr/bin/env bash
# Regenerates the application icons of the Linux packages from the one source image, icons/icon.png
# (128×128), at the hicolor sizes up to the source's own: packaging/linux/icons/<N>x<N>/dev.ssetray.app.png.
# The PNGs are committed, so building a package needs no image tool; run this (needs ImageMagick's
# `convert`) after changing icons/icon.png. Sizes above 128 are left out rather than upscaled.
set -euo pipefail
cd "$(dirname "$0")/.."

src=icons/icon.png
out=packaging/linux/icons
for size in 16 22 24 32 48 64 128; do
  mkdir -p "$out/${size}x${size}"
  # -strip drops timestamps and other chunks, so regenerating unchanged icons changes no bytes.
  convert "$src" -filter Lanczos -resize "${size}x${size}" -strip \
    "PNG32:$out/${size}x${size}/dev.ssetray.app.png"
done
echo "icons written to $out" >&2
