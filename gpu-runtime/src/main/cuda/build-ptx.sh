#!/usr/bin/env bash
# Builds the CUDA kernels into the PTX that the CUDA backend loads from the classpath, and
# writes the manifest (sha256 of every source) that PtxManifestTest checks, so a changed .cu
# without rebuilt PTX fails the CPU build. Needs nvcc (CUDA 12.4+); run from anywhere:
#   gpu-runtime/src/main/cuda/build-ptx.sh
# No --use_fast_math: the numerics must match the CPU reference.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$SRC/../resources/kittyspark/cuda"
mkdir -p "$OUT"
for cu in "$SRC"/*.cu; do
  name="$(basename "$cu" .cu)"
  nvcc -arch=sm_90 -O3 -ptx -I "$SRC" "$cu" -o "$OUT/$name.ptx"
done
# manifest: one line per source (the .cu and the headers they include): sha256  name
(cd "$SRC" && sha256sum *.cu *.cuh | sort -k2) > "$OUT/manifest.sha256"
echo "built $(ls "$OUT"/*.ptx | wc -l) PTX files into $OUT"
