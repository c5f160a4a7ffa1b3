"""Shared helpers of the MCP server tests: a fixture repository, a session with the official MCP client
over stdio, a minimal language-server client, and bounded polling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import time
import typing

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

REPO = pathlib.Path(__file__).resolve().parents[2]
SG_BIN = os.environ.get("SG_BIN", str(REPO / "target" / "debug" / "sg"))

# How long asynchronous indexing may take before a poll gives up.
POLL_TIMEOUT = 30.0

# A small multi-language repository. Line numbers matter: tests assert exact ranges.
FIXTURE: dict[str, str] = {
    "net/retry.rs": """\
use std::time::Duration;

/// Retries a failed HTTP request with exponential backoff.
pub fn retry_with_backoff<F: FnMut() -> Result<String, String>>(mut send: F, attempts: u32) -> Result<String, String> {
    let mut delay = Duration::from_millis(100);
    let mut last = Err(String::from("no attempt"));
    for _ in 0..attempts {
        last = send();
        if last.is_ok() {
            return last;
        }
        std::thread::sleep(delay);
        delay *= 2;
    }
    last
}
""",
    "net/server.rs": """\
pub struct Server {
    port: u16,
}

impl Server {
    pub fn new(port: u16) -> Self {
        Server { port }
    }

    /// Answers one request with the port it came in on.
    pub fn handle(&self, request: &str) -> String {
        format!("{}:{}", self.port, request)
    }
}
""",
    "client/session.py": '''\
import json


class Client:
    """A client of the server."""

    def __init__(self, host):
        self.host = host

    def handle(self, reply):
        """Decode one reply."""
        return json.loads(reply)


def parse_config(text):
    """Parse a JSON configuration string into a dictionary."""
    return json.loads(text)
''',
    "web/cart.ts": """\
export interface Item {
  price: number;
  quantity: number;
}

export function computeCartTotal(items: Item[], taxRate: number): number {
  const subtotal = items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  return subtotal * (1 + taxRate);
}
""",
    "text/reverse.go": """\
package text

// ReverseString returns the characters of s in reverse order.
func ReverseString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
""",
    "report/render.py": "def render_sales_report(rows, title):\n"
    '    """Render monthly sales rows as a plain-text report."""\n'
    "    lines = [title]\n"
    + "".join(f"    lines.append(str(rows[{i}]))  # region row {i}\n" for i in range(60))
    + '    lines.append("grand total")\n'
    "    return lines\n",
    "docs/notes.md": """\
# Notes

The loader reads configuration files; the cart computes totals.
""",
}


def write_fixture(root: pathlib.Path) -> pathlib.Path:
    for rel, text in FIXTURE.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    # The root of a workspace, as git marks it.
    (root / ".git").mkdir(exist_ok=True)
    return root


def server_env(index_base: pathlib.Path) -> dict[str, str]:
    return {
        "SG_INDEX_DIR": str(index_base),
        "SG_CACHE_DIR": str(index_base / "embeddings"),
        "SG_LOG": os.environ.get("SG_TEST_LOG", "sg=warn"),
    }


class Mcp:
    """A running `sg mcp` and the official client's session with it."""

    def __init__(self, session: ClientSession, root: pathlib.Path):
        self.session = session
        self.root = root

    async def call(self, tool: str, **arguments: typing.Any):
        return await asyncio.wait_for(self.session.call_tool(tool, arguments), POLL_TIMEOUT)

    async def ok(self, tool: str, **arguments: typing.Any) -> dict:
        """Calls a tool that must succeed; returns its structured content."""
        r = await self.call(tool, **arguments)
        assert not r.is_error, f"{tool}({arguments}) failed: {text_of(r)}"
        assert r.structured_content is not None, text_of(r)
        return r.structured_content

    async def error(self, tool: str, **arguments: typing.Any) -> str:
        """Calls a tool that must answer with a tool error; returns its message."""
        r = await self.call(tool, **arguments)
        assert r.is_error, f"{tool}({arguments}) should have failed: {text_of(r)}"
        return text_of(r)


def text_of(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


@contextlib.asynccontextmanager
async def mcp_session(root: pathlib.Path | None, index_base: pathlib.Path, *extra: str, cwd=None, **kwargs):
    if not pathlib.Path(SG_BIN).is_file():
        pytest.fail(f"sg binary not found at {SG_BIN}: run `cargo build` or set SG_BIN")
    args = ["mcp", *(["--root", str(root)] if root else []), *extra]
    params = StdioServerParameters(command=SG_BIN, args=args, env=server_env(index_base), cwd=cwd)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, **kwargs) as session:
            await asyncio.wait_for(session.initialize(), POLL_TIMEOUT)
            yield Mcp(session, root)


async def poll(fetch, ok, what: str, timeout: float = POLL_TIMEOUT, interval: float = 0.05):
    """Calls `fetch` until `ok(result)` holds, for at most `timeout` seconds; returns the last result."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = await fetch()
        if ok(last):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(interval)


class Lsp:
    """The least of a language-server client: framed JSON-RPC requests over the server's stdio."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.next_id = 0

    async def _send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.proc.stdin.drain()

    async def _read(self) -> dict:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                raise EOFError("the language server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        return json.loads(await self.proc.stdout.readexactly(length))

    async def notify(self, method: str, params: typing.Any) -> None:
        await self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: typing.Any) -> typing.Any:
        self.next_id += 1
        rid = self.next_id
        await self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})

        async def answer():
            while True:
                msg = await self._read()
                if msg.get("id") == rid and "method" not in msg:
                    assert "error" not in msg, msg["error"]
                    return msg.get("result")
                if "method" in msg and "id" in msg:
                    # A request from the server (progress tokens...): accept it.
                    await self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})

        return await asyncio.wait_for(answer(), POLL_TIMEOUT)


@contextlib.asynccontextmanager
async def lsp_session(root: pathlib.Path, index_base: pathlib.Path):
    proc = await asyncio.create_subprocess_exec(
        SG_BIN,
        "lsp",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, **server_env(index_base)},
    )
    lsp = Lsp(proc)
    try:
        uri = root.resolve().as_uri()
        await lsp.request(
            "initialize",
            {
                "processId": None,
                "rootUri": uri,
                "capabilities": {},
                "workspaceFolders": [{"uri": uri, "name": root.name}],
                "initializationOptions": {"embed": False},
            },
        )
        await lsp.notify("initialized", {})
        yield lsp
    finally:
        with contextlib.suppress(Exception):
            await lsp.request("shutdown", None)
            await lsp.notify("exit", None)
            await asyncio.wait_for(proc.wait(), POLL_TIMEOUT)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_fixture(tmp_path / "repo")


@pytest.fixture
def index_base(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "indexes"
    d.mkdir()
    return d


async def held(cm):
    """Enters the async context manager `cm` in a task of its own and yields what it gives: the client's
    task groups must be entered and left by one task, and a fixture's set-up and tear-down are not."""
    stop = asyncio.Event()
    ready: asyncio.Future = asyncio.get_running_loop().create_future()

    async def hold():
        async with cm as value:
            ready.set_result(value)
            await stop.wait()

    task = asyncio.create_task(hold())
    await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        await task  # raises what went wrong
        raise AssertionError("the session ended before it started")
    try:
        yield ready.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, POLL_TIMEOUT)


@pytest.fixture
async def lexical(repo, index_base):
    """An MCP server on the fixture without embeddings (fast: no model)."""
    async for s in held(mcp_session(repo, index_base, "--no-embed")):
        yield s
