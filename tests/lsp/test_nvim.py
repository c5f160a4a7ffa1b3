"""Runs the headless Neovim test of editors/neovim (tests/lsp/nvim_test.lua) against `sg lsp`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import REPO, SG_BIN


@pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim is not installed")
def test_neovim_plugin_searches_into_quickfix(repo, index_base):
    env = {
        **os.environ,
        "SG_BIN": SG_BIN,
        "SG_TEST_ROOT": str(repo.resolve()),
        "SG_INDEX_DIR": str(index_base),
    }
    proc = subprocess.run(
        ["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-c", "luafile tests/lsp/nvim_test.lua"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "ok: search into quickfix" in out and "ok: unsaved edit found" in out, out
