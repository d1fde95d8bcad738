#!/usr/bin/env bash
# Builds the CUDA backend's kernels (the modules of Kernels.MODULES) into the PTX that the
# backend loads from the classpath, and writes manifest.sha256 (sha256 of their sources) that
# PtxManifestTest checks, so a changed .cu without rebuilt PTX fails the CPU build. The Kitty
# page kernels have their own script and manifest: build-kitty-ptx.sh.
# Needs nvcc (CUDA 12.4+); run from anywhere:
#   gpu-runtime/src/main/cuda/build-ptx.sh
# No --use_fast_math: the numerics must match the CPU reference.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$SRC/../resources/kittyspark/cuda"
mkdir -p "$OUT"
MODULES=(attention gemm layers sampling synth kitty_step)
for name in "${MODULES[@]}"; do
  nvcc -arch=sm_90 -O3 -ptx -I "$SRC" "$SRC/$name.cu" -o "$OUT/$name.ptx"
done
# manifest: one line per source (the modules and the header they include): sha256  name
(cd "$SRC" && sha256sum "${MODULES[@]/%/.cu}" common.cuh | sort -k2) > "$OUT/manifest.sha256"
echo "built ${#MODULES[@]} PTX files into $OUT"
