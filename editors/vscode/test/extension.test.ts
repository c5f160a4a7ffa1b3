// The bundled extension (dist/extension.js) driven in plain Node with a stand-in for the `vscode` module
// (test-support/fake_vscode.ts) against the real server: activation, the status bar, "sg: Search" as you
// type and opening a result, the language-model tool, Show status, Reindex, the `sg mcp` server offered to
// agents (its definition, then that command run and spoken to over MCP), activation without the MCP or
// language-model API, and the error for a wrong `sg`. Needs SG_BIN (the sg binary); VS Code itself does
// not run here.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module = require('node:module');
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FakeApi, Recorder, fakeVscode } from '../test-support/fake_vscode';
import { McpStdioClient } from '../test-support/mcp_stdio';

const bundle = path.resolve(__dirname, '..', '..', 'dist', 'extension.js');
const sgBin = process.env.SG_BIN;

const FILES: Record<string, string> = {
  'config/loader.py': `import json


def parse_config(text):
    """Parse a JSON configuration string into a dictionary."""
    return json.loads(text)


def parse_config_file(path):
    """Read a configuration file from disk and parse it."""
    with open(path) as f:
        return parse_config(f.read())
`,
  'text/reverse.go': `package text

// ReverseString returns the characters of s in reverse order.
func ReverseString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
`,
};

/** Loads a fresh copy of the bundle with `vscode` replaced by `fake`. */
function loadExtension(fake: unknown): { activate(c: unknown): Promise<void>; deactivate(): Promise<void> } {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake : original.call(this, request, ...rest);
  };
  try {
    delete require.cache[bundle];
    return require(bundle);
  } finally {
    loader._load = original;
  }
}

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };

/** Writes FILES into a new workspace folder under `tmp`. */
function writeWorkspace(root: string): void {
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
}

/** The tools every `sg mcp` offers (docs/agents.md, "Tools"). */
const MCP_TOOLS = ['definition', 'outline', 'read', 'reindex', 'search', 'status'];

describe('extension against the real server', { skip: !sgBin && 'SG_BIN is not set' }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-vscode-ext-'));
  const root = path.join(tmp, 'repo');
  // The setting, which the environment must not win over (for `sg lsp` nor for `sg mcp`).
  const indexDir = path.join(tmp, 'indexes');
  let rec: Recorder;
  let ext: ReturnType<typeof loadExtension>;

  before(async () => {
    writeWorkspace(root);
    process.env.SG_INDEX_DIR = path.join(tmp, 'env-indexes');
    process.env.SG_LOG = 'sg=warn';
    const fake = fakeVscode(
      { 'sg.path': sgBin, 'sg.embed': false, 'sg.indexDir': indexDir, 'sg.exclude': ['**/*.txt'], 'sg.maxFileSize': 500000 },
      root,
    );
    rec = fake.rec;
    ext = loadExtension(fake.vscode);
    await ext.activate({ subscriptions: [] });
  });

  after(async () => {
    // Bounded: a failed start must not hold the test run.
    await Promise.race([ext?.deactivate(), new Promise((r) => setTimeout(r, 5000))]);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the index state in the status bar once the folder is indexed', async () => {
    await until('the status bar to show a complete lexical index', () => rec.statusItem.text === '$(search) sg (lexical)');
    assert.equal(rec.statusItem.command, 'sg.showStatus');
    assert.match(String(rec.statusItem.tooltip), /repo: 2 files, \d+ chunks, lexical only/);
  });

  it('searches as you type, shows symbol and path:line, and opens the match', async () => {
    await rec.commands.get('sg.find')!();
    const pick = rec.quickPicks.at(-1)!;
    assert.ok(pick.shown);
    pick.type('ReverseStr');
    pick.type('parse_config_file');
    await until('results', () => !pick.busy && pick.items.length > 0 && pick.items[0].label.includes('parse_config_file'));
    const first = pick.items[0];
    assert.equal(first.label, '$(symbol-function) parse_config_file');
    assert.equal(first.description, 'config/loader.py:9 · function');
    assert.equal(first.detail, 'def parse_config_file(path):');
    assert.ok(pick.items.every((i) => i.alwaysShow === true));
    assert.match(pick.title ?? '', /^sg: \d+ results? in \d+ ms/);
    pick.accept(first);
    const opened = await until('the result to open', () => rec.opened[0]);
    assert.ok(opened.uri.endsWith('/repo/config/loader.py'), opened.uri);
    assert.equal(opened.selection.start.line, 8);
  });

  it('answers the language-model tool with paths, lines and code', async () => {
    const tool = rec.tools.get('sg_search');
    assert.ok(tool, 'sg_search is not registered');
    const result = await tool.invoke({ input: { query: 'ReverseString', limit: 3 } }, token);
    const text: string = result.content[0].value;
    assert.match(text, /^\d+ results for "ReverseString", best first:/);
    assert.match(text, /1\. text\/reverse\.go:\d+-10 function ReverseString \(go\)\n```go\n/);
  });

  it('shows status and reindexes', async () => {
    await rec.commands.get('sg.showStatus')!();
    const info = rec.messages.find((m) => m.level === 'info');
    assert.match(info?.text ?? '', /repo: 2 files, \d+ chunks, lexical only/);
    await rec.commands.get('sg.reindexWorkspace')!();
    assert.ok(rec.messages.some((m) => m.level === 'status' && m.text === 'sg: reindexing in the background'));
  });

  it('offers sg mcp for the folder: the checked sg, --root and the settings as its options', async () => {
    const provider = rec.mcpProviders.get('sg.mcp');
    assert.ok(provider, 'no MCP server definition provider sg.mcp');
    assert.equal(typeof provider.onDidChangeMcpServerDefinitions, 'function');
    const defs = await provider.provideMcpServerDefinitions(token);
    assert.equal(defs.length, 1);
    const def = defs[0];
    assert.equal(def.constructor.name, 'McpStdioServerDefinition');
    assert.equal(def.label, 'sg');
    assert.equal(def.command, sgBin);
    assert.deepEqual(def.args, [
      'mcp',
      '--root',
      root,
      '--cache-dir',
      path.join(indexDir, 'embeddings'),
      '--no-embed',
      '--exclude=**/*.txt',
      '--max-file-size',
      '500000',
    ]);
    assert.deepEqual(def.env, { SG_INDEX_DIR: indexDir });
    assert.equal(def.cwd.fsPath, root);
    assert.match(def.version, /^\d+\.\d+\.\d+/);
  });

  it('the sg mcp it defines answers MCP over stdio with sg\'s tools, on the language server\'s index', async () => {
    const [def] = await rec.mcpProviders.get('sg.mcp').provideMcpServerDefinitions(token);
    const mcp = new McpStdioClient(def.command, def.args, def.cwd.fsPath, def.env);
    try {
      const init = await mcp.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'sg-vscode-test', version: '0' },
      });
      assert.equal(init.serverInfo.name, 'sg');
      assert.ok(init.capabilities.tools, 'the server offers no tools capability');
      mcp.notify('notifications/initialized');
      const listed = await mcp.request('tools/list', {});
      const names: string[] = listed.tools.map((t: { name: string }) => t.name);
      for (const name of MCP_TOOLS) {
        assert.ok(names.includes(name), `tool ${name} missing from ${names}`);
      }
      // It serves the folder from the index the editor's `sg lsp` writes (so it only reads it).
      // The language client registers the server's `sg.status` command.
      const lspStatus = await rec.commands.get('sg.status')!();
      const lsp = lspStatus.folders[0];
      const called = await mcp.request('tools/call', { name: 'status', arguments: {} });
      assert.notEqual(called.isError, true, JSON.stringify(called));
      const st = called.structuredContent;
      assert.equal(st.root, root);
      assert.equal(st.index_dir, lsp.indexDir);
      assert.ok(st.index_dir.startsWith(path.join(indexDir, 'indexes') + path.sep), st.index_dir);
      assert.equal(st.writable, false);
      assert.equal(st.model, 'none');
      assert.equal(await mcp.close(), 0);
    } finally {
      mcp.kill();
    }
  });
});

describe('extension without a usable sg', () => {
  it('says which program it refused and what to install', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-vscode-ext-'));
    const impostor = path.join(tmp, 'sg');
    fs.writeFileSync(impostor, '#!/bin/sh\necho "ast-grep 0.38.1"\n', { mode: 0o755 });
    const { vscode, rec } = fakeVscode({ 'sg.path': impostor }, tmp);
    const ext = loadExtension(vscode);
    try {
      await ext.activate({ subscriptions: [] });
      const err = await until('the error', () => rec.messages.find((m) => m.level === 'error'));
      assert.match(err.text, /^The `sg\.path` setting: .*\/sg is not sg the code search server: it is ast-grep/);
      assert.match(err.text, /cargo install --path \./);
      assert.equal(rec.statusItem.text, '$(error) sg: not installed');
      await rec.commands.get('sg.find')!();
      assert.match(rec.messages.at(-1)!.text, /the server is not running/);
    } finally {
      await ext.deactivate();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

for (const [what, api] of [
  ['without the MCP server definition API (VS Code before 1.101)', { mcp: false }],
  ['without vscode.lm (VS Code before 1.90)', { lm: false }],
] as [string, FakeApi][]) {
  describe(`extension ${what}`, { skip: !sgBin && 'SG_BIN is not set' }, () => {
    it('activates, starts the language server and searches; offers no MCP server', async () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-vscode-ext-'));
      const root = path.join(tmp, 'repo');
      writeWorkspace(root);
      const { vscode, rec } = fakeVscode({ 'sg.path': sgBin, 'sg.embed': false, 'sg.indexDir': path.join(tmp, 'indexes') }, root, api);
      const ext = loadExtension(vscode);
      try {
        await ext.activate({ subscriptions: [] });
        await until('the status bar to show a complete lexical index', () => rec.statusItem.text === '$(search) sg (lexical)');
        assert.equal(rec.mcpProviders.size, 0);
        assert.deepEqual([...rec.tools.keys()], api.lm === false ? [] : ['sg_search']);
        await rec.commands.get('sg.find')!();
        const pick = rec.quickPicks.at(-1)!;
        pick.type('ReverseString');
        await until('results', () => !pick.busy && pick.items.length > 0);
        assert.equal(pick.items[0].label, '$(symbol-function) ReverseString');
        assert.ok(!rec.messages.some((m) => m.level === 'error'), JSON.stringify(rec.messages));
      } finally {
        await Promise.race([ext.deactivate(), new Promise((r) => setTimeout(r, 5000))]);
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
}
