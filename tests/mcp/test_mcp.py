"""End-to-end tests of `sg mcp` driven by the official MCP Python SDK over stdio."""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from mcp import MCPError

from conftest import POLL_TIMEOUT, lsp_session, mcp_session, poll, text_of

TOOLS = {
    "search": ({"query", "limit", "mode", "paths", "languages", "kinds", "intent", "context", "max_tokens"},
               ["query"]),
    "definition": ({"symbol", "limit", "max_tokens"}, ["symbol"]),
    "references": ({"symbol", "kinds", "near", "limit"}, ["symbol"]),
    "outline": ({"path"}, ["path"]),
    "read": ({"path", "line", "symbol"}, ["path"]),
    "status": (set(), []),
    "reindex": (set(), []),
}


async def test_tools_are_listed_with_their_schemas(lexical):
    listed = await lexical.session.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == set(TOOLS)
    for name, (props, required) in TOOLS.items():
        schema = tools[name].input_schema
        assert schema["type"] == "object", name
        assert set(schema.get("properties", {})) == props, name
        assert sorted(schema.get("required", [])) == sorted(required), name
        assert len(tools[name].description) > 80, f"{name} needs a description a model can act on"
    search = tools["search"].input_schema["properties"]
    assert "bytes / 4" in tools["search"].description
    assert search["mode"]["enum"] == ["hybrid", "lexical", "semantic"]
    assert search["query"]["type"] == "string"


async def test_search_finds_a_known_function_at_its_exact_range(lexical):
    r = await lexical.ok("search", query="retry_with_backoff")
    best = r["results"][0]
    assert (best["path"], best["symbol"], best["kind"], best["language"]) == (
        "net/retry.rs", "retry_with_backoff", "function", "rust")
    # The definition takes in the `use` line above it (a small preamble joins the next unit).
    assert (best["start_line"], best["end_line"]) == (1, 16)
    assert best["shown"] == "whole"
    lines = (lexical.root / "net/retry.rs").read_text().splitlines(keepends=True)
    assert best["code"] == "".join(lines[0:16])
    assert r["mode"] == "lexical"


async def test_search_filters_by_language_and_path(lexical):
    r = await lexical.ok("search", query="handle", languages=["python"])
    assert r["results"] and all(h["language"] == "python" for h in r["results"])
    r = await lexical.ok("search", query="handle", paths=["net/**"])
    assert r["results"] and all(h["path"].startswith("net/") for h in r["results"])
    # `kinds` filters what is indexed: `handle` is a method of its own, and the class's header holds its doc.
    r = await lexical.ok("search", query="handle", kinds=["class"])
    assert r["results"] == [], r
    r = await lexical.ok("search", query="a client of the server", kinds=["class"])
    assert [(h["path"], h["symbol"], h["kind"]) for h in r["results"]] == [("client/session.py", "Client", "class")]


async def test_code_is_trimmed_to_the_budget(lexical):
    r = await lexical.ok("search", query="render monthly sales report grand total", max_tokens=100)
    best = r["results"][0]
    assert best["symbol"] == "render_sales_report"
    assert best["shown"] in ("trimmed", "omitted")
    if best["shown"] == "trimmed":
        assert best["code"].startswith("def render_sales_report(rows, title):\n")
        assert "left out" in best["code"]
    used = sum(len(h["code"].encode()) for h in r["results"])
    assert (used + 3) // 4 <= 100
    whole = await lexical.ok("search", query="render monthly sales report grand total", max_tokens=100_000)
    assert whole["results"][0]["shown"] == "whole"
    assert whole["results"][0]["code"] == (lexical.root / "report/render.py").read_text()


async def test_definition_by_plain_and_qualified_name(lexical):
    d = (await lexical.ok("definition", symbol="handle"))["definitions"]
    assert {(x["path"], x["container"]) for x in d} == {("net/server.rs", "Server"), ("client/session.py", "Client")}
    for q in ("Server::handle", "Server.handle"):
        d = (await lexical.ok("definition", symbol=q))["definitions"]
        assert [(x["path"], x["start_line"], x["end_line"], x["kind"]) for x in d] == [
            ("net/server.rs", 11, 13, "method")], q
        assert d[0]["code"] == "".join((lexical.root / "net/server.rs").read_text().splitlines(True)[10:13])
    d = (await lexical.ok("definition", symbol="Client.handle"))["definitions"]
    assert [(x["path"], x["start_line"], x["end_line"]) for x in d] == [("client/session.py", 10, 12)]
    assert "def handle(self, reply):" in d[0]["code"]


async def test_an_unknown_symbol_is_a_tool_error_with_suggestions(lexical):
    msg = await lexical.error("definition", symbol="parse_confg")
    assert msg == "no symbol named parse_confg; did you mean parse_config?"
    msg = await lexical.error("definition", symbol="Router::handle")
    assert "not in Router" in msg and "Client" in msg and "Server" in msg


async def test_outline_of_a_file_and_a_folder(lexical):
    o = await lexical.ok("outline", path="net/server.rs")
    (f,) = o["files"]
    assert f["path"] == "net/server.rs"
    top = [(n["kind"], n["name"], n["start_line"], n["end_line"]) for n in f["definitions"]]
    assert top == [("struct", "Server", 1, 3), ("impl", "Server", 5, 14)]
    methods = [(n["name"], n["start_line"], n["end_line"]) for n in f["definitions"][1]["children"]]
    assert methods == [("new", 6, 8), ("handle", 11, 13)]
    assert f["definitions"][1]["children"][1]["signature"] == "pub fn handle(&self, request: &str) -> String {"
    o = await lexical.ok("outline", path="net")
    assert sorted(x["path"] for x in o["files"]) == ["net/retry.rs", "net/server.rs"]
    msg = await lexical.error("outline", path="nowhere")
    assert "no indexed file" in msg


async def test_read_gives_the_enclosing_definition(lexical):
    r = await lexical.ok("read", path="client/session.py", line=12)
    assert (r["symbol"], r["start_line"], r["end_line"]) == ("handle", 10, 12)
    lines = (lexical.root / "client/session.py").read_text().splitlines(keepends=True)
    assert r["code"] == "".join(lines[9:12])
    r = await lexical.ok("read", path="client/session.py", line=5)
    assert (r["symbol"], r["kind"], r["start_line"], r["end_line"]) == ("Client", "class", 4, 12)
    r = await lexical.ok("read", path="net/server.rs", symbol="Server::new")
    assert (r["symbol"], r["start_line"], r["end_line"]) == ("new", 6, 8)
    msg = await lexical.error("read", path="net/server.rs", symbol="stop")
    assert "defines no stop" in msg and "handle" in msg


async def test_bad_arguments_are_tool_errors_and_the_server_lives_on(lexical):
    assert "`mode` must be hybrid, lexical or semantic" in await lexical.error("search", query="x", mode="fuzzy")
    assert "unknown language" in await lexical.error("search", query="x", languages=["klingon"])
    assert "`limit` must be at least 1" in await lexical.error("search", query="x", limit=0)
    assert "refused" in await lexical.error("read", path="../../../etc/passwd", line=1)
    assert "past its end" in await lexical.error("read", path="net/server.rs", line=999)
    assert "give `line`" in await lexical.error("read", path="net/server.rs")
    # Arguments of the wrong type are refused as a tool error too, naming the field's problem.
    assert "expected a string" in await lexical.error("search", query=42)
    assert "unknown field" in await lexical.error("search", query="x", colour="red")
    # An unknown tool is a protocol error; the server still answers.
    with pytest.raises(MCPError):
        await lexical.session.call_tool("no_such_tool", {})
    r = await lexical.ok("definition", symbol="ReverseString")
    assert r["definitions"][0]["path"] == "text/reverse.go"


async def test_an_edit_on_disk_is_found_after_the_watcher_picks_it_up(lexical):
    path = lexical.root / "net/retry.rs"
    path.write_text(path.read_text() + "\npub fn jitter_delay_for_attempt(n: u32) -> u32 {\n    n * 7\n}\n")

    async def lookup():
        return await lexical.call("definition", symbol="jitter_delay_for_attempt")

    r = await poll(lookup, lambda r: not r.is_error, "the new function to be indexed")
    d = r.structured_content["definitions"][0]
    assert (d["path"], d["start_line"], d["end_line"]) == ("net/retry.rs", 18, 20)
    # A deleted file goes as well.
    (lexical.root / "text/reverse.go").unlink()

    async def gone():
        return await lexical.call("definition", symbol="ReverseString")

    r = await poll(gone, lambda r: r.is_error, "the deleted file to leave the index")
    assert "no symbol named ReverseString" in text_of(r)


async def test_status_and_reindex(lexical):
    s = await poll(lambda: lexical.ok("status"), lambda s: s["scanned"] and s["pending_files"] == 0,
                   "the first scan")
    assert s["root"] == str(lexical.root.resolve())
    assert s["writable"] is True and s["model"] == "none"
    assert s["files"] == 7 and s["chunks"] >= 7
    (lexical.root / "extra.py").write_text("def added_by_reindex():\n    return 1\n")
    progress = []

    async def on_progress(p, total, message):
        progress.append((p, total, message))

    r = await asyncio.wait_for(
        lexical.session.call_tool("reindex", {}, progress_callback=on_progress), POLL_TIMEOUT)
    assert not r.is_error, text_of(r)
    assert r.structured_content["files"] == 8
    assert r.structured_content["pending_files"] == 0
    assert progress, "reindex sends progress to a client that asked for it"
    assert all(b[0] >= a[0] for a, b in zip(progress, progress[1:])), progress


async def test_the_workspace_comes_from_the_clients_roots(repo, index_base, tmp_path):
    from mcp import types

    async def roots(_context):
        return types.ListRootsResult(roots=[types.Root(uri=repo.resolve().as_uri(), name="repo")])

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with mcp_session(None, index_base, "--no-embed", cwd=str(elsewhere), list_roots_callback=roots) as s:
        st = await s.ok("status")
        assert st["root"] == str(repo.resolve())
        r = await s.ok("definition", symbol="computeCartTotal")
        assert r["definitions"][0]["path"] == "web/cart.ts"


async def test_without_roots_the_enclosing_workspace_of_the_current_folder_is_served(repo, index_base):
    async with mcp_session(None, index_base, "--no-embed", cwd=str(repo / "net")) as s:
        st = await s.ok("status")
        assert st["root"] == str(repo.resolve())


async def test_an_mcp_server_and_a_language_server_share_one_workspace(repo, index_base):
    async with lsp_session(repo, index_base) as lsp:
        async def lsp_status():
            return await lsp.request("workspace/executeCommand", {"command": "sg.status", "arguments": []})

        await poll(lsp_status, lambda s: s["folders"] and s["folders"][0]["files"] == 7
                   and s["folders"][0]["pendingFiles"] == 0, "the language server to index")
        async with mcp_session(repo, index_base, "--no-embed") as mcp:
            st = await mcp.ok("status")
            assert st["writable"] is False and "another sg process" in st["note"]
            r = await mcp.ok("definition", symbol="retry_with_backoff")
            assert r["definitions"][0]["path"] == "net/retry.rs"
            msg = await mcp.error("reindex")
            assert "another sg process writes this index" in msg
            # A file written while both run: the language server indexes it, the MCP server reads it.
            (repo / "shared_edit.py").write_text("def seen_by_both_servers():\n    return 2\n")

            async def mcp_def():
                return await mcp.call("definition", symbol="seen_by_both_servers")

            r = await poll(mcp_def, lambda r: not r.is_error, "the MCP server to see the edit")
            assert r.structured_content["definitions"][0]["path"] == "shared_edit.py"
            lsp_hits = await lsp.request("sg/search", {"query": "seen_by_both_servers"})
            assert lsp_hits["results"][0]["path"] == "shared_edit.py"


CALLER = """\
from client.session import Client, parse_config


def start(path):
    config = parse_config(open(path).read())
    client = Client(config["host"])
    return client


def reload(text):
    parse_config = None
    return text
"""


async def test_references_and_routed_questions_follow_the_code_graph(lexical):
    (lexical.root / "app").mkdir()
    (lexical.root / "app/main.py").write_text(CALLER)
    r = await poll(lambda: lexical.ok("references", symbol="parse_config"),
                   lambda r: any(u["path"] == "app/main.py" for u in r["references"]),
                   "the new caller to be indexed")
    uses = [(u["path"], u["line"], u["kind"], (u["enclosing"] or {}).get("symbol")) for u in r["references"]]
    # The import and the call; the local of the same name in `reload` is not a use.
    assert uses == [("app/main.py", 1, "import", None), ("app/main.py", 5, "call", "start")], uses
    assert r["references"][1]["text"] == 'config = parse_config(open(path).read())'
    assert r["references"][1]["enclosing"] == {"symbol": "start", "kind": "function", "start_line": 4, "end_line": 7}
    assert [(d["path"], d["start_line"]) for d in r["definitions"]] == [("client/session.py", 15)]
    assert (r["total"], r["files"]) == (2, 1)
    calls = await lexical.ok("references", symbol="Client", kinds=["call"])
    assert [(u["path"], u["line"]) for u in calls["references"]] == [("app/main.py", 6)]

    # "Who calls X" is routed to the graph: the callers' definitions, the call lines as their match.
    s = await lexical.ok("search", query="who calls parse_config?")
    assert s["intent"] == {"intent": "references", "name": "parse_config", "calls_only": True, "guessed": True}
    assert [(h["path"], h["symbol"], h["start_line"], h["end_line"], h["match_lines"]) for h in s["results"]] == [
        ("app/main.py", "start", 4, 7, [5, 5])]
    # "Where is X defined" answers with the definition only.
    s = await lexical.ok("search", query="where is parse_config defined")
    assert s["intent"]["intent"] == "definition"
    assert [(h["path"], h["symbol"], h["start_line"], h["end_line"]) for h in s["results"]] == [
        ("client/session.py", "parse_config", 15, 17)]
    # An explicit intent overrides the guess; plain words are a search.
    s = await lexical.ok("search", query="who calls parse_config", intent="search")
    assert s["intent"] == {"intent": "search", "guessed": False}
    s = await lexical.ok("search", query="exponential backoff for failed requests")
    assert s["intent"]["intent"] == "search" and s["results"][0]["symbol"] == "retry_with_backoff"

    # Bad arguments are tool errors that say what to do; the server lives on.
    msg = await lexical.error("references", symbol="parse_confg")
    assert "parse_config" in msg, msg
    msg = await lexical.error("references", symbol="parse_config", kinds=["caller"])
    assert "call, type, import, use or field" in msg, msg
    msg = await lexical.error("search", query="x", intent="callers")
    assert "unknown intent" in msg, msg
    assert (await lexical.ok("references", symbol="Client"))["total"] >= 2


async def test_files_already_read_are_demoted(lexical):
    first = (await lexical.ok("search", query="handle", intent="search"))["results"]
    top = first[0]["path"]
    assert {h["path"] for h in first} >= {"net/server.rs", "client/session.py"}, first
    again = (await lexical.ok("search", query="handle", intent="search", context={"read_files": [top]}))["results"]
    assert again[0]["path"] != top, again
    assert any(h["path"] == top for h in again), "demoted, not removed"
