"""End-to-end tests of `sg lsp` driven by a real LSP client (pytest-lsp) over stdio."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from conftest import (
    FIXTURE,
    Session,
    poll,
    start_session,
    stop_session,
    uri,
    write_fixture,
)


def top(result: dict) -> dict:
    assert result["results"], f"no results: {result}"
    return result["results"][0]


def brief(result: dict) -> list[tuple[str, int, str | None]]:
    return [(r["path"], r["range"]["start"]["line"], r.get("symbol")) for r in result["results"]]


# 1. Progress ------------------------------------------------------------------------------------


async def test_initial_indexing_reports_progress_begin_report_end(semantic: Session):
    await semantic.wait_indexed(embedded=True)

    def finished(reports: dict) -> bool:
        return any(v and v[-1].kind == "end" for k, v in reports.items() if "embedding" in str(k))

    await poll(
        lambda: asyncio.sleep(0, semantic.client.progress_reports),
        finished,
        "the embedding progress to end",
    )
    reports = semantic.client.progress_reports
    assert set(reports) == {"sg/indexing-files/1", "sg/embedding-chunks/2"}, reports
    scan = reports["sg/indexing-files/1"]
    assert [r.kind for r in scan][0] == "begin" and scan[-1].kind == "end"
    assert {r.kind for r in scan[1:-1]} == {"report"}
    assert scan[0].title == f"sg: indexing files ({semantic.root.name})"
    n_files = len(FIXTURE)
    assert scan[0].message == f"0/{n_files}"
    assert scan[-2].message == f"files {n_files}/{n_files}" and scan[-2].percentage == 100
    embed = reports["sg/embedding-chunks/2"]
    assert embed[0].kind == "begin" and embed[-1].kind == "end"
    assert embed[0].title.startswith("sg: embedding chunks")
    status = await semantic.status()
    chunks = status["folders"][0]["chunks"]
    assert embed[-2].kind == "report" and embed[-2].message == f"chunks {chunks}/{chunks}"


async def test_no_progress_without_client_support(repo, index_base):
    from conftest import SG_BIN, ClientServerConfig, make_client  # noqa: F401
    import os

    config = ClientServerConfig(
        server_command=[SG_BIN, "lsp"],
        server_env={**os.environ, "SG_INDEX_DIR": str(index_base)},
        client_factory=make_client,
    )
    client = await config.start()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=uri(repo),
            initialization_options={"embed": False},
        )
    )
    s = Session(client, repo)
    await s.wait_indexed(embedded=False)
    assert client.progress_reports == {}
    assert await stop_session(s) == 0


# 2. sg/search finds a known function ---------------------------------------------------------


async def test_search_finds_known_function_by_meaning(semantic: Session, repo):
    await semantic.wait_indexed(embedded=True)
    r = await semantic.search("call an operation again and wait longer after each failure")
    best = top(r)
    assert best["uri"] == uri(repo / "net/retry.rs")
    assert best["path"] == "net/retry.rs"
    assert best["symbol"] == "retry_with_backoff"
    # The chunk takes in the `use` line above the function (small preambles join the next chunk).
    assert best["range"] == {"start": {"line": 0, "character": 0}, "end": {"line": 16, "character": 0}}
    assert best["kind"] == "function" and best["language"] == "rust"
    assert best["signals"]["semantic"] > 0
    assert r["index"] == {"files": len(FIXTURE), "chunks": r["index"]["chunks"],
                          "pendingFiles": 0, "pendingEmbeddings": 0, "fastEmbedded": 0}


async def test_search_finds_known_function_by_name(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    best = top(await lexical.search("parse_config_file"))
    assert best["uri"] == uri(repo / "config/loader.py")
    assert best["symbol"] == "parse_config_file"
    assert best["range"]["start"] == {"line": 8, "character": 0}
    assert best["kind"] == "function" and best["language"] == "python"


async def test_search_filters_and_limit(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    r = await lexical.search("ReverseString", limit=1, mode="lexical")
    # Without a model nothing waits for a vector.
    assert r["index"]["pendingEmbeddings"] == 0 and r["index"]["pendingFiles"] == 0
    # The chunk takes in the `package` line above the function (small preambles join the next chunk).
    assert brief(r) == [("text/reverse.go", 0, "ReverseString")]
    assert top(r)["uri"] == uri(repo / "text/reverse.go")
    r = await lexical.search("configuration", languages=["go"], mode="lexical")
    assert all(x["language"] == "go" for x in r["results"])
    r = await lexical.search("parse configuration", paths=["config/**"], mode="lexical")
    assert r["results"] and {x["path"] for x in r["results"]} == {"config/loader.py"}


# 3. Unsaved edits are searchable -----------------------------------------------------------------

NEW_FUNCTION = '''

def tally_vowels(word):
    """Count how many vowels appear in a word."""
    return sum(1 for ch in word.lower() if ch in "aeiou")
'''


async def test_unsaved_edit_is_found_by_meaning(semantic: Session, repo):
    await semantic.wait_indexed(embedded=True)
    # A file whose one definition is too large to share a chunk: the new function gets its own.
    rel = "report/render.py"
    text = (repo / rel).read_text()
    doc = semantic.open(rel)
    lines = text.count("\n")
    semantic.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=lines, character=0),
                        end=types.Position(line=lines, character=0),
                    ),
                    text=NEW_FUNCTION,
                )
            ],
        )
    )
    query = "count the vowels in a word"
    r = await poll(
        lambda: semantic.search(query),
        lambda r: r["results"] and r["results"][0].get("symbol") == "tally_vowels",
        "the edited function to rank first",
    )
    best = top(r)
    assert best["uri"] == doc
    # The new function starts two lines after the old end of the file (one blank line first).
    assert best["range"]["start"]["line"] == lines + 2
    assert best["signals"].get("semantic", 0) > 0, best
    # The file on disk was not touched: the index follows the buffer.
    assert (repo / rel).read_text() == text
    # Semantic mode alone finds it too, so the new chunk has a vector.
    r = await semantic.search(query, mode="semantic")
    assert top(r)["symbol"] == "tally_vowels"


async def test_closing_a_buffer_reverts_to_disk(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    rel = "web/cart.ts"
    doc = lexical.open(rel, text="export function zebraCrossingWidth(): number { return 3; }\n",
                       language="typescript")
    await poll(lambda: lexical.search("zebraCrossingWidth", mode="lexical"),
               lambda r: r["results"] and r["results"][0].get("symbol") == "zebraCrossingWidth",
               "the buffer's text to be indexed")
    lexical.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=doc))
    )
    seen = []

    async def fetch():
        r = await lexical.search("zebraCrossingWidth computeCartTotal", mode="lexical")
        seen.append([(x["path"], x.get("symbol")) for x in r["results"]])
        return r

    r = await poll(fetch,
                   lambda r: r["results"] and r["results"][0].get("symbol") == "computeCartTotal",
                   "the file on disk to be indexed again")
    assert top(r)["symbol"] == "computeCartTotal", seen


# 4. Deleted files disappear ----------------------------------------------------------------------


async def test_deleted_file_results_disappear(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    r = await lexical.search("ReverseString", mode="lexical")
    assert "text/reverse.go" in {x["path"] for x in r["results"]}
    path = repo / "text/reverse.go"
    path.unlink()
    lexical.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=uri(repo / "text") + "/reverse.go",
                                     type=types.FileChangeType.Deleted)]
        )
    )
    await poll(
        lambda: lexical.search("ReverseString", mode="lexical"),
        lambda r: "text/reverse.go" not in {x["path"] for x in r["results"]},
        "the deleted file to leave the results",
    )
    status = await poll(lexical.status, lambda s: s["folders"][0]["files"] == len(FIXTURE) - 1,
                        "the file count to drop")
    assert status["folders"][0]["pendingFiles"] == 0


async def test_file_created_on_disk_is_picked_up_by_the_watcher(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    (repo / "net/ping.py").write_text("def quokka_heartbeat():\n    return 'pong'\n")
    r = await poll(
        lambda: lexical.search("quokka_heartbeat", mode="lexical"),
        lambda r: r["results"] and r["results"][0].get("symbol") == "quokka_heartbeat",
        "the new file to be indexed (no client event was sent)",
    )
    assert top(r)["uri"] == uri(repo / "net/ping.py")


# 5. workspace/symbol -----------------------------------------------------------------------------


async def test_workspace_symbol_exact_name_first(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    symbols = await lexical.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="parse_config")
    )
    names = [s.name for s in symbols]
    assert names[0] == "parse_config", names
    assert "parse_config_file" in names and "reparse_config" in names
    assert names.index("parse_config_file") > 0 and names.index("reparse_config") > 0
    first = symbols[0]
    assert first.location.uri == uri(repo / "config/loader.py")
    assert first.location.range.start.line == 3
    assert first.kind == types.SymbolKind.Function


async def test_workspace_symbol_prefix_and_camel_case(lexical: Session):
    await lexical.wait_indexed(embedded=False)
    symbols = await lexical.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="computeCart"))
    assert [s.name for s in symbols][:1] == ["computeCartTotal"]
    assert symbols[0].kind == types.SymbolKind.Function


async def test_workspace_symbol_natural_language_uses_search(semantic: Session, repo):
    await semantic.wait_indexed(embedded=True)
    symbols = await semantic.client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="retry failed requests with exponential backoff")
    )
    assert symbols, "natural-language symbol queries go through the hybrid search"
    assert symbols[0].name == "retry_with_backoff"
    assert symbols[0].location.uri == uri(repo / "net/retry.rs")
    assert symbols[0].container_name == "net/retry.rs"


# 6. Editor context boosts ------------------------------------------------------------------------


async def test_open_uris_boost_their_results(semantic: Session, repo):
    await semantic.wait_indexed(embedded=True)
    query = "perimeter of a regular polygon"
    plain = await semantic.search(query)
    order = [x["path"] for x in plain["results"] if x["path"].endswith("shapes.py")]
    assert sorted(order) == ["alpha/shapes.py", "beta/shapes.py"], brief(plain)
    loser = order[1]
    boosted = await semantic.search(query, context={"openUris": [uri(repo / loser)]})
    order2 = [x["path"] for x in boosted["results"] if x["path"].endswith("shapes.py")]
    assert order2 == [loser, order[0]], (brief(plain), brief(boosted))
    score = {x["path"]: x["score"] for x in boosted["results"]}
    plain_score = {x["path"]: x["score"] for x in plain["results"]}
    assert score[loser] > plain_score[loser]


async def test_current_uri_and_position_leave_out_the_symbol_under_the_cursor(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    doc = uri(repo / "config/loader.py")
    plain = await lexical.search("parse_config_file", mode="lexical")
    assert top(plain)["symbol"] == "parse_config_file"
    inside = await lexical.search(
        "parse_config_file",
        mode="lexical",
        context={"currentUri": doc, "position": {"line": 10, "character": 4}},
    )
    assert "parse_config_file" not in [x.get("symbol") for x in inside["results"]], brief(inside)


async def test_files_the_current_buffer_imports_are_boosted(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    query = "perimeter of a regular polygon"
    rel = "app/main.py"
    doc = uri(repo / rel)

    def shapes(r: dict) -> list[str]:
        return [x["path"] for x in r["results"] if x["path"].endswith("shapes.py")]

    # An unsaved buffer (the file does not exist on disk) importing one of the two identical modules.
    for version, pkg in enumerate(("beta", "alpha"), start=1):
        text = f"from {pkg}.shapes import polygon_perimeter_{pkg}\n\n\ndef main():\n    return polygon_perimeter_{pkg}(3, 2)\n"
        if version == 1:
            lexical.open(rel, text)
        else:
            lexical.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
        r = await poll(
            lambda: lexical.search(query, mode="lexical", context={"currentUri": doc}),
            lambda r: shapes(r)[:1] == [f"{pkg}/shapes.py"],
            f"{pkg}/shapes.py, imported by the current buffer, to rank first",
        )
        best = next(x for x in r["results"] if x["path"] == f"{pkg}/shapes.py")
        assert "import" in best["signals"], best
        other = next(x for x in r["results"] if x["path"].endswith("shapes.py") and x is not best)
        assert "import" not in other["signals"], other


# 7. Malformed parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, field",
    [
        ({"query": 3}, "`query`"),
        ({"limit": 5}, "`query`"),
        ({"query": "x", "mode": "fuzzy"}, "`mode`"),
        ({"query": "x", "limit": "many"}, "`limit`"),
        ({"query": "x", "limit": 0}, "`limit`"),
        ({"query": "x", "languages": ["klingon"]}, "`languages`"),
        ({"query": "x", "kinds": ["gizmo"]}, "`kinds`"),
        ({"query": "x", "colour": "red"}, "`colour`"),
        ({"query": "x", "context": {"openUris": 7}}, "`context`"),
    ],
)
async def test_malformed_search_params_are_invalid_params(lexical: Session, params, field):
    with pytest.raises(JsonRpcException) as err:
        await lexical.request("sg/search", params)
    assert err.value.code == -32602, err.value
    assert field in err.value.message, err.value.message
    # The server is still serving.
    await lexical.wait_indexed(embedded=False)
    r = await lexical.search("ReverseString", mode="lexical")
    assert top(r)["symbol"] == "ReverseString"


async def test_unknown_method_is_method_not_found(lexical: Session):
    with pytest.raises(JsonRpcException) as err:
        await lexical.request("sg/frobnicate", {"query": "x"})
    assert err.value.code == -32601
    with pytest.raises(JsonRpcException) as err:
        await lexical.command("sg.frobnicate")
    assert err.value.code == -32602 and "sg.search" in err.value.message
    await lexical.wait_indexed(embedded=False)
    assert top(await lexical.search("ReverseString", mode="lexical"))["symbol"] == "ReverseString"


# 8. executeCommand ----------------------------------------------------------------------------------


async def test_execute_command_status_and_search(lexical: Session, repo, index_base):
    status = await lexical.wait_indexed(embedded=False)
    [folder] = status["folders"]
    assert folder["root"] == str(repo.resolve())
    assert folder["files"] == len(FIXTURE)
    assert folder["chunks"] >= len(FIXTURE)
    assert folder["embedded"] == 0 and folder["pendingFiles"] == 0
    assert folder["pendingEmbeddings"] == 0
    assert folder["writable"] is True
    assert folder["indexDir"].startswith(str(index_base))
    params = {"query": "computeCartTotal", "limit": 3, "mode": "lexical"}
    via_command = await lexical.command("sg.search", params)
    via_request = await lexical.request("sg/search", params)
    assert brief(via_command) == brief(via_request)
    assert brief(via_command)[0] == ("web/cart.ts", 5, "computeCartTotal")
    with pytest.raises(JsonRpcException) as err:
        await lexical.command("sg.search", {"query": 3})
    assert err.value.code == -32602 and "`query`" in err.value.message
    with pytest.raises(JsonRpcException) as err:
        await lexical.command("sg.search")
    assert err.value.code == -32602


async def test_reindex_command_picks_up_changes_without_events(lexical: Session, repo):
    await lexical.wait_indexed(embedded=False)
    assert await lexical.command("sg.reindex") is None
    status = await lexical.wait_indexed(embedded=False)
    assert status["folders"][0]["files"] == len(FIXTURE)


# 9. Shutdown and reopening --------------------------------------------------------------------------


async def test_shutdown_exits_cleanly_and_index_reopens(repo, index_base):
    first = await start_session(repo, index_base, embed=True)
    before = await first.wait_indexed(embedded=True)
    expected = brief(await first.search("read a configuration file from disk"))
    assert await stop_session(first) == 0

    second = await start_session(repo, index_base, embed=True)
    try:
        # The index is on disk: the second server answers from it without re-embedding anything.
        status = await second.wait_indexed(embedded=True)
        assert status["folders"][0]["indexDir"] == before["folders"][0]["indexDir"]
        assert status["folders"][0]["chunks"] == before["folders"][0]["chunks"]
        assert brief(await second.search("read a configuration file from disk")) == expected
        assert not any("embedding" in str(k) for k in second.client.progress_reports), (
            second.client.progress_reports
        )
    finally:
        assert await stop_session(second) == 0


# 10. Workspace folders, settings, two servers -------------------------------------------------------

LEDGER = '''\
def reconcile_ledger_entries(entries):
    """Match every debit with the credit that settles it."""
    return [e for e in entries if e.amount]
'''


async def test_workspace_folders_are_added_and_removed(tmp_path, index_base):
    alpha = write_fixture(tmp_path / "alpha")
    beta = tmp_path / "beta"
    (beta / "books").mkdir(parents=True)
    (beta / "books" / "ledger.py").write_text(LEDGER)
    s = await start_session(alpha, index_base, embed=False)
    try:
        await s.wait_indexed(embedded=False)
        assert (await s.search("reconcile_ledger_entries", mode="lexical"))["results"] == []
        s.client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(
                    added=[types.WorkspaceFolder(uri=uri(beta), name="beta")], removed=[]
                )
            )
        )
        r = await poll(
            lambda: s.search("reconcile_ledger_entries", mode="lexical"),
            lambda r: bool(r["results"]),
            "the added folder to be searchable",
        )
        assert top(r)["symbol"] == "reconcile_ledger_entries"
        assert top(r)["uri"] == uri(beta / "books" / "ledger.py")
        # Both folders answer one query.
        assert top(await s.search("ReverseString", mode="lexical"))["symbol"] == "ReverseString"
        status = await s.wait_indexed(embedded=False)
        assert sorted(f["root"] for f in status["folders"]) == sorted(
            [str(alpha.resolve()), str(beta.resolve())]
        )

        s.client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                event=types.WorkspaceFoldersChangeEvent(
                    added=[], removed=[types.WorkspaceFolder(uri=uri(alpha), name="alpha")]
                )
            )
        )
        r = await poll(
            lambda: s.search("ReverseString", mode="lexical"),
            lambda r: all(x.get("symbol") != "ReverseString" for x in r["results"]),
            "the removed folder's results to go",
        )
        status = await s.status()
        assert [f["root"] for f in status["folders"]] == [str(beta.resolve())]
        assert top(await s.search("reconcile_ledger_entries", mode="lexical"))["symbol"] == (
            "reconcile_ledger_entries"
        )
    finally:
        assert await stop_session(s) == 0


async def test_settings_of_the_wrong_type_are_reported_and_change_nothing(lexical: Session):
    await lexical.wait_indexed(embedded=False)
    lexical.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"sg": {"limit": "many"}})
    )
    msgs = await poll(
        lambda: asyncio.sleep(0, lexical.client.messages),
        lambda m: any("`limit`" in x.message for x in m),
        "an error naming the setting",
    )
    [msg] = [m for m in msgs if "`limit`" in m.message]
    assert msg.type == types.MessageType.Error
    assert "positive integer" in msg.message, msg.message
    # Nothing changed: the default limit holds, and a valid setting still applies afterwards.
    assert len((await lexical.search("def", mode="lexical"))["results"]) > 1
    lexical.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"sg": {"limit": 1, "colour": "red"}})
    )
    r = await poll(
        lambda: lexical.search("def", mode="lexical"),
        lambda r: len(r["results"]) == 1,
        "the new default limit to apply",
    )
    assert len(r["results"]) == 1


async def test_a_second_server_on_the_same_workspace_reads_without_writing(repo, index_base):
    first = await start_session(repo, index_base, embed=False)
    try:
        await first.wait_indexed(embedded=False)
        second = await start_session(repo, index_base, embed=False)
        try:
            status = await poll(
                second.status,
                lambda s: bool(s.get("folders")) and s["folders"][0].get("files", 0) > 0,
                "the second server to open the index",
            )
            assert status["folders"][0]["writable"] is False, status
            assert (await first.status())["folders"][0]["writable"] is True
            r = await second.search("ReverseString", mode="lexical")
            assert top(r)["symbol"] == "ReverseString"
        finally:
            assert await stop_session(second) == 0
        # The writer was not disturbed.
        await first.wait_indexed(embedded=False)
        assert top(await first.search("ReverseString", mode="lexical"))["symbol"] == "ReverseString"
    finally:
        assert await stop_session(first) == 0
