// The wire types the extension uses (src/lsp_ext.ts) have the field names docs/protocol.md gives: the
// `sg/search` params table and JSON example, `SearchContextParams`, `FolderStatus` and the
// `workspace/executeCommand` table (`sg.status`, `sg.reindex`), and the server's own types
// (src/lsp/ext.rs, the `sg.status` answer in src/lsp/mod.rs). A field renamed on any side fails here.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ts from 'typescript';

import { SEARCH_METHOD } from '../src/lsp_ext';

const ext = path.resolve(__dirname, '..', '..');
const repo = path.resolve(ext, '..', '..');
const doc = fs.readFileSync(path.join(repo, 'docs', 'protocol.md'), 'utf8');
const extensionSource = fs.readFileSync(path.join(ext, 'src', 'extension.ts'), 'utf8');
const rustExt = fs.readFileSync(path.join(repo, 'src', 'lsp', 'ext.rs'), 'utf8');
const rustServer = fs.readFileSync(path.join(repo, 'src', 'lsp', 'mod.rs'), 'utf8');

/** The JSON field names of `pub struct name` in src/lsp/ext.rs (all `rename_all = "camelCase"`). */
function rustFields(name: string): string[] {
  const start = rustExt.indexOf(`pub struct ${name} {`);
  assert.ok(start >= 0, `pub struct ${name} not found in src/lsp/ext.rs`);
  const attrs = rustExt.slice(rustExt.lastIndexOf('#[derive', start), start);
  assert.match(attrs, /rename_all = "camelCase"/, `${name} is not camelCase on the wire`);
  const body = rustExt.slice(start, rustExt.indexOf('\n}\n', start));
  return [...body.matchAll(/^\s*pub (\w+):/gm)].map((m) => m[1].replace(/_(\w)/g, (_x, c: string) => c.toUpperCase())).sort();
}

/** Each interface of src/lsp_ext.ts: field name -> optional. */
function tsInterfaces(): Map<string, Map<string, boolean>> {
  const file = path.join(ext, 'src', 'lsp_ext.ts');
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, Map<string, boolean>>();
  sf.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node)) {
      const fields = new Map<string, boolean>();
      for (const m of node.members) {
        if (ts.isPropertySignature(m)) {
          fields.set(m.name.getText(sf), m.questionToken !== undefined);
        }
      }
      out.set(node.name.text, fields);
    }
  });
  return out;
}

const types = tsInterfaces();

function fields(name: string): string[] {
  const f = types.get(name);
  assert.ok(f, `interface ${name} not found in src/lsp_ext.ts`);
  return [...f.keys()].sort();
}

/** The text of the section whose heading starts with `heading`, up to the next heading of its level. */
function section(heading: string): string {
  const start = doc.indexOf(heading);
  assert.ok(start >= 0, `${heading} not found in docs/protocol.md`);
  const level = heading.slice(0, heading.indexOf(' ') + 1);
  const end = doc.indexOf('\n' + level, start + heading.length);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The first column (a `code` name) of each row of the first table after `after` in `text`. */
function tableKeys(text: string, after: string): Map<string, string[]> {
  const from = text.indexOf(after);
  assert.ok(from >= 0, `${after} not found`);
  const rows = new Map<string, string[]>();
  const lines = text.slice(from).split('\n');
  let seen = false;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      if (seen) {
        break;
      }
      continue;
    }
    seen = true;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const m = /^`([\w./]+)`$/.exec(cells[0]);
    if (m) {
      rows.set(m[1], cells.slice(1));
    }
  }
  return rows;
}

const searchDoc = section('## `sg/search`');

/** The JSON example of a `SearchResult`. */
function searchExample(): any {
  const m = /```json\n([\s\S]*?)\n```/.exec(searchDoc);
  assert.ok(m, 'no JSON example in the sg/search section');
  return JSON.parse(m[1]);
}

describe('the wire types match docs/protocol.md', () => {
  it('sg/search is the request the extension sends', () => {
    assert.equal(SEARCH_METHOD, 'sg/search');
    assert.ok(doc.includes('## `sg/search` (request)'));
  });

  it('SearchParams: the fields of the params table, `query` alone required', () => {
    const table = tableKeys(searchDoc, 'Params (`SearchParams`');
    assert.deepEqual(fields('SearchParams'), [...table.keys()].sort());
    for (const [field, [, dflt]] of table) {
      assert.equal(types.get('SearchParams')!.get(field), dflt !== 'required', `SearchParams.${field}: the protocol's default is ${dflt}`);
    }
  });

  it('SearchContextParams: the fields the protocol lists, all optional', () => {
    const para = /`context` \(`SearchContextParams`; all optional\):([\s\S]*?)\n\n/.exec(searchDoc);
    assert.ok(para, 'the SearchContextParams paragraph is missing');
    const listed = [...para[1].matchAll(/`(\w+)` \(/g)].map((m) => m[1]).sort();
    assert.deepEqual(fields('SearchContextParams'), listed);
    assert.ok([...types.get('SearchContextParams')!.values()].every((optional) => optional));
  });

  it('SearchResult, SearchResultItem, IndexState, Range and Position: the keys of the JSON example', () => {
    const example = searchExample();
    const item = example.results[0];
    assert.deepEqual(fields('SearchResult'), Object.keys(example).sort());
    assert.deepEqual(fields('SearchResultItem'), Object.keys(item).sort());
    assert.deepEqual(fields('IndexState'), Object.keys(example.index).sort());
    assert.deepEqual(fields('Range'), Object.keys(item.range).sort());
    assert.deepEqual(fields('Position'), Object.keys(item.range.start).sort());
    // What the protocol says may be missing is optional on the extension's side.
    assert.equal(types.get('SearchResult')!.get('note'), true, 'note is optional');
    assert.equal(types.get('SearchResultItem')!.get('symbol'), true, 'symbol is absent for results that define nothing');
  });

  it('the commands the extension runs are the documented ones, sent without arguments as documented', () => {
    const commands = tableKeys(section('## `workspace/executeCommand`'), '| command |');
    const sent = [...extensionSource.matchAll(/\{ command: '([\w.]+)', arguments: \[\] \}/g)].map((m) => m[1]).sort();
    assert.deepEqual(sent, ['sg.reindex', 'sg.status']);
    for (const c of sent) {
      assert.ok(commands.has(c), `${c} is not in the executeCommand table`);
      assert.equal(commands.get(c)![0], 'none', `${c} takes arguments`);
    }
    // `sg.reindex` answers null (the extension ignores it); `sg.status` a StatusResult.
    assert.match(commands.get('sg.reindex')![1], /^`null`/);
    const statusShape = /^`\{"(\w+)": \[FolderStatus\]\}`$/.exec(commands.get('sg.status')![1]);
    assert.ok(statusShape, `sg.status result: ${commands.get('sg.status')![1]}`);
    assert.deepEqual(fields('StatusResult'), [statusShape[1]]);
  });

  it('the server serializes the same field names (src/lsp/ext.rs)', () => {
    for (const name of ['SearchParams', 'SearchContextParams', 'SearchResult', 'SearchResultItem', 'IndexState']) {
      assert.deepEqual(fields(name), rustFields(name), name);
    }
  });

  it('the server answers sg.status with the FolderStatus fields (src/lsp/mod.rs)', () => {
    const start = rustServer.indexOf('async fn status(');
    assert.ok(start >= 0, 'the status handler is not in src/lsp/mod.rs');
    const body = rustServer.slice(start, rustServer.indexOf('\n    }\n', start));
    const keys = [...new Set([...body.matchAll(/"(\w+)":/g)].map((m) => m[1]))];
    assert.deepEqual(keys.filter((k) => k !== 'folders').sort(), fields('FolderStatus'));
    assert.ok(keys.includes('folders'));
    assert.deepEqual(fields('StatusResult'), ['folders']);
  });

  it('FolderStatus: the fields of the protocol, the error form included', () => {
    const para = /`FolderStatus`: ([\s\S]*?) when the\s+folder's index cannot be read/.exec(doc);
    assert.ok(para, 'the FolderStatus paragraph is missing');
    const documented = [...new Set([...para[1].matchAll(/"(\w+)"/g)].map((m) => m[1]))].sort();
    assert.ok(documented.includes('error') && documented.includes('root'), `parsed ${documented}`);
    assert.deepEqual(fields('FolderStatus'), documented);
  });
});
