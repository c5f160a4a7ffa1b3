// Server resolution: which executable is tried, in which order, and which ones are refused.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';

import { candidates, check, checkMcp, identify, parseVersion, resolveServer } from '../src/server';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-vscode-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes an executable `sg` in `dir` that runs the given shell body. */
function fake(dir: string, body: string): string {
  const d = path.join(tmp, dir);
  fs.mkdirSync(d, { recursive: true });
  const p = path.join(d, 'sg');
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

const OURS = 'case "$1" in --version) echo "sg 0.1.0";; lsp) echo "Run the language server on stdin/stdout";; *) exit 2;; esac';
const ours = fake('ours', OURS);
const astGrep = fake('ast-grep', 'case "$1" in --version) echo "ast-grep 0.38.1";; *) exit 0;; esac');
const shadow = fake('shadow', 'echo "Usage: sg group [[-c] command]" >&2; exit 1');
const noLsp = fake('nolsp', 'case "$1" in --version) echo "sg 0.1.0";; *) echo "error: unrecognized subcommand" >&2; exit 2;; esac');
const withMcp = fake(
  'with-mcp',
  'case "$1" in --version) echo "sg 0.1.0";; lsp|mcp) echo "usage";; *) exit 2;; esac',
);
const home = path.join(tmp, 'home');
fs.mkdirSync(home);

describe('candidates', () => {
  it('uses the setting alone when it is set, with ~ expanded', () => {
    assert.deepEqual(candidates('~/bin/sg', { PATH: path.dirname(ours) }, home), [
      { path: path.join(home, 'bin/sg'), source: 'setting' },
    ]);
  });

  it('tries ~/.cargo/bin/sg first, then every sg on PATH in order, each once, skipping missing ones', () => {
    const cargoSg = fake('home/.cargo/bin', OURS);
    try {
      const link = path.join(tmp, 'link');
      fs.rmSync(link, { force: true });
      fs.symlinkSync(path.dirname(shadow), link);
      const PATH = [path.dirname(shadow), path.join(tmp, 'missing'), path.dirname(ours), path.dirname(shadow), link].join(':');
      assert.deepEqual(candidates(null, { PATH }, home), [
        { path: cargoSg, source: 'cargo' },
        { path: shadow, source: 'PATH' },
        { path: ours, source: 'PATH' },
      ]);
    } finally {
      fs.rmSync(path.join(home, '.cargo'), { recursive: true });
    }
  });

  it('honours CARGO_HOME', () => {
    const cargoSg = fake('cargo-home/bin', OURS);
    assert.deepEqual(candidates('', { PATH: '', CARGO_HOME: path.join(tmp, 'cargo-home') }, home), [
      { path: cargoSg, source: 'cargo' },
    ]);
  });
});

describe('parseVersion', () => {
  it('accepts only `sg <semver>` on the first line', () => {
    assert.equal(parseVersion('sg 0.1.0\n'), '0.1.0');
    assert.equal(parseVersion('sg 1.2.3-rc.1'), '1.2.3-rc.1');
    assert.equal(parseVersion('ast-grep 0.38.1'), undefined);
    assert.equal(parseVersion('sg-something 0.1.0'), undefined);
    assert.equal(parseVersion(''), undefined);
  });
});

describe('check', () => {
  it('accepts sg the code search server', async () => {
    assert.deepEqual(await check(ours), { ok: true, version: '0.1.0' });
  });

  it("refuses ast-grep's sg and names it", async () => {
    const r = await check(astGrep);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /it is ast-grep .*"ast-grep 0\.38\.1"/);
  });

  it("refuses shadow-utils' sg and names it", async () => {
    const r = await check(shadow);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /shadow-utils' sg/);
  });

  it('refuses an sg without the language server', async () => {
    const r = await check(noLsp);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /sg 0\.1\.0 without the language server/);
  });

  it('reports an executable that cannot be run', async () => {
    const r = await check(path.join(tmp, 'nowhere', 'sg'));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /cannot be run \(.*ENOENT/);
  });

  it('gives up on an executable that does not answer', async () => {
    const slow = fake('slow', 'exec sleep 5');
    const r = await check(slow, 200);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /no answer within 200 ms/);
  });

  it('accepts the real server when SG_BIN names it', { skip: !process.env.SG_BIN }, async () => {
    const r = await check(process.env.SG_BIN!);
    assert.equal(r.ok, true, JSON.stringify(r));
  });
});

describe('checkMcp', () => {
  it('accepts an sg whose `mcp --help` succeeds', async () => {
    assert.equal(await checkMcp(withMcp), undefined);
  });

  it('refuses an sg built without the MCP server, and says how to build it', async () => {
    assert.match((await checkMcp(ours)) ?? '', /ours\/sg has no MCP server \(`sg mcp --help` exited 2: build it with the default features\)/);
  });

  it('reports an executable that cannot be run', async () => {
    assert.match((await checkMcp(path.join(tmp, 'nowhere', 'sg'))) ?? '', /`sg mcp --help` failed: .*ENOENT/);
  });

  it('accepts the real server when SG_BIN names it', { skip: !process.env.SG_BIN }, async () => {
    assert.equal(await checkMcp(process.env.SG_BIN!), undefined);
  });
});

describe('identify', () => {
  it('names the known impostors only', () => {
    assert.equal(identify('ast-grep 0.38.1'), 'ast-grep');
    assert.match(identify("sg: group 'lsp' does not exist") ?? '', /shadow-utils/);
    assert.equal(identify('something else'), undefined);
  });
});

describe('resolveServer', () => {
  it('skips the wrong sg programs on PATH and picks ours', async () => {
    const PATH = [path.dirname(shadow), path.dirname(astGrep), path.dirname(ours)].join(':');
    const r = await resolveServer(null, { PATH }, home);
    assert.deepEqual(r, { ok: true, path: ours, version: '0.1.0', source: 'PATH' });
  });

  it('says what to install when there is no sg at all', async () => {
    const r = await resolveServer(undefined, { PATH: path.join(tmp, 'missing') }, home);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /sg was not found.*cargo install --path \./);
  });

  it('lists the refused programs and says what to install', async () => {
    const PATH = [path.dirname(shadow), path.dirname(astGrep)].join(':');
    const r = await resolveServer(undefined, { PATH }, home);
    assert.equal(r.ok, false);
    const msg = !r.ok ? r.message : '';
    assert.ok(msg.includes(shadow) && msg.includes(astGrep), msg);
    assert.match(msg, /cargo install --path \..*`sg\.path`/);
  });

  it('does not fall back when the setting names a wrong program', async () => {
    const r = await resolveServer(astGrep, { PATH: path.dirname(ours) }, home);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /^The `sg\.path` setting: .*ast-grep/);
  });
});
