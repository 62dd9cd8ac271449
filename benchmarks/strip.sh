#!/usr/bin/env bash
# The strip stage on the extraction dev set, both modes (see ../shared/bench/extraction/README.md).
#   benchmarks/strip.sh [DATA]     DATA defaults to /tmp/extbench/data/scrapinghub
# Needs the harness's requirements installed in the running Python (it converts HTML to text dumps).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-/tmp/extbench/data/scrapinghub}
BENCH=../shared/bench/extraction
echo "## text mode (inscriptis dumps -> cleanpipe.strip.strip_text, in-process)"
python3 "$BENCH/run_text.py" --data "$DATA" --baselines identity,lines \
    --py cleanpipe.strip:strip_text --py-path "$PWD" --label cleanpipe-text | sed -n '/^| system/,$p'
echo
echo "## HTML mode (cleanpipe.strip.strip_html vs trafilatura defaults)"
python3 benchmarks/strip_html.py --data "$DATA" --bench "$BENCH"
