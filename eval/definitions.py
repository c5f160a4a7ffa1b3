#!/usr/bin/env python3
"""Definition lookup on the public benchmark's symbol queries: does `sg def NAME` put a file the benchmark
judges relevant first? (Targets are relative to the repository; results to the indexed root below it.)

For every query of category `symbol` in ../shared/bench/semble/annotations/<repo>.json (a bare name such as
`Router` or `Sinatra::Base`), runs `sg def NAME --json --no-update --root <corpus>/<repo>/<benchmark_root>`
on an existing index (build it first, e.g. with `sg eval --semble`), and counts the queries whose first
definition's file is among the query's `relevant` files (Acc@1), and among its first three definitions
(Acc@3). A name with no definition counts as a miss.

Usage: definitions.py --sg SG --corpus CORPUS [--bench ../shared/bench/semble] [--markdown FILE]
(the index location comes from SG_INDEX_DIR, as for sg itself).
"""
import argparse
import json
import pathlib
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sg", required=True)
    ap.add_argument("--corpus", required=True, type=pathlib.Path)
    ap.add_argument("--bench", default="../shared/bench/semble", type=pathlib.Path)
    ap.add_argument("--markdown")
    a = ap.parse_args()
    repos = {r["name"]: r for r in json.loads((a.bench / "repos.json").read_text())}
    rows, top1, top3, total = [], 0, 0, 0
    for ann in sorted((a.bench / "annotations").glob("*.json")):
        repo = ann.stem
        data = json.loads(ann.read_text())
        queries = data if isinstance(data, list) else data.get("queries", [])
        root = a.corpus / repo
        prefix = ""
        if repos.get(repo, {}).get("benchmark_root"):
            root = root / repos[repo]["benchmark_root"]
            prefix = repos[repo]["benchmark_root"].rstrip("/") + "/"
        for q in queries:
            if q.get("category") != "symbol":
                continue
            relevant = {t if isinstance(t, str) else t["path"] for t in q["relevant"]}
            out = subprocess.run([a.sg, "def", q["query"], "--json", "--no-update", "--root", str(root)],
                                 capture_output=True, text=True)
            defs = json.loads(out.stdout)["definitions"] if out.returncode == 0 else []
            paths = [prefix + d["path"] for d in defs]
            hit1 = bool(paths) and paths[0] in relevant
            hit3 = any(p in relevant for p in paths[:3])
            total += 1
            top1 += hit1
            top3 += hit3
            rows.append((repo, q["query"], paths[0] if paths else "(none)", hit1))
    for r in rows:
        if not r[3]:
            print(f"miss  {r[0]:18} {r[1]:28} first: {r[2]}")
    line = f"symbol queries: {total}; defining file first (Acc@1) {top1 / total:.3f}; in the first three {top3 / total:.3f}"
    print(line)
    if a.markdown:
        pathlib.Path(a.markdown).write_text(
            "| queries | Acc@1 | Acc@3 |\n|---:|---:|---:|\n" f"| {total} | {top1 / total:.3f} | {top3 / total:.3f} |\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
