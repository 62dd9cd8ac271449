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
echo "The bundled line model was trained on these very pages, so the F1 above is in-sample."
echo "Held out (train on one half of the pages, score the other; needs pip install -e '.[train]'):"
CACHE=$(ls -d /tmp/extbench/textcache/"$(basename "$DATA")"-*-inscriptis 2>/dev/null | head -1)
if [ -n "$CACHE" ] && python3 -c "import sklearn" 2>/dev/null; then
    python3 benchmarks/train_line_model.py --data "$DATA" --dumps "$CACHE" --halves | grep held-out
else
    echo "(skipped: scikit-learn or the dumps cache is missing)"
fi
echo
echo "## HTML mode (cleanpipe.strip.strip_html, default and html_fast, vs trafilatura defaults and fast=True)"
python3 benchmarks/strip_html.py --data "$DATA" --bench "$BENCH"
