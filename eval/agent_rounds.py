#!/usr/bin/env python3
"""An agent's second look: does demoting the files it has already read bring new relevant files?

For every query of the public benchmark (../shared/bench/semble), an agent searches (`sg search --batch`,
top 5), reads the files of the top 3 results, and searches again with the same query, once passing those
files as `read_files` (they are demoted) and once without. The second search is scored on what the agent
has not seen: Recall@5 of the relevant files that are not among the files read. Indexes must exist
(build them first, e.g. with `sg eval --semble`); the index location comes from SG_INDEX_DIR as for sg.

Usage: agent_rounds.py --sg SG --corpus CORPUS [--bench ../shared/bench/semble] [--mode hybrid]
"""
import argparse
import json
import pathlib
import subprocess
import sys


def batch(sg, root, mode, lines):
    inp = "".join(json.dumps(l) + "\n" for l in lines)
    out = subprocess.run([sg, "search", "--batch", "-", "--no-update", "--mode", mode, "--root", str(root)],
                         input=inp, capture_output=True, text=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def files_of(result, k):
    seen = []
    for h in result["results"][:k]:
        if h["path"] not in seen:
            seen.append(h["path"])
    return seen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sg", required=True)
    ap.add_argument("--corpus", required=True, type=pathlib.Path)
    ap.add_argument("--bench", default="../shared/bench/semble", type=pathlib.Path)
    ap.add_argument("--mode", default="hybrid")
    a = ap.parse_args()
    repos = {r["name"]: r for r in json.loads((a.bench / "repos.json").read_text())}
    totals = {"demoted": [0, 0], "plain": [0, 0]}
    for ann in sorted((a.bench / "annotations").glob("*.json")):
        repo = ann.stem
        data = json.loads(ann.read_text())
        queries = data if isinstance(data, list) else data.get("queries", [])
        root, prefix = a.corpus / repo, ""
        if repos.get(repo, {}).get("benchmark_root"):
            root = root / repos[repo]["benchmark_root"]
            prefix = repos[repo]["benchmark_root"].rstrip("/") + "/"
        first = batch(a.sg, root, a.mode, [{"query": q["query"], "limit": 5, "intent": "search"} for q in queries])
        read = [files_of(r, 3) for r in first]
        for tag, with_read in (("demoted", True), ("plain", False)):
            second = batch(a.sg, root, a.mode, [
                {"query": q["query"], "limit": 5, "intent": "search", **({"read_files": rd} if with_read else {})}
                for q, rd in zip(queries, read)])
            for q, rd, r in zip(queries, read, second):
                targets = {t if isinstance(t, str) else t["path"] for t in q["relevant"] + q.get("secondary", [])}
                unseen = {t for t in targets if t not in {prefix + p for p in rd}}
                if not unseen:
                    continue
                got = {prefix + p for p in files_of(r, 5)} & unseen
                totals[tag][0] += len(got) / len(unseen)
                totals[tag][1] += 1
    for tag, (s, n) in totals.items():
        print(f"second search {tag:8} unseen relevant files Recall@5 {s / n:.3f} over {n} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
