"""Runs the headless Neovim tests of editors/neovim (tests/lsp/nvim_test.lua) against `sg lsp`."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import REPO, SG_BIN

pytestmark = pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim is not installed")


def run_nvim(case: str, repo: pathlib.Path, index_base: pathlib.Path, **env: str) -> str:
    full_env = {
        **os.environ,
        "SG_BIN": SG_BIN,
        "SG_TEST_ROOT": str(repo.resolve()),
        "SG_INDEX_DIR": str(index_base),
        "SG_TEST_CASE": case,
        "SG_LOG": "sg=warn",
        **env,
    }
    proc = subprocess.run(
        ["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-c", "luafile tests/lsp/nvim_test.lua"],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    return out


def fake_bin(folder: pathlib.Path, script: str) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "sg"
    p.write_text("#!/bin/sh\n" + script + "\n")
    p.chmod(0o755)
    return p


def test_neovim_plugin_searches_picks_and_finds_unsaved_edits(repo, index_base):
    out = run_nvim("explicit", repo, index_base)
    for check in [
        "one client per root",
        "search into quickfix",
        "picker opens the result",
        "picker fills the quickfix list",
        "workspace symbols",
        "status",
        "index being built",
        "unsaved edit found",
    ]:
        assert f"ok: {check}" in out, out


def test_neovim_default_setup_finds_sg_past_an_impostor_and_searches_by_meaning(repo, index_base, tmp_path):
    # The first `sg` on PATH is ast-grep's; the real one comes later. HOME has no ~/.cargo/bin/sg.
    impostor = fake_bin(tmp_path / "impostor", 'echo "ast-grep 0.38.1"')
    real = tmp_path / "bin" / "sg"
    real.parent.mkdir()
    real.symlink_to(pathlib.Path(SG_BIN).resolve())
    home = tmp_path / "home"
    home.mkdir()
    path = os.pathsep.join([str(impostor.parent), os.environ.get("PATH", ""), str(real.parent)])
    out = run_nvim(
        "default", repo, index_base,
        PATH=path, HOME=str(home), CARGO_HOME=str(home / ".cargo"), SG_TEST_EXPECT_BIN=str(real),
    )
    assert "ok: default setup found" in out and "ok: progress notified" in out, out
    assert "ok: search by meaning" in out, out


def test_neovim_says_what_to_install_when_sg_is_missing_or_wrong(repo, index_base, tmp_path):
    impostor = fake_bin(tmp_path / "impostor", 'echo "ast-grep 0.38.1"')
    home = tmp_path / "home"
    home.mkdir()
    # Only the impostor and the system folders (where Debian's /usr/bin/sg is shadow-utils' newgrp).
    path = os.pathsep.join([str(impostor.parent), "/usr/bin", "/bin"])
    out = run_nvim(
        "missing", repo, index_base,
        PATH=path, HOME=str(home), CARGO_HOME=str(home / ".cargo"), SG_TEST_IMPOSTOR=str(impostor),
    )
    assert "ok: missing server reported" in out, out


def test_neovim_telescope_picker_searches_live_with_a_stand_in(repo, index_base):
    # A stand-in `telescope` written by nvim_test.lua, not real Telescope (not installed here).
    out = run_nvim("telescope", repo, index_base)
    for check in [
        "live picker opened with the query",
        "live search by meaning",
        "live search by name, sg order kept",
        "choosing a live result opens it",
        "empty live picker, quickfix unchanged",
        "static picker without new_dynamic",
    ]:
        assert f"ok: {check}" in out, out
