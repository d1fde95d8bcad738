#!/usr/bin/env bash
# CPU backend before vs after, side by side on this machine, in one invocation:
#
#   bench/cpu_before_after.sh [--before REV] [--rounds N] [--output FILE]
#
# "Before" (default d59065c^, the commit before the Vector API kernels) is exported with
# `git archive` into a temporary folder under /tmp (a checkout that registers nothing in the
# repository's .git) and built with its own launcher; "after" is this tree as it is. Each round
# runs the same `bench` (demo model, batch 1 and 16, prompt 128, 64 new tokens, fp16 cache) and
# the same `demo` (fresh output folder) on both trees, the order swapped every round so a busy
# machine slows them alike. Then this tree's `bench --cpu-kernels scalar,vector`. The medians
# over rounds and their ratios go to one JSON (bench/cpu_before_after.py writes it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BEFORE_REV='d59065c^'
ROUNDS=3
OUTPUT="$ROOT/docs/bench/cpu-before-after.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --before) BEFORE_REV="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --output) OUTPUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "cpu_before_after: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$ROUNDS" -ge 1 ] 2>/dev/null || { echo "cpu_before_after: --rounds must be a positive integer" >&2; exit 2; }

BEFORE_SHA="$(git -C "$ROOT" rev-parse --verify "$BEFORE_REV^{commit}")"
AFTER_SHA="$(git -C "$ROOT" rev-parse HEAD)"
AFTER_DIRTY="$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!docs/bench' | wc -l)"
WORK="$(mktemp -d /tmp/kitty-before-after.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
BEFORE="$WORK/before"
mkdir -p "$BEFORE" "$WORK/runs"
git -C "$ROOT" archive "$BEFORE_SHA" | tar -x -C "$BEFORE"

# Three untimed warm-ups per batch size: after one, the JIT is still compiling the decode path.
BENCH_ARGS=(bench --batch 1,16 --prompt-tokens 128 --new-tokens 64 --warmup 3 --kv fp16)
log() { echo "cpu_before_after: $*" >&2; }

# Both launchers build on first use; building here keeps compile time out of the timings.
log "building before ($BEFORE_SHA) in $BEFORE"
"$BEFORE/bin/kitty-spark" --help >/dev/null
log "building after ($AFTER_SHA) in $ROOT"
"$ROOT/bin/kitty-spark" --help >/dev/null

run_side() { # side round
  local side="$1" round="$2" home
  home="$([ "$side" = before ] && echo "$BEFORE" || echo "$ROOT")"
  log "round $round: $side bench"
  (cd "$WORK" && "$home/bin/kitty-spark" "${BENCH_ARGS[@]}" --output "$WORK/runs/bench-$side-$round.json" \
      > "$WORK/runs/bench-$side-$round.log" 2>&1)
  log "round $round: $side demo"
  (cd "$WORK" && "$home/bin/kitty-spark" demo --output "$WORK/demo-$side-$round" \
      > "$WORK/runs/demo-$side-$round.log" 2>&1)
  cp "$WORK/demo-$side-$round/_kitty_summary.json" "$WORK/runs/demo-$side-$round.json"
  rm -rf "$WORK/demo-$side-$round"
}

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then run_side before "$round"; run_side after "$round"
  else run_side after "$round"; run_side before "$round"; fi
done
log "after: bench --cpu-kernels scalar,vector"
(cd "$WORK" && "$ROOT/bin/kitty-spark" "${BENCH_ARGS[@]}" --cpu-kernels scalar,vector --repeat "$ROUNDS" \
    --output "$WORK/runs/kernels-after.json" > "$WORK/runs/kernels-after.log" 2>&1)

python3 "$ROOT/bench/cpu_before_after.py" --runs "$WORK/runs" --rounds "$ROUNDS" \
  --before "$BEFORE_SHA" --after "$AFTER_SHA" --after-dirty "$AFTER_DIRTY" \
  --command "bench/cpu_before_after.sh --before '$BEFORE_REV' --rounds $ROUNDS" \
  --bench-args "${BENCH_ARGS[*]}" --output "$OUTPUT"
