// The `sg mcp` servers offered to VS Code's agents: one per folder, with the settings as `sg mcp`'s options,
// and each option one that `sg mcp` (src/mcp/mod.rs, src/setup.rs) really takes.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { MCP_PROVIDER_ID, mcpOptions, mcpServerSpecs } from '../src/mcp';
import { SERVER_SETTINGS, serverSettings } from '../src/settings';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const exe = { path: '/opt/sg/bin/sg', version: '0.3.1' };

/** The long options clap derives from the fields of `McpArgs` and the `CommonArgs` it flattens. */
function sgMcpOptions(): Set<string> {
  const out = new Set<string>();
  for (const [file, struct] of [
    ['src/mcp/mod.rs', 'pub struct McpArgs'],
    ['src/setup.rs', 'pub struct CommonArgs'],
  ]) {
    const src = fs.readFileSync(path.join(repo, file), 'utf8');
    const start = src.indexOf(struct);
    assert.ok(start >= 0, `${struct} not found in ${file}`);
    const body = src.slice(start, src.indexOf('\n}\n', start));
    for (const m of body.matchAll(/pub (\w+): /g)) {
      out.add('--' + m[1].replace(/_/g, '-'));
    }
    for (const m of body.matchAll(/long = "([\w-]+)"/g)) {
      out.add('--' + m[1]);
    }
  }
  return out;
}

describe('mcpOptions', () => {
  it('passes nothing when every setting is unset (sg decides)', () => {
    const unset = serverSettings(() => undefined);
    assert.deepEqual(mcpOptions(unset), { args: [], env: {} });
    assert.deepEqual(mcpOptions(serverSettings((k) => (k === 'embed' ? true : k === 'exclude' ? [] : ''))), { args: [], env: {} });
  });

  it('maps indexDir to $SG_INDEX_DIR and the cache beside it, and the others to their options', () => {
    const r = mcpOptions({
      indexDir: '/data/sg',
      modelPath: '/models/code',
      embed: false,
      exclude: ['gen/**', '-odd'],
      maxFileSize: 2000,
      limit: 25,
    });
    assert.deepEqual(r.env, { SG_INDEX_DIR: '/data/sg' });
    assert.deepEqual(r.args, [
      '--cache-dir',
      path.join('/data/sg', 'embeddings'),
      '--model-path',
      '/models/code',
      '--no-embed',
      '--exclude=gen/**',
      '--exclude=-odd',
      '--max-file-size',
      '2000',
    ]);
  });

  it('uses only options sg mcp has (parsed from its clap structs)', () => {
    const known = sgMcpOptions();
    for (const o of ['--root', '--index-dir', '--no-embed', '--exclude']) {
      assert.ok(known.has(o), `parser missed ${o}: ${[...known]}`);
    }
    const all = mcpOptions({ indexDir: '/i', modelPath: '/m', embed: false, exclude: ['x'], maxFileSize: 1 }).args;
    for (const a of all.filter((a) => a.startsWith('--'))) {
      const name = a.replace(/=.*$/, '');
      assert.ok(known.has(name), `sg mcp has no ${name}`);
    }
  });

  it('handles every server setting (limit on purpose: each MCP search says its own)', () => {
    const mapped = ['indexDir', 'modelPath', 'embed', 'exclude', 'maxFileSize'];
    assert.deepEqual([...SERVER_SETTINGS].filter((s) => !mapped.includes(s)), ['limit']);
  });
});

describe('mcpServerSpecs', () => {
  it('gives one sg mcp --root per folder, run in it, with the checked executable and its version', () => {
    const specs = mcpServerSpecs([{ name: 'app', fsPath: '/w/app' }], exe, { embed: false });
    assert.deepEqual(specs, [
      { label: 'sg', command: '/opt/sg/bin/sg', args: ['mcp', '--root', '/w/app', '--no-embed'], env: {}, cwd: '/w/app', version: '0.3.1' },
    ]);
  });

  it('names each folder in a multi-root workspace, by path when two share a name', () => {
    const specs = mcpServerSpecs(
      [
        { name: 'api', fsPath: '/w/api' },
        { name: 'web', fsPath: '/a/web' },
        { name: 'web', fsPath: '/b/web' },
      ],
      exe,
      { indexDir: '/i' },
    );
    assert.deepEqual(
      specs.map((s) => [s.label, s.args.slice(0, 3), s.env]),
      [
        ['sg: api', ['mcp', '--root', '/w/api'], { SG_INDEX_DIR: '/i' }],
        ['sg: /a/web', ['mcp', '--root', '/a/web'], { SG_INDEX_DIR: '/i' }],
        ['sg: /b/web', ['mcp', '--root', '/b/web'], { SG_INDEX_DIR: '/i' }],
      ],
    );
  });

  it('offers nothing without a folder', () => {
    assert.deepEqual(mcpServerSpecs([], exe, {}), []);
  });

  it('has the id package.json contributes', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.deepEqual(
      pkg.contributes.mcpServerDefinitionProviders.map((p: { id: string }) => p.id),
      [MCP_PROVIDER_ID],
    );
  });
});
