#!/usr/bin/env bash
# Source-level profile of the i8 Kitty attention kernel on the GPU machine (batch 64 x 8K, the
# planned splits, one launch): ncu's source counters (executions and warp-stall samples per SASS
# instruction) and the SASS with the CUDA line of each instruction, from a -lineinfo build of
# the shipped sources. Needs nvcc, nvdisasm, ncu and cupy:
#
#   gpu-runtime/src/test/cuda/profile_i8_source.sh OUTDIR
#
# Writes OUTDIR/i8-details.txt (the sections), i8-source.csv (per instruction), i8-lines.sass
# (nvdisasm -g) and, when the two agree on addresses, i8-by-line.txt (executions and stall
# samples summed per CUDA line, largest first).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/../../main/cuda"
OUT="${1:?usage: profile_i8_source.sh OUTDIR}"
mkdir -p "$OUT/ptx"
OUT="$(cd "$OUT" && pwd)"
NCU="$(command -v ncu || echo /usr/local/cuda/bin/ncu)"
NVDISASM="$(command -v nvdisasm || echo /usr/local/cuda/bin/nvdisasm)"
set -e
nvcc -arch=sm_90 -O3 -ptx -lineinfo -I "$SRC" "$SRC/kitty_attention.cu" -o "$OUT/ptx/kitty_attention.ptx"
nvcc -arch=sm_90 -O3 -ptx -I "$SRC" "$SRC/kitty_quantize.cu" -o "$OUT/ptx/kitty_quantize.ptx"
nvcc -arch=sm_90 -O3 -cubin -lineinfo -I "$SRC" "$SRC/kitty_attention.cu" -o "$OUT/kitty_attention.cubin"
"$NVDISASM" -g -c "$OUT/kitty_attention.cubin" > "$OUT/all-lines.sass"
set +e
"$NCU" --kernel-name regex:kitty_attention_i8 --launch-count 1 --import-source yes \
  --section SourceCounters --section WarpStateStats --section SchedulerStats --section SpeedOfLight \
  --section LaunchStats --section Occupancy --section InstructionStats -f -o "$OUT/i8" \
  python3 "$HERE/kitty_pages_device_test.py" --profile --ptx-dir "$OUT/ptx"
"$NCU" -i "$OUT/i8.ncu-rep" --page details > "$OUT/i8-details.txt"
"$NCU" -i "$OUT/i8.ncu-rep" --page source --csv --print-source sass > "$OUT/i8-source.csv" 2> "$OUT/i8-source.err" \
  || "$NCU" -i "$OUT/i8.ncu-rep" --page source --csv > "$OUT/i8-source.csv" 2>> "$OUT/i8-source.err"
"$NCU" -i "$OUT/i8.ncu-rep" --page source --csv --print-source cuda,sass > "$OUT/i8-source-cuda.csv" 2>> "$OUT/i8-source.err"
python3 "$HERE/profile_by_line.py" "$OUT/i8-source.csv" "$OUT/all-lines.sass" kitty_attention_i8_d128_g4 > "$OUT/i8-by-line.txt" 2>&1
echo "profile_i8_source: outputs in $OUT"
