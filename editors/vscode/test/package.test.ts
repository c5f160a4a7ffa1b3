// package.json agrees with the code: contributed commands are registered, the language-model tool is
// registered under its declared name with a usable input schema, and the licence is the crate's.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const ext = path.resolve(__dirname, '..', '..');
const repo = path.resolve(ext, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
const source = fs.readFileSync(path.join(ext, 'src', 'extension.ts'), 'utf8');

describe('package.json', () => {
  it('every contributed command is registered, and none is one the server registers itself', () => {
    const registered = [...source.matchAll(/registerCommand\('([\w.]+)'/g)].map((m) => m[1]).sort();
    const declared = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(declared, registered);
    // vscode-languageclient registers the server's executeCommand commands under their own names.
    for (const c of ['sg.search', 'sg.reindex', 'sg.status']) {
      assert.ok(!declared.includes(c), `${c} would clash with the server's command`);
    }
  });

  it('declares the language-model tool that the extension registers, with a schema requiring a query', () => {
    const tools = pkg.contributes.languageModelTools;
    assert.equal(tools.length, 1);
    const tool = tools[0];
    assert.ok(source.includes(`registerTool('${tool.name}'`), `registerTool('${tool.name}') missing`);
    assert.equal(tool.inputSchema.type, 'object');
    assert.deepEqual(tool.inputSchema.required, ['query']);
    assert.deepEqual(tool.inputSchema.properties.mode.enum, ['hybrid', 'lexical', 'semantic']);
    assert.ok(tool.modelDescription.length > 100);
  });

  it('has the crate licence, a LICENSE file and a .vscodeignore, and packages without a repository URL', () => {
    const cargo = fs.readFileSync(path.join(repo, 'Cargo.toml'), 'utf8');
    const licence = /^license = "([^"]+)"/m.exec(cargo)?.[1];
    assert.equal(pkg.license, licence);
    assert.match(fs.readFileSync(path.join(ext, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
    // The project publishes no repository URL: packaging says so instead of inventing one.
    assert.equal(pkg.repository, undefined);
    assert.match(pkg.scripts.package, /--allow-missing-repository/);
    const ignore = fs.readFileSync(path.join(ext, '.vscodeignore'), 'utf8');
    for (const p of ['src/**', 'node_modules/**', 'test/**', 'out/**']) {
      assert.ok(ignore.split('\n').includes(p), `.vscodeignore misses ${p}`);
    }
  });

  it('is bundled: main points into dist/ and the only runtime dependency is the language client', () => {
    assert.equal(pkg.main, './dist/extension.js');
    assert.deepEqual(Object.keys(pkg.dependencies), ['vscode-languageclient']);
  });
});
