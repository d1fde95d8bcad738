#!/usr/bin/env bash
# Spark GPU discovery script: prints {"name":"gpu","addresses":["0","1",...]}, one address per
# GPU that nvidia-smi sees (an empty list when there is none or nvidia-smi is missing).
# Honors CUDA_VISIBLE_DEVICES when it lists plain ordinals.
set -euo pipefail
addresses=""
if command -v nvidia-smi >/dev/null 2>&1; then
  addresses=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | tr -d ' ' || true)
fi
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "${CUDA_VISIBLE_DEVICES}" =~ ^[0-9,]+$ ]]; then
  addresses=$(tr ',' '\n' <<<"$CUDA_VISIBLE_DEVICES")
fi
json=""
for a in $addresses; do
  json="${json:+$json,}\"$a\""
done
echo "{\"name\":\"gpu\",\"addresses\":[${json}]}"
