"""Round-trip latency of `sg mcp` tools through the official MCP client, on a warm index.

    python3 tests/mcp/bench_mcp.py BINARY FOLDER [--no-embed] [--tokio]

Starts `BINARY mcp --root FOLDER`, waits until the index is scanned and (unless --no-embed) embedded,
then times 20 distinct `search` queries, 20 distinct `definition` lookups and 20 distinct `references`
lookups, each call from the client's request to its parsed answer, and prints the median and the slowest
of each. The queries and names are about this repository, or with `--tokio` about the public benchmark's
`tokio` (its `tokio/src`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

from mcp import ClientSession, StdioServerParameters, stdio_client

SEARCHES = [
    "where are chunk vectors fused with BM25 scores",
    "how is a query longer than the limit refused",
    "open the index read only when another process writes it",
    "split camelCase and snake_case identifiers into tokens",
    "file watcher events confined to the workspace",
    "embedding cache keyed by content hash",
    "parse a frame header content length",
    "rebuild the lexical index from the store",
    "tree-sitter language for a file extension",
    "per file diversity in ranking",
    "background indexer lock",
    "symbol table exact prefix subsequence ranking",
    "approximate nearest neighbour forest rescoring",
    "mean pooling and l2 normalisation",
    "read a file without following symbolic links",
    "markdown sections by heading",
    "JSON output of a search hit",
    "progress bar on stderr",
    "import graph resolution by path suffix",
    "token budget trimming signature lines",
]

SYMBOLS = [
    "Workspace::search", "Workspace::scan", "SymbolTable", "Confinement::rel", "read_text", "rank",
    "Folder::start", "check_query", "levenshtein", "LexicalIndex", "Store::verify", "embed_pending_with",
    "index_dir_for", "find_root", "Overlay", "best_line", "signature_lines", "Deframer", "load_embedder",
    "Workspace::update_file",
]

TOKIO_SEARCHES = [
    "spawn a task on the current runtime", "wake the task waiting on a notify", "semaphore permits acquire",
    "read exactly n bytes from an async reader", "tcp listener accept connections", "timer wheel expiration",
    "blocking pool thread spawn", "broadcast channel lagged receivers", "cooperative scheduling budget",
    "shutdown the runtime and drop tasks", "mpsc channel bounded send waits for capacity",
    "interval missed tick behavior", "unix signal handling stream", "join handle abort a task",
    "oneshot channel close", "read a buffer with fill_buf", "local set runs !Send futures",
    "work stealing queue steal half", "io driver readiness events", "watch channel borrow and mark seen",
]
TOKIO_SYMBOLS = [
    "Semaphore", "JoinSet", "Notify::notify_waiters", "spawn_blocking", "TcpListener", "Interval", "LocalSet",
    "OwnedSemaphorePermit", "unbounded_channel", "poll_proceed", "ReadBuf", "Sleep", "WorkerMetrics",
    "JoinHandle::abort", "asyncify", "Runtime::block_on", "Handle::current", "TimerShared", "LinkedList",
    "RngSeedGenerator",
]


async def main(binary: str, folder: str, no_embed: bool, tokio: bool) -> None:
    searches, symbols = (TOKIO_SEARCHES, TOKIO_SYMBOLS) if tokio else (SEARCHES, SYMBOLS)
    args = ["mcp", "--root", folder] + (["--no-embed"] if no_embed else [])
    # The client passes on only a few variables by default: hand over sg's own (SG_INDEX_DIR...).
    env = {k: v for k, v in os.environ.items() if k.startswith("SG_")}
    async with stdio_client(StdioServerParameters(command=binary, args=args, env=env)) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            deadline = time.monotonic() + 1800
            while True:
                st = (await s.call_tool("status", {})).structured_content or {}
                ready = st.get("scanned") and st.get("pending_files") == 0
                if not no_embed:
                    ready = ready and st.get("pending_embeddings") == 0
                if ready or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            print(f"index: {st.get('files')} files, {st.get('chunks')} chunks, "
                  f"{st.get('embedded')} embedded, model {st.get('model')}")
            # One untimed call of each warms the caches (symbol table, vectors).
            await s.call_tool("search", {"query": "warm up"})
            await s.call_tool("definition", {"symbol": "main"})
            await s.call_tool("references", {"symbol": "main"})
            for tool, key, items in (("search", "query", searches), ("definition", "symbol", symbols),
                                     ("references", "symbol", symbols)):
                times = []
                errors = 0
                for q in items:
                    t = time.perf_counter()
                    r = await s.call_tool(tool, {key: q})
                    times.append((time.perf_counter() - t) * 1000)
                    if r.is_error:
                        errors += 1
                        print(f"  {tool} {q!r}: {r.content[0].text}")
                print(f"{tool}: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
                      f"over {len(times)} distinct calls ({errors} tool errors)")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], "--no-embed" in sys.argv[3:], "--tokio" in sys.argv[3:]))
