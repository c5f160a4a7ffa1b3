#!/usr/bin/env python3
"""File-level accuracy of ranked results: Acc@k = share of queries with at least one relevant file in the top k.

Reads the specs and the `--results` JSONL files of `sg eval` (top-10 hits per query, in spec order) and prints,
per file, Acc@1/5/10 over hits as ranked ("hits") and over distinct files in first-hit order ("files").

Usage: acc.py SPEC.json RESULTS.jsonl [SPEC.json RESULTS.jsonl ...]
"""
import json
import sys


def matches(hit: str, target: str) -> bool:
    return hit == target or hit.endswith("/" + target) or target.endswith("/" + hit)


def main() -> None:
    args = sys.argv[1:]
    total = {"hits": [0, 0, 0], "files": [0, 0, 0]}
    n_all = 0
    for spec_path, res_path in zip(args[::2], args[1::2]):
        queries = json.load(open(spec_path))["queries"]
        results = [json.loads(l) for l in open(res_path)]
        assert len(queries) == len(results) and all(q["query"] == r["query"] for q, r in zip(queries, results))
        acc = {"hits": [0, 0, 0], "files": [0, 0, 0]}
        for q, r in zip(queries, results):
            paths = [h["path"] for h in r["hits"]]
            files = list(dict.fromkeys(paths))
            for kind, ranked in (("hits", paths), ("files", files)):
                for i, k in enumerate((1, 5, 10)):
                    if any(matches(p, t) for p in ranked[:k] for t in q["relevant"]):
                        acc[kind][i] += 1
                        total[kind][i] += 1
        n = len(queries)
        n_all += n
        print(f"{res_path}: {n} queries; hits Acc@1/5/10 " + " ".join(f"{a / n:.3f}" for a in acc["hits"])
              + "; files Acc@1/5/10 " + " ".join(f"{a / n:.3f}" for a in acc["files"]))
    print(f"all: {n_all} queries; hits Acc@1/5/10 " + " ".join(f"{a / n_all:.3f}" for a in total["hits"])
          + "; files Acc@1/5/10 " + " ".join(f"{a / n_all:.3f}" for a in total["files"]))


if __name__ == "__main__":
    main()
