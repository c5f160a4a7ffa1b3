// The extension's settings match the server's: the keys `Settings::apply` (src/lsp/ext.rs) accepts, the
// settings table of docs/protocol.md, and package.json's `sg.*` settings.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { EXTENSION_SETTINGS, RESTART_SETTINGS, SERVER_SETTINGS, serverSettings } from '../src/settings';

const ext = path.resolve(__dirname, '..', '..');
const repo = path.resolve(ext, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
const properties: Record<string, { type: string | string[]; default: unknown }> = pkg.contributes.configuration.properties;

/** The keys of the `match k.as_str()` arms of `Settings::apply`, which sets a field for each. */
function rustSettingKeys(): string[] {
  const src = fs.readFileSync(path.join(repo, 'src', 'lsp', 'ext.rs'), 'utf8');
  const start = src.indexOf('pub fn apply(');
  assert.ok(start >= 0, 'Settings::apply not found in src/lsp/ext.rs');
  const body = src.slice(start, src.indexOf('\n    }\n', start));
  const keys = new Set<string>();
  for (const m of body.matchAll(/"(\w+)"\s*=>\s*\{?\s*next\./g)) {
    keys.add(m[1]);
  }
  return [...keys].sort();
}

/** The rows of the settings table of docs/protocol.md: key -> [type, default]. */
function protocolTable(): Map<string, { type: string; default: string }> {
  const doc = fs.readFileSync(path.join(repo, 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Settings'), doc.indexOf('\n## ', doc.indexOf('## Settings') + 1));
  const rows = new Map<string, { type: string; default: string }>();
  for (const m of section.matchAll(/^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|/gm)) {
    rows.set(m[1], { type: m[2].trim(), default: m[3].trim() });
  }
  return rows;
}

const contributed = Object.keys(properties)
  .map((k) => k.replace(/^sg\./, ''))
  .filter((k) => !(EXTENSION_SETTINGS as readonly string[]).includes(k))
  .sort();

describe('settings', () => {
  it('the server accepts exactly the settings the extension sends', () => {
    const rust = rustSettingKeys();
    assert.ok(rust.length >= 6, `too few keys parsed: ${rust}`);
    assert.deepEqual([...SERVER_SETTINGS].sort(), rust);
  });

  it('package.json contributes exactly the server settings and the extension own ones', () => {
    assert.deepEqual(contributed, [...SERVER_SETTINGS].sort());
    for (const k of EXTENSION_SETTINGS) {
      assert.ok(properties[`sg.${k}`], `sg.${k} missing`);
    }
    for (const k of RESTART_SETTINGS) {
      assert.ok(properties[`sg.${k}`], `restart setting sg.${k} is not contributed`);
    }
  });

  it('docs/protocol.md documents the same settings, with the types package.json declares', () => {
    const table = protocolTable();
    assert.deepEqual([...table.keys()].sort(), [...SERVER_SETTINGS].sort());
    const want: Record<string, string> = { string: 'string', boolean: 'boolean', 'string[]': 'array' };
    for (const [key, row] of table) {
      const declared = ([] as string[]).concat(properties[`sg.${key}`].type).filter((t) => t !== 'null');
      const type = row.type.startsWith('integer') ? 'integer' : want[row.type];
      assert.deepEqual(declared, [type], `sg.${key}: protocol says ${row.type}`);
    }
  });

  it('package.json defaults are the server defaults (unset paths: the server decides)', () => {
    const table = protocolTable();
    for (const [key, row] of table) {
      const d = properties[`sg.${key}`].default;
      if (d === null) {
        assert.ok(row.default.includes('$SG_'), `sg.${key} unset but the server default is ${row.default}`);
      } else {
        assert.equal(`\`${JSON.stringify(d)}\``, row.default.replace(/\s.*$/, ''), `sg.${key}`);
      }
    }
  });

  it('unset values are sent as null (the server default), set ones as they are', () => {
    const values: Record<string, unknown> = { indexDir: '', modelPath: '/m', embed: false, exclude: ['gen/**'], limit: 20 };
    assert.deepEqual(
      serverSettings((k) => values[k]),
      { indexDir: null, modelPath: '/m', embed: false, exclude: ['gen/**'], maxFileSize: null, limit: 20 },
    );
  });
});
