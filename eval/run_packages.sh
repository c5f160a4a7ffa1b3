#!/usr/bin/env bash
# The function-level evaluation on published packages: one generated doc-to-code spec per package of
# eval/packages.tsv (fetched with eval/fetch_packages.sh), evaluated in one run of `sg eval`, which prints
# MRR@10, P@1 and Recall@10 per language and mode, the bm25-functions reference row included.
#
#     eval/fetch_packages.sh DATA_DIR
#     eval/run_packages.sh DATA_DIR [--max-queries N] [--only NAME,...] [-- SG_EVAL_ARGS...]
#
# --max-queries: most queries per package (default 150). --only: these packages. Arguments after `--` go to
# `sg eval` (e.g. `--mode lexical --no-embed`, `--verbose`). The sg binary is $SG, else `sg` on the PATH.
# Specs go to DATA_DIR/specs/NAME/, the report to DATA_DIR/report.json (and the text table to stdout);
# indexes and embeddings to DATA_DIR/index and DATA_DIR/cache unless SG_INDEX_DIR / SG_CACHE_DIR say otherwise.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
manifest="$here/packages.tsv"
sg="${SG:-sg}"
max=150
only=""
data=""
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --max-queries) max="$2"; shift ;;
        --only) only=",$2,"; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) data="$1" ;;
    esac
    shift
done
[ -n "$data" ] || { echo "usage: $0 DATA_DIR [--max-queries N] [--only NAME,...] [-- SG_EVAL_ARGS...]" >&2; exit 2; }
data="$(cd "$data" && pwd)"
export SG_INDEX_DIR="${SG_INDEX_DIR:-$data/index}"
export SG_CACHE_DIR="${SG_CACHE_DIR:-$data/cache}"

specs=()
while IFS=$'\t' read -r lang name pkg ver source sha sub licence; do
    case "$lang" in ''|'#'*) continue ;; esac
    if [ -n "$only" ] && [[ "$only" != *",$name,"* ]]; then
        continue
    fi
    src="$data/src/$name"
    [ -d "$src" ] || { echo "$name: not fetched (run eval/fetch_packages.sh $data)" >&2; exit 1; }
    out="$data/specs/$name"
    rm -rf "$out"
    mkdir -p "$out"
    "$sg" eval --generate "$src" --generate-out "$out" --max-queries "$max" 2>&1 | sed "s/^/$name: /" >&2
    specs+=(--spec "$out/spec.json")
done < "$manifest"
[ "${#specs[@]}" -gt 0 ] || { echo "no package selected" >&2; exit 1; }
"$sg" eval "${specs[@]}" --out "$data/report.json" "${extra[@]}"
