#!/usr/bin/env bash
# Throughput of two checkouts side by side: `benchmarks/pipeline.py` in each, one after
# the other, interleaved, for ROUNDS rounds (drift on a shared machine hits both alike).
# Prints one JSON line per run, prefixed with the checkout's folder.
#
#   benchmarks/compare_checkouts.sh OLD_CHECKOUT NEW_CHECKOUT [ROUNDS] [PRODUCTS]
#
# Both run with this checkout's virtual environment (.venv), each on its own code.
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd)
rounds=${3:-3}; products=${4:-50}
python=$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python
for _ in $(seq "$rounds"); do
  for dir in "$old" "$new"; do
    line=$(cd "$dir" && PYTHONPATH="$dir" "$python" benchmarks/pipeline.py \
             --products "$products" --repeats 1 --json 2>/dev/null | tail -1)
    echo "$dir $line"
  done
done
