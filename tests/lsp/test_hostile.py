"""Hostile and unlucky input to `sg lsp`: malformed frames sent as raw bytes, paths that leave the
workspace, links created while the server runs, a second server's unsaved edits, an index inside the
workspace. Each test drives the real binary and checks what the next good request gets."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib

import pytest

from conftest import FIXTURE, POLL_TIMEOUT, SG_BIN, poll, start_session, stop_session, uri


class Raw:
    """A minimal client writing raw bytes to `sg lsp`, to send what no real client would."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.stderr = bytearray()
        self.responses: dict = {}
        self.next_id = 1000
        self._drain = asyncio.create_task(self._read_stderr())

    @classmethod
    async def start(cls, root: pathlib.Path, index_base: pathlib.Path, **options) -> "Raw":
        if not pathlib.Path(SG_BIN).is_file():
            pytest.fail(f"sg binary not found at {SG_BIN}: run `cargo build` or set SG_BIN")
        env = {**os.environ, "SG_INDEX_DIR": str(index_base), "SG_LOG": os.environ.get("SG_TEST_LOG", "sg=info")}
        proc = await asyncio.create_subprocess_exec(
            SG_BIN, "lsp",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        client = cls(proc)
        r = await client.request("initialize", {
            "processId": None,
            "rootUri": uri(root),
            "capabilities": {},
            "workspaceFolders": [{"uri": uri(root), "name": root.name}],
            "initializationOptions": {"embed": False, **options},
        })
        assert "capabilities" in r["result"], r
        client.notify("initialized", {})
        return client

    async def _read_stderr(self):
        while chunk := await self.proc.stderr.read(4096):
            self.stderr += chunk

    def log(self) -> str:
        return self.stderr.decode(errors="replace")

    def write(self, data: bytes):
        self.proc.stdin.write(data)

    @staticmethod
    def frame(body: bytes) -> bytes:
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    def send(self, msg: dict):
        self.write(self.frame(json.dumps(msg).encode()))

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def _read(self) -> dict:
        head = await asyncio.wait_for(self.proc.stdout.readuntil(b"\r\n\r\n"), POLL_TIMEOUT)
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = await asyncio.wait_for(self.proc.stdout.readexactly(length), POLL_TIMEOUT)
        return json.loads(body)

    async def response(self, id_) -> dict:
        """The response with this id (others are kept; the server's own requests are answered)."""
        while id_ not in self.responses:
            m = await self._read()
            if "method" in m:
                if "id" in m:
                    self.send({"jsonrpc": "2.0", "id": m["id"], "result": None})
                continue
            self.responses[m.get("id")] = m
        return self.responses.pop(id_)

    async def request(self, method: str, params) -> dict:
        self.next_id += 1
        id_ = self.next_id
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        return await self.response(id_)

    async def search(self, query: str, **params) -> dict:
        r = await self.request("sg/search", {"query": query, **params})
        assert "result" in r, r
        return r["result"]

    async def status(self) -> dict:
        r = await self.request("workspace/executeCommand", {"command": "sg.status", "arguments": []})
        return r["result"]

    async def stop(self) -> int:
        await self.request("shutdown", None)
        self.notify("exit", None)
        code = await asyncio.wait_for(self.proc.wait(), POLL_TIMEOUT)
        await self._drain
        return code

    async def close(self):
        """Ends the process if it still runs, and closes its pipes."""
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        self.proc.stdin.close()
        await self.proc.stdout.read()
        await self._drain


@pytest.fixture
async def raw(repo, index_base):
    c = await Raw.start(repo, index_base)
    try:
        yield c
    finally:
        await c.close()


def paths(result: dict) -> list[str]:
    return [r["path"] for r in result["results"]]


async def found(client, query: str, path: str) -> dict:
    """Polls until a lexical search for `query` returns `path` first."""
    return await poll(
        lambda: client.search(query, mode="lexical"),
        lambda r: r["results"] and r["results"][0]["path"] == path,
        f"{path} to answer {query!r}",
    )


# 1. Malformed frames ----------------------------------------------------------------------------

SEARCH = {"jsonrpc": "2.0", "method": "sg/search", "params": {"query": "x"}}


def body(id_: int) -> bytes:
    return json.dumps({**SEARCH, "id": id_}).encode()


BAD_FRAMES = {
    # name: (bytes, (id, error code) of the error reply, or None when the message is only logged)
    "array": (Raw.frame(b"[]"), None),
    "null": (Raw.frame(b"null"), None),
    "empty object": (Raw.frame(b"{}"), None),
    "invalid JSON": (Raw.frame(b'{"jsonrpc": "2.0", "id": 5, "method"'), None),
    "invalid UTF-8": (Raw.frame(b"\xff\xfe\xfd"), None),
    "garbage": (b"\x00\x01 }{ not a header", None),
    "no jsonrpc member": (Raw.frame(b'{"id": 77, "method": "sg/search", "params": {}}'), (77, -32600)),
    "dollar request": (Raw.frame(b'{"jsonrpc": "2.0", "id": 78, "method": "$/sgUnknown"}'), (78, -32601)),
    "short length": (b"Content-Length: 10\r\n\r\n" + body(79), (79, -32600)),
    "long length": (b"Content-Length: %d\r\n\r\n" % (len(body(80)) + 25) + body(80), (80, -32600)),
    "no length": (b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + body(81), (81, -32600)),
    "bad length": (b"Content-Length: eighty\r\n\r\n" + body(82), (82, -32600)),
    "absurd length": (b"Content-Length: 4000000000\r\n\r\n" + body(83), None),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_a_malformed_frame_is_answered_or_skipped_and_the_next_request_served(raw: Raw, name):
    data, reply = BAD_FRAMES[name]
    raw.write(data)
    r = await found(raw, "ReverseString", "text/reverse.go")
    assert r["results"][0]["symbol"] == "ReverseString"
    if reply is not None:
        id_, code = reply
        err = (await raw.response(id_))["error"]
        assert err["code"] == code, err
    assert raw.proc.returncode is None
    assert await raw.stop() == 0
    log = raw.log()
    assert "dropped a message" in log or "skipping input" in log or "answered message" in log, log
    if name == "absurd length":
        assert "Content-Length 4000000000 is over the limit" in log, log
    # Nothing else was answered (a refused message is never served).
    assert not raw.responses, raw.responses


async def test_lone_surrogates_are_replaced_and_the_request_answered(raw: Raw, repo):
    # JavaScript's JSON.stringify writes half an emoji as a lone surrogate escape.
    query = json.dumps("ReverseString \ud83d")
    assert query == '"ReverseString \\ud83d"'
    raw.write(Raw.frame(
        b'{"jsonrpc": "2.0", "id": 90, "method": "sg/search", '
        b'"params": {"query": %s, "mode": "lexical"}}' % query.encode()
    ))
    r = await raw.response(90)
    assert "result" in r, r
    # A buffer with one is accepted too, and searchable.
    doc = uri(repo / "text/emoji.py")
    raw.write(Raw.frame(json.dumps({
        "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": {"textDocument": {
            "uri": doc, "languageId": "python", "version": 1,
            "text": "def pangolin_emoji_width(s):\n    return '\ud83d'\n",
        }},
    }).encode()))
    r = await found(raw, "pangolin_emoji_width", "text/emoji.py")
    assert r["results"][0]["uri"] == doc
    assert "\ufffd" in r["results"][0]["snippet"]
    assert await raw.stop() == 0
    assert "lone surrogate escapes replaced by U+FFFD" in raw.log()


# 2. Paths outside the workspace -------------------------------------------------------------------

SECRET = "def quasar_secret_token():\n    return 'hunter2'\n"


def outside_secret(repo: pathlib.Path) -> pathlib.Path:
    secret = repo.parent / "outside" / "secret.py"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(SECRET)
    return secret


async def control_file(client, repo: pathlib.Path, name: str, event: bool):
    """Creates a file in the workspace and waits until it is searchable: every event sent or
    raised before it has been processed by then."""
    path = repo / "net" / f"{name}.py"
    path.write_text(f"def {name}():\n    return 1\n")
    if event:
        client.notify("workspace/didChangeWatchedFiles",
                      {"changes": [{"uri": uri(path), "type": 1}]})
    await found(client, name, f"net/{name}.py")


async def test_watched_file_events_never_reach_outside_the_workspace(raw: Raw, repo):
    await found(raw, "ReverseString", "text/reverse.go")
    secret = outside_secret(repo)
    escape = uri(repo) + "/../outside/secret.py"
    passwd = uri(repo) + "/../../../../../../../../etc/passwd"
    changes = [{"uri": u, "type": t} for u in (escape, passwd) for t in (1, 2, 3)]
    raw.notify("workspace/didChangeWatchedFiles", {"changes": changes})
    await control_file(raw, repo, "control_after_escape", event=True)
    for query in ("quasar_secret_token", "root bin bash nologin"):
        r = await raw.search(query, mode="lexical")
        assert all(not p.startswith("..") and "passwd" not in p for p in paths(r)), r
    assert secret.read_text() == SECRET
    status = await raw.status()
    assert status["folders"][0]["files"] == len(FIXTURE) + 1
    assert await raw.stop() == 0
    assert "outside the workspace folder" in raw.log()


async def test_links_created_while_running_are_not_followed(raw: Raw, repo):
    await found(raw, "ReverseString", "text/reverse.go")
    secret = outside_secret(repo)
    (repo / "net" / "leak.py").symlink_to(secret)
    (repo / "linked").symlink_to(secret.parent, target_is_directory=True)
    # The editor reports them too.
    raw.notify("workspace/didChangeWatchedFiles", {"changes": [
        {"uri": uri(repo) + "/net/leak.py", "type": 1},
        {"uri": uri(repo) + "/linked/secret.py", "type": 1},
    ]})
    # An editor buffer opened through a link holds the text it leads to.
    for name, text in (("leak.py", SECRET), ("ok_buffer.py", "def mongoose_buffer_ok():\n    pass\n")):
        raw.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri(repo) + f"/net/{name}", "languageId": "python", "version": 1, "text": text}})
    await found(raw, "mongoose_buffer_ok", "net/ok_buffer.py")
    await control_file(raw, repo, "control_after_links", event=False)
    r = await raw.search("quasar_secret_token", mode="lexical")
    assert not r["results"], r
    # A file replaced by a link leaves the index.
    target = repo / "text" / "reverse.go"
    target.unlink()
    target.symlink_to(secret)
    await poll(
        lambda: raw.search("ReverseString", mode="lexical"),
        lambda r: "text/reverse.go" not in paths(r),
        "the file replaced by a link to leave the index",
    )
    assert await raw.stop() == 0


async def test_watched_files_follow_discovery_rules(raw: Raw, repo):
    await found(raw, "ReverseString", "text/reverse.go")
    # A nested .gitignore (only the root's was honoured by the watcher), a build folder, a hidden file.
    (repo / "web" / ".gitignore").write_text("generated_*.ts\n")
    (repo / "web" / "generated_api.ts").write_text("export function walrusGeneratedApi() {}\n")
    (repo / "web" / "dist").mkdir()
    (repo / "web" / "dist" / "bundle.ts").write_text("export function walrusBundle() {}\n")
    (repo / "web" / ".cache.ts").write_text("export function walrusHidden() {}\n")
    await control_file(raw, repo, "control_after_rules", event=False)
    r = await raw.search("walrusGeneratedApi walrusBundle walrusHidden", mode="lexical")
    assert not r["results"], r
    status = await raw.status()
    assert status["folders"][0]["files"] == len(FIXTURE) + 1
    assert await raw.stop() == 0


# 3. A read-only server's unsaved edits ----------------------------------------------------------

ADDED = "\n\ndef narwhal_unsaved_helper(x):\n    return x + 1\n"


async def test_a_read_only_server_searches_its_own_buffers_and_hands_them_over(repo, index_base):
    first = await start_session(repo, index_base, embed=False)
    second = third = None
    try:
        await first.wait_indexed(embedded=False)
        second = await Raw.start(repo, index_base)
        status = await poll(second.status, lambda s: s.get("folders") and s["folders"][0]["files"] > 0,
                            "the second server to open the index")
        assert status["folders"][0]["writable"] is False
        rel = "config/loader.py"
        text = (repo / rel).read_text()
        doc = uri(repo / rel)
        second.notify("textDocument/didOpen", {"textDocument": {
            "uri": doc, "languageId": "python", "version": 1, "text": text}})
        lines = text.count("\n")
        second.notify("textDocument/didChange", {
            "textDocument": {"uri": doc, "version": 2},
            "contentChanges": [{"range": {"start": {"line": lines, "character": 0},
                                          "end": {"line": lines, "character": 0}},
                                "text": ADDED}],
        })
        r = await found(second, "narwhal_unsaved_helper", rel)
        best = r["results"][0]
        assert (best["path"], best["symbol"]) == (rel, "narwhal_unsaved_helper"), r
        assert best["uri"] == doc
        assert best["range"]["start"]["line"] == lines + 2
        # The rest of the file still answers from the buffer, the rest of the workspace from the index.
        r = await second.search("parse_config_file", mode="lexical")
        assert r["results"][0]["path"] == rel and r["results"][0]["range"]["start"]["line"] == 8, r
        assert (await second.search("ReverseString", mode="lexical"))["results"][0]["path"] == "text/reverse.go"
        # The writer never saw the other server's buffer.
        assert not (await first.search("narwhal_unsaved_helper", mode="lexical"))["results"]
        assert (repo / rel).read_text() == text

        # The writer exits: the second server takes over and writes its buffer into the index.
        assert await stop_session(first) == 0
        first = None
        await poll(second.status, lambda s: s["folders"][0]["writable"] is True,
                   "the second server to take over writing", timeout=POLL_TIMEOUT)
        third = await Raw.start(repo, index_base)
        r = await found(third, "narwhal_unsaved_helper", rel)
        assert r["results"][0]["range"]["start"]["line"] == lines + 2
        assert (await third.status())["folders"][0]["writable"] is False
    finally:
        for raw in (second, third):
            if raw is not None:
                await raw.close()
        if first is not None:
            await stop_session(first)


# 4. An index inside the workspace -------------------------------------------------------------------


async def test_an_index_inside_the_workspace_is_not_indexed_and_the_server_settles(repo):
    index_dir = repo / "sgindex"
    raw = await Raw.start(repo, repo.parent / "unused", indexDir=str(index_dir))
    try:
        await found(raw, "ReverseString", "text/reverse.go")
        assert any(index_dir.rglob("meta.json")), "the index lives inside the workspace"
        # Each commit rewrites the index's files; an edit makes one more.
        doc = uri(repo / "net/retry.rs")
        raw.notify("textDocument/didOpen", {"textDocument": {
            "uri": doc, "languageId": "rust", "version": 1,
            "text": "pub fn okapi_commit_marker() {}\n"}})
        await found(raw, "okapi_commit_marker", "net/retry.rs")
        status = await poll(raw.status, lambda s: s["folders"][0]["pendingFiles"] == 0,
                            "the server to settle")
        assert status["folders"][0]["files"] == len(FIXTURE), status
        assert status["folders"][0]["indexDir"].startswith(str(index_dir))
        r = await raw.search("segments opstamp schema tokenizer", mode="lexical")
        assert all(not p.startswith("sgindex/") for p in paths(r)), r
        assert await raw.stop() == 0
    finally:
        await raw.close()
