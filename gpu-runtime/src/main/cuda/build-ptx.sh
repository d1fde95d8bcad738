#!/usr/bin/env bash
# Builds every CUDA module (the .cu files here: Kernels.MODULES and KittyKernels.MODULES) into
# the PTX the backend loads from the classpath, and writes manifest.sha256 (sha256 of every
# .cu and .cuh here) that PtxManifestTest checks, so a source changed without rebuilt PTX
# fails the CPU build. Needs nvcc (CUDA 12.4+); run from anywhere:
#   gpu-runtime/src/main/cuda/build-ptx.sh
# No --use_fast_math and no -ftz: the numerics must match the CPU reference, and the Kitty
# quantizers must round exactly like the Java one.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$SRC/../resources/kittyspark/cuda"
mkdir -p "$OUT"
cd "$SRC"
MODULES=(*.cu)
for cu in "${MODULES[@]}"; do
  nvcc -arch=sm_90 -O3 -ptx -I "$SRC" "$cu" -o "$OUT/${cu%.cu}.ptx"
  # Shipped xz-compressed (the loader decompresses): PTX is text, ~10x smaller.
  xz -9 -f "$OUT/${cu%.cu}.ptx"
done
# manifest: one line per source, the modules and every header they may include: sha256  name
sha256sum ./*.cu ./*.cuh | sed 's|  \./|  |' | sort -k2 > "$OUT/manifest.sha256"
echo "built ${#MODULES[@]} PTX files into $OUT"
