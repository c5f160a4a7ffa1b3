#!/usr/bin/env python3
"""Latency benchmark of `sg lsp` (run by hand; not a test).

    python3 tests/lsp/bench_lsp.py target/release/sg /path/to/project [--lexical-only]
        [--index-dir DIR] [--queries 100] [--edits 5]

Starts the server on the folder through a real LSP client (pytest-lsp), waits for the index (every chunk
embedded, unless --lexical-only), then measures:
  - `sg/search` latency over natural-language and identifier queries (p50/p99, client-side round trip);
  - `workspace/symbol` latency for identifier prefixes;
  - edit-to-searchable time: an unsaved buffer gains a new function through `didChange`, then `sg/search`
    is polled until the function ranks first, by name (lexical) and by its purpose (semantic).
The index goes to a fresh temporary folder unless --index-dir is given (reuse one to time a warm start).
With --backlog, the measurements start as soon as every file is indexed and every chunk has a fast-tier vector,
while the main model's backlog is still embedding (how a large workspace behaves in its first hour).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from lsprotocol import types  # noqa: E402

import conftest  # noqa: E402

NATURAL = [
    "parse a configuration file",
    "retry a failed network request with backoff",
    "read a file from disk",
    "write results to a json file",
    "handle errors and report them to the user",
    "compute a hash of the contents",
    "walk a directory tree recursively",
    "split a string into tokens",
    "sort items by score",
    "open a database connection",
    "cache results in memory",
    "log a warning message",
    "parse command line arguments",
    "convert a path to a uri",
    "spawn a background thread",
    "wait for a process to exit",
    "serialize a struct to json",
    "check whether a file is binary",
    "compute cosine similarity between vectors",
    "merge overlapping ranges",
    "send an http request",
    "validate user input",
    "load a model from disk",
    "apply a text edit to a buffer",
    "debounce rapid changes",
]

EDITS = [
    ("zq_swallow_airspeed", "Estimate the airspeed velocity of an unladen swallow in metres per second."),
    ("zq_teapot_brew", "Brew tea in a teapot until the leaves have steeped for four minutes."),
    ("zq_iceberg_melt", "Predict how many days an iceberg takes to melt in warm ocean water."),
    ("zq_volcano_ash", "Measure how far volcanic ash travels downwind after an eruption."),
    ("zq_penguin_huddle", "Arrange penguins in a huddle so that each one takes turns at the warm centre."),
]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


async def timed(coro) -> tuple[float, object]:
    t = time.perf_counter()
    r = await coro
    return (time.perf_counter() - t) * 1000, r


async def identifiers(session: conftest.Session, want: int) -> list[str]:
    names: list[str] = []
    for letter in "abcdefghijklmnopqrstuvwxyz":
        syms = await session.client.workspace_symbol_async(types.WorkspaceSymbolParams(query=letter))
        for s in syms or []:
            if len(s.name) >= 4 and s.name.isidentifier() and s.name not in names:
                names.append(s.name)
        if len(names) >= want:
            break
    return names[:want]


async def edit_to_searchable(session: conftest.Session, root: pathlib.Path, i: int, semantic: bool):
    name, purpose = EDITS[i % len(EDITS)]
    name = f"{name}_{i}"
    probe = root / f"sg_bench_probe_{os.getpid()}_{i}.py"
    doc = conftest.uri(probe)
    session.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=doc, language_id="python", version=1, text="\n")
        )
    )
    text = f'def {name}(x):\n    """{purpose}"""\n    return x\n'
    t0 = time.perf_counter()
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=1, character=0),
                                      end=types.Position(line=1, character=0)),
                    text=text,
                )
            ],
        )
    )

    def first(r):
        return bool(r["results"]) and r["results"][0].get("symbol") == name

    await conftest.poll(lambda: session.search(name, mode="lexical"), first, f"{name} by name",
                        interval=0.002)
    lexical_ms = (time.perf_counter() - t0) * 1000
    semantic_ms = float("nan")
    if semantic:
        await conftest.poll(lambda: session.search(purpose, mode="semantic"), first,
                            f"{name} by purpose", interval=0.002)
        semantic_ms = (time.perf_counter() - t0) * 1000
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=doc))
    )
    return lexical_ms, semantic_ms


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="the sg binary (use a release build for real numbers)")
    ap.add_argument("folder", type=pathlib.Path)
    ap.add_argument("--lexical-only", action="store_true", help="start the server with embed=false")
    ap.add_argument("--index-dir", type=pathlib.Path, help="base folder of the index (default: fresh temp)")
    ap.add_argument("--queries", type=int, default=100, help="number of sg/search requests")
    ap.add_argument("--edits", type=int, default=5, help="number of edit-to-searchable probes")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds to wait for indexing")
    ap.add_argument("--first-symbol", metavar="NAME",
                    help="time the first non-empty workspace/symbol answer for NAME after initialized")
    ap.add_argument("--backlog", action="store_true",
                    help="measure while the main model embeds: wait only until the workspace is searchable")
    ap.add_argument("--query-file", type=pathlib.Path,
                    help="natural-language queries, one JSON object with a \"query\" per line (default: a built-in list)")
    args = ap.parse_args()

    conftest.SG_BIN = str(pathlib.Path(args.binary).resolve())
    root = args.folder.resolve()
    tmp = None
    base = args.index_dir
    if base is None:
        tmp = tempfile.mkdtemp(prefix="sg-bench-")
        base = pathlib.Path(tmp)
    base.mkdir(parents=True, exist_ok=True)
    semantic = not args.lexical_only
    t0 = time.perf_counter()
    session = await conftest.start_session(root, base, embed=semantic)
    first_symbol_ms = None
    if args.first_symbol:
        # From `initialized` to the first non-empty answer (on an index made before: a warm start).
        t1 = time.perf_counter()
        while time.perf_counter() - t1 < 30:
            found = await session.client.workspace_symbol_async(types.WorkspaceSymbolParams(query=args.first_symbol))
            if found:
                first_symbol_ms = (time.perf_counter() - t1) * 1000
                break
            await asyncio.sleep(0.005)
    try:
        conftest.POLL_TIMEOUT = args.timeout
        if args.backlog:
            def searchable(st: dict) -> bool:
                folders = st.get("folders", [])
                return bool(folders) and all(
                    f.get("files", 0) > 0 and f.get("pendingFiles", 1) == 0
                    and f.get("fastEmbedded", 0) + f.get("embedded", 0) >= f.get("chunks", 1)
                    for f in folders
                )
            # The first scan writes files in batches and says nothing when it ends: searchable, and the same
            # number of files for two seconds.
            status = await conftest.poll(session.status, searchable, "the workspace to be searchable")
            while True:
                await asyncio.sleep(2.0)
                again = await conftest.poll(session.status, searchable, "the workspace to be searchable")
                if [f["files"] for f in again["folders"]] == [f["files"] for f in status["folders"]]:
                    break
                status = again
        else:
            status = await session.wait_indexed(embedded=semantic)
        index_s = time.perf_counter() - t0
        conftest.POLL_TIMEOUT = 30.0
        files = sum(f["files"] for f in status["folders"])
        chunks = sum(f["chunks"] for f in status["folders"])

        idents = await identifiers(session, 50)
        natural = NATURAL
        if args.query_file:
            import json
            natural = [json.loads(l)["query"] for l in args.query_file.read_text().splitlines() if l.strip()]
        queries = natural + idents
        search_ms = {"natural": [], "identifier": []}
        server_ms = []
        for i in range(args.queries):
            q = queries[i % len(queries)]
            ms, r = await timed(session.search(q))
            search_ms["identifier" if q in idents else "natural"].append(ms)
            server_ms.append(r["elapsedMs"])
        prefixes = [n[: max(3, len(n) // 2)] for n in idents] or ["get", "set", "new"]
        symbol_ms = []
        for i in range(args.queries):
            ms, _ = await timed(session.client.workspace_symbol_async(
                types.WorkspaceSymbolParams(query=prefixes[i % len(prefixes)])))
            symbol_ms.append(ms)
        edits = [await edit_to_searchable(session, root, i, semantic) for i in range(args.edits)]
    finally:
        await conftest.stop_session(session)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    if first_symbol_ms is not None:
        print(f"first workspace/symbol answer after initialized: {first_symbol_ms:.0f} ms")
    print(f"\n{root}: {files} files, {chunks} chunks; ready in {index_s:.1f} s "
          f"({'lexical only' if not semantic else 'searchable, main model embedding in the background' if args.backlog else 'with embeddings'})\n")
    rows = [
        ("sg/search, natural language", search_ms["natural"]),
        ("sg/search, identifiers", search_ms["identifier"]),
        ("sg/search, all", search_ms["natural"] + search_ms["identifier"]),
        ("sg/search, server time (elapsedMs)", server_ms),
        ("workspace/symbol, prefixes", symbol_ms),
        ("edit -> rank 1 by name (lexical)", [e[0] for e in edits]),
    ]
    if semantic:
        rows.append(("edit -> rank 1 by purpose (semantic)", [e[1] for e in edits]))
    print(f"{'measure':<38} {'n':>4} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for label, values in rows:
        print(f"{label:<38} {len(values):>4} {pct(values, 50):>9.1f} {pct(values, 99):>9.1f} "
              f"{(max(values) if values else float('nan')):>9.1f}")
    if edits:
        print(f"\nedit-to-searchable median: lexical {statistics.median(e[0] for e in edits):.0f} ms"
              + (f", semantic {statistics.median(e[1] for e in edits):.0f} ms" if semantic else ""))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
