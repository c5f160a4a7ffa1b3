"""Shared helpers of the language-server tests: a fixture repository, a server launcher built on
pytest-lsp, and bounded polling."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
import time
import typing

import pytest
from lsprotocol import types
from pygls.protocol import JsonRPCResponseMessage, default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import register_lsp_features

REPO = pathlib.Path(__file__).resolve().parents[2]
SG_BIN = os.environ.get("SG_BIN", str(REPO / "target" / "debug" / "sg"))

# How long asynchronous indexing may take before a poll gives up.
POLL_TIMEOUT = 30.0

# A small multi-language repository. Line numbers matter: tests assert exact ranges.
FIXTURE: dict[str, str] = {
    "config/loader.py": '''\
import json


def parse_config(text):
    """Parse a JSON configuration string into a dictionary."""
    return json.loads(text)


def parse_config_file(path):
    """Read a configuration file from disk and parse it."""
    with open(path) as f:
        return parse_config(f.read())


def reparse_config(old, text):
    """Parse the configuration again and merge it over the old one."""
    merged = dict(old)
    merged.update(parse_config(text))
    return merged
''',
    "net/retry.rs": '''\
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
''',
    "web/cart.ts": '''\
export interface Item {
  price: number;
  quantity: number;
}

export function computeCartTotal(items: Item[], taxRate: number): number {
  const subtotal = items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  return subtotal * (1 + taxRate);
}
''',
    "text/reverse.go": '''\
package text

// ReverseString returns the characters of s in reverse order.
func ReverseString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
''',
    "alpha/shapes.py": '''\
import math


def polygon_perimeter_alpha(sides, length):
    """Perimeter of a regular polygon with the given number of sides."""
    return sides * length
''',
    "beta/shapes.py": '''\
import math


def polygon_perimeter_beta(sides, length):
    """Perimeter of a regular polygon with the given number of sides."""
    return sides * length
''',
    # One definition just under the largest chunk (1500 bytes): it stays whole, and a function appended
    # to this file gets a chunk of its own (the two together exceed the size small chunks are packed to).
    "report/render.py": '''\
def render_sales_report(rows, title, currency="EUR", width=72):
    """Render monthly sales rows as a plain-text report with a header, one line per region,
    subtotals per quarter and a grand total at the bottom. Amounts are rounded to cents and
    right-aligned; regions with no sales are listed with a dash so that gaps stand out."""
    lines = []
    lines.append(title.center(width))
    lines.append("=" * width)
    header = f"{'region':<20}{'q1':>12}{'q2':>12}{'q3':>12}{'q4':>12}"
    lines.append(header)
    lines.append("-" * width)
    totals = [0.0, 0.0, 0.0, 0.0]
    for row in sorted(rows, key=lambda r: r["region"]):
        cells = []
        for q in range(4):
            amount = row.get("quarters", [None] * 4)[q]
            if amount is None:
                cells.append(f"{'-':>12}")
                continue
            totals[q] += amount
            cells.append(f"{amount:>12.2f}")
        lines.append(f"{row['region']:<20}" + "".join(cells))
    lines.append("-" * width)
    lines.append(f"{'total':<20}" + "".join(f"{t:>12.2f}" for t in totals))
    grand = sum(totals)
    lines.append(f"{'grand total (' + currency + ')':<20}{grand:>48.2f}")
    counted = [r for r in rows if any(a is not None for a in r.get("quarters", []))]
    if counted:
        average = grand / len(counted)
        lines.append(f"{'average per region':<20}{average:>48.2f}")
    lines.append("=" * width)
    return "\\n".join(lines)
''',
    "docs/notes.md": '''\
# Notes

The loader reads configuration files; the cart computes totals.
''',
}


def write_fixture(root: pathlib.Path) -> pathlib.Path:
    for rel, text in FIXTURE.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def uri(path: pathlib.Path) -> str:
    return path.resolve().as_uri()


def _raw_converter():
    """pygls turns the results of custom requests into namedtuples; keep them as plain JSON."""
    converter = default_converter()
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))
    return converter


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=_raw_converter)
    register_lsp_features(client)
    return client


class Session:
    """A running `sg lsp` process and the client driving it."""

    def __init__(self, client: LanguageClient, root: pathlib.Path):
        self.client = client
        self.root = root

    @property
    def process(self) -> asyncio.subprocess.Process:
        server = self.client._server
        assert server is not None
        return server

    async def request(self, method: str, params: typing.Any) -> typing.Any:
        return await asyncio.wait_for(
            self.client.protocol.send_request_async(method, params), POLL_TIMEOUT
        )

    async def search(self, query: str, **params: typing.Any) -> dict:
        return await self.request("sg/search", {"query": query, **params})

    async def command(self, command: str, *arguments: typing.Any) -> typing.Any:
        return await asyncio.wait_for(
            self.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=list(arguments))
            ),
            POLL_TIMEOUT,
        )

    async def status(self) -> dict:
        return await self.command("sg.status")

    async def wait_indexed(self, embedded: bool) -> dict:
        """Polls `sg.status` until every folder is scanned, nothing is pending, and (when `embedded`)
        every chunk has a vector."""

        def done(s: dict) -> bool:
            folders = s.get("folders", [])
            return bool(folders) and all(
                f.get("files", 0) > 0
                and f.get("pendingFiles", 1) == 0
                and (not embedded or f.get("embedded") == f.get("chunks"))
                and f.get("pendingEmbeddings") == 0
                for f in folders
            )

        return await poll(self.status, done, "the index to be ready")

    def open(self, rel: str, text: str | None = None, language: str = "python") -> str:
        path = self.root / rel
        doc_uri = uri(path)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=doc_uri,
                    language_id=language,
                    version=1,
                    text=path.read_text() if text is None else text,
                )
            )
        )
        return doc_uri


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


def client_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            workspace_folders=True,
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=False
            ),
        ),
    )


async def start_session(
    root: pathlib.Path, index_base: pathlib.Path, embed: bool = True, **options: typing.Any
) -> Session:
    if not pathlib.Path(SG_BIN).is_file():
        pytest.fail(f"sg binary not found at {SG_BIN}: run `cargo build` or set SG_BIN")
    env = {**os.environ, "SG_INDEX_DIR": str(index_base)}
    env.setdefault("SG_LOG", "sg=warn")
    config = ClientServerConfig(
        server_command=[SG_BIN, "lsp"], server_env=env, client_factory=make_client
    )
    client = await config.start()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(),
            root_uri=uri(root),
            workspace_folders=[types.WorkspaceFolder(uri=uri(root), name=root.name)],
            initialization_options={"embed": embed, **options},
        )
    )
    return Session(client, root)


async def stop_session(session: Session) -> int:
    """shutdown + exit; returns the server's exit code."""
    client = session.client
    if client._server is not None and client._server.returncode is None:
        await asyncio.wait_for(client.shutdown_session(), POLL_TIMEOUT)
    code = await asyncio.wait_for(session.process.wait(), POLL_TIMEOUT)
    await client.stop()
    return code


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_fixture(tmp_path / "repo")


@pytest.fixture
def index_base(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "indexes"
    d.mkdir()
    return d


async def _session(repo, index_base, embed):
    s = await start_session(repo, index_base, embed=embed)
    try:
        yield s
    finally:
        if s.client._server is not None and s.client._server.returncode is None:
            try:
                await stop_session(s)
            except Exception as e:  # a failed test must not hide behind a teardown error
                print(f"teardown: {e}", file=sys.stderr)
                s.client._server.kill()
                await s.client.stop()
        else:
            await s.client.stop()


@pytest.fixture
async def lexical(repo, index_base):
    """A lexical-only server (fast: no model)."""
    async for s in _session(repo, index_base, embed=False):
        yield s


@pytest.fixture
async def semantic(repo, index_base):
    """A server with the shipped embedding model."""
    async for s in _session(repo, index_base, embed=True):
        yield s
