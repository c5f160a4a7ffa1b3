#!/usr/bin/env bash
# Measures sg on the public code-search benchmark and regenerates docs/benchmarks.md.
#
# Usage: eval/run_benchmarks.sh CORPUS_DIR [WORK_DIR]
#   CORPUS_DIR  the benchmark's repositories, materialized with ../shared/bench/semble/materialize.py
#   WORK_DIR    where indexes, caches and raw results go (default: a temporary folder)
#   SG_BENCH_INDEX (env) reuse this index base for the quality run (an earlier run's embeddings, with the
#               embedding cache the caller's SG_CACHE_DIR names); the speed run always starts from an empty
#               index and an empty embedding cache of its own
#
# Quality: `sg eval` over the 18 repositories in hybrid, lexical and semantic modes (NDCG@10 checked by the
# benchmark's own score.py), then hybrid again with simulated editor context (`--context all`). Speed, on tokio: cold index (lexical-searchable and fully embedded), warm
# re-index, `sg search --batch` latency, peak memory; then `sg lsp` latency through a real LSP client
# (sg/search, workspace/symbol, edit to searchable).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
corpus=$(cd "$1" && pwd)
work=${2:-$(mktemp -d)}
bench="$here/../shared/bench/semble"
mkdir -p "$work"
cd "$here"
cargo build --release
sg="$here/target/release/sg"

echo "== quality (18 repositories, all modes)" >&2
SG_INDEX_DIR="${SG_BENCH_INDEX:-$work/quality}" "$sg" eval --semble "$bench" --corpus "$corpus" --mode all \
  --results "$work/results" --out "$work/report.json" >&2
for m in hybrid lexical semantic; do
  echo "score.py $m: $(python3 "$bench/score.py" "$work/results.$m.jsonl" | tail -1)" >&2
done
echo "== editor context (hybrid; no context, a related current file, an unrelated one)" >&2
SG_INDEX_DIR="${SG_BENCH_INDEX:-$work/quality}" "$sg" eval --semble "$bench" --corpus "$corpus" --mode hybrid \
  --context all --out "$work/context.json" >&2

echo "== speed (tokio)" >&2
tokio="$corpus/tokio/tokio/src"
# Cold means an empty index and an empty embedding cache of its own, whatever the caller's cache holds.
rm -rf "$work/speed" "$work/speed-cache"
export SG_CACHE_DIR="$work/speed-cache"
/usr/bin/time -v -o "$work/cold.time" env SG_INDEX_DIR="$work/speed" "$sg" index --json "$tokio" > "$work/cold.json"
env SG_INDEX_DIR="$work/speed" "$sg" index --json "$tokio" > "$work/warm.json"
python3 - "$bench/annotations" > "$work/queries.jsonl" <<'PY'
import json, os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    for q in json.load(open(os.path.join(d, name))):
        print(json.dumps({"query": q["query"], "limit": 10}))
PY
for run in 1 2 3; do
  env SG_INDEX_DIR="$work/speed" "$sg" search --root "$tokio" --no-update --batch "$work/queries.jsonl" > "$work/batch$run.jsonl"
done

python3 - "$work" "$tokio" > "$work/speed.json" <<'PY'
import json, os, platform, re, statistics, subprocess, sys
work, tokio = sys.argv[1], sys.argv[2]
cold = json.load(open(os.path.join(work, "cold.json")))
warm = json.load(open(os.path.join(work, "warm.json")))
timef = open(os.path.join(work, "cold.time")).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timef).group(1))
lat = []
for run in (1, 2, 3):
    lat.append(sorted(json.loads(l)["elapsed_ms"] for l in open(os.path.join(work, f"batch{run}.jsonl"))))
def pct(v, p):
    return v[max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))]
p50 = statistics.median(pct(v, 50) for v in lat)
p99 = statistics.median(pct(v, 99) for v in lat)
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
print(json.dumps({
    "machine": {"CPU": f"{cpu}, {os.cpu_count()} cores", "memory": f"{mem:.0f} GiB", "OS": platform.platform()},
    "speed_intro": f"tokio (`tokio/src`: {cold['index']['files']} files, {cold['index']['chunks']} chunks), release build, one run each "
                   "for indexing (cold = empty index and empty embedding cache); search latency = median over 3 runs of "
                   "the per-query p50/p99 of `sg search --batch` over the benchmark's 338 queries (hybrid, warm).",
    "speed": {
        "cold index: lexical-searchable (scan)": f"{cold['scan_ms'] / 1000:.2f} s",
        "cold index: fully embedded": f"{(cold['scan_ms'] + cold['embed_ms']) / 1000:.1f} s ({cold['chunks_embedded']} chunks, {cold['chunks_embedded'] / max(cold['embed_ms'], 1) * 1000:.1f} chunks/s)",
        "cold index: whole `sg index` run": f"{cold['elapsed_ms'] / 1000:.1f} s",
        "warm re-index of the unchanged tree": f"{warm['elapsed_ms']:.0f} ms (changed {warm['files_changed']}, embedded {warm['chunks_embedded']})",
        "search p50 (hybrid, batch)": f"{p50:.2f} ms",
        "search p99 (hybrid, batch)": f"{p99:.2f} ms",
        "peak RSS of the cold index": f"{rss_kb / 1024:.0f} MB",
    },
    "command": "bash eval/run_benchmarks.sh CORPUS_DIR   # CORPUS_DIR made by ../shared/bench/semble/materialize.py",
}, indent=1))
PY
echo "== language server latency (tokio)" >&2
python3 - "$bench/annotations" > "$work/nl_queries.jsonl" <<'PY'
import json, os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    for q in json.load(open(os.path.join(d, name))):
        if " " in q["query"]:
            print(json.dumps({"query": q["query"]}))
PY
pip install -q -r tests/lsp/requirements.txt >&2
python3 tests/lsp/bench_lsp.py "$sg" "$tokio" --index-dir "$work/speed" --queries 300 --edits 5 \
  --query-file "$work/nl_queries.jsonl" > "$work/lsp.txt"

python3 eval/bench_report.py "$work/report.json" "$work/speed.json" "$bench/published.tsv" "$work/lsp.txt" \
  "$work/context.json" > docs/benchmarks.md
echo "wrote docs/benchmarks.md (raw results in $work)" >&2
