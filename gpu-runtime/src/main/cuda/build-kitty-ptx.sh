#!/usr/bin/env bash
# Builds the Kitty page kernels (kitty_pages.cu) into the PTX the CUDA backend loads from the
# classpath, and writes kitty_pages.sha256 (sha256 of the sources) that KittyPtxManifestTest
# checks, so a changed .cu / .cuh without rebuilt PTX fails the CPU build. Needs nvcc 12.4+:
#   gpu-runtime/src/main/cuda/build-kitty-ptx.sh
# Same flags as build-ptx.sh (which may absorb this script). No --use_fast_math and no -ftz:
# the quantizers must round exactly like the Java reference.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$SRC/../resources/kittyspark/cuda"
mkdir -p "$OUT"
nvcc -arch=sm_90 -O3 -ptx -I "$SRC" "$SRC/kitty_pages.cu" -o "$OUT/kitty_pages.ptx"
(cd "$SRC" && sha256sum kitty_pages.cu kitty_pages.cuh) > "$OUT/kitty_pages.sha256"
echo "built $OUT/kitty_pages.ptx"
