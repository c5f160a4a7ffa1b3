"""Checks editors/helix/languages.toml: it covers every language sg indexes, limits sg to the two features
it serves, and its server command starts the real sg past a wrong `sg` on PATH (or says what to install).
Helix itself is not run: these tests read the file as Helix would and run its command."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import tomllib

from conftest import REPO, SG_BIN

CONFIG = REPO / "editors" / "helix" / "languages.toml"
FEATURES = ["workspace-symbols", "workspace-command"]

# sg's languages (src/syntax.rs) by Helix's language names; `Text` is everything else.
HELIX_NAMES = {
    "Rust": ["rust"], "Python": ["python"], "JavaScript": ["javascript", "jsx"], "TypeScript": ["typescript"],
    "Tsx": ["tsx"], "Go": ["go"], "Java": ["java"], "C": ["c"], "Cpp": ["cpp"], "CSharp": ["c-sharp"],
    "Ruby": ["ruby"], "Php": ["php"], "Kotlin": ["kotlin"], "Scala": ["scala"], "Swift": ["swift"],
    "Elixir": ["elixir"], "Haskell": ["haskell"], "Lua": ["lua"], "Bash": ["bash"], "Zig": ["zig"],
    "Markdown": ["markdown"], "Json": ["json", "jsonc"], "Yaml": ["yaml"], "Toml": ["toml"], "Html": ["html"],
    "Css": ["css", "scss"], "Sql": ["sql"], "Xml": ["xml"], "Text": [],
}


def config() -> dict:
    with CONFIG.open("rb") as f:
        return tomllib.load(f)


def sg_languages() -> list[str]:
    src = (REPO / "src" / "syntax.rs").read_text()
    body = src[src.index("pub enum Language {"):]
    body = body[: body.index("\n}")]
    return re.findall(r"^\s{4}(\w+),", body, re.M)


def test_every_language_sg_indexes_is_configured():
    variants = sg_languages()
    assert len(variants) >= 20, variants
    assert sorted(HELIX_NAMES) == sorted(variants), "a language of src/syntax.rs has no Helix name here"
    configured = {lang["name"] for lang in config()["language"]}
    wanted = {name for names in HELIX_NAMES.values() for name in names}
    assert configured == wanted


def test_sg_comes_last_and_only_serves_symbols_and_commands():
    for lang in config()["language"]:
        servers = lang["language-servers"]
        entry = servers[-1]
        assert entry == {"name": "sg", "only-features": FEATURES}, lang["name"]
        assert all(isinstance(s, str) and s != "sg" for s in servers[:-1]), lang["name"]


def lsp_message(body: dict) -> bytes:
    data = json.dumps(body).encode()
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


def read_message(stream) -> dict:
    length = None
    while True:
        line = stream.readline()
        assert line, "the server closed its output"
        if line in (b"\r\n", b"\n"):
            break
        m = re.match(rb"Content-Length: (\d+)", line)
        if m:
            length = int(m.group(1))
    return json.loads(stream.read(length))


def server_env(tmp_path: pathlib.Path, path: list[pathlib.Path]) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "PATH": os.pathsep.join(map(str, path)), "HOME": str(home),
            "CARGO_HOME": str(home / ".cargo"), "SG_INDEX_DIR": str(tmp_path / "indexes"), "SG_LOG": "sg=warn"}


def server_command() -> list[str]:
    server = config()["language-server"]["sg"]
    return [server["command"], *server["args"]]


def impostor(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "impostor"
    d.mkdir(exist_ok=True)
    p = d / "sg"
    p.write_text('#!/bin/sh\necho "ast-grep 0.38.1"\n')
    p.chmod(0o755)
    return d


def test_server_command_starts_sg_past_an_impostor(tmp_path, repo):
    real = tmp_path / "bin"
    real.mkdir()
    (real / "sg").symlink_to(pathlib.Path(SG_BIN).resolve())
    path = [impostor(tmp_path), pathlib.Path("/usr/bin"), pathlib.Path("/bin"), real]
    options = {**config()["language-server"]["sg"]["config"], "embed": False}
    proc = subprocess.Popen(server_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=server_env(tmp_path, path), cwd=tmp_path)
    try:
        proc.stdin.write(lsp_message({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": repo.resolve().as_uri(), "capabilities": {},
            "initializationOptions": options}}))
        proc.stdin.flush()
        reply = read_message(proc.stdout)
        for m in [{"jsonrpc": "2.0", "method": "initialized", "params": {}},
                  {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}]:
            proc.stdin.write(lsp_message(m))
        proc.stdin.flush()
        while read_message(proc.stdout).get("id") != 2:
            pass
        proc.stdin.write(lsp_message({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert reply["result"]["serverInfo"]["name"] == "sg", reply
    caps = reply["result"]["capabilities"]
    assert caps["workspaceSymbolProvider"] and "sg.status" in caps["executeCommandProvider"]["commands"]


def test_server_command_says_what_to_install_without_sg(tmp_path):
    path = [impostor(tmp_path), pathlib.Path("/usr/bin"), pathlib.Path("/bin")]
    proc = subprocess.run(server_command(), input=b"", env=server_env(tmp_path, path), capture_output=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert "cargo install --path ." in proc.stderr.decode()
