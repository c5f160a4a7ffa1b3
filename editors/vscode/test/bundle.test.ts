// The esbuild bundle (dist/extension.js, built by `npm test` first) loads outside VS Code with `vscode`
// left external, and exports the extension's entry points.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module = require('node:module');
import * as path from 'node:path';
import { describe, it } from 'node:test';

const bundle = path.resolve(__dirname, '..', '..', 'dist', 'extension.js');

/** Any property, call or construction gives another stub; never a thenable. */
function stub(): unknown {
  return new Proxy(function () {}, {
    get: (_t, p) => (p === 'then' || typeof p === 'symbol' ? undefined : stub()),
    apply: () => stub(),
    construct: () => stub() as object,
  });
}

describe('bundle', () => {
  it('loads with vscode external and exports activate and deactivate', () => {
    assert.ok(fs.existsSync(bundle), 'dist/extension.js missing: run `npm run build`');
    const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = loader._load;
    const requested: string[] = [];
    loader._load = function (request: string, ...rest: unknown[]) {
      requested.push(request);
      return request === 'vscode' ? stub() : original.call(this, request, ...rest);
    };
    try {
      const ext = require(bundle);
      assert.equal(typeof ext.activate, 'function');
      assert.equal(typeof ext.deactivate, 'function');
    } finally {
      loader._load = original;
    }
    // Everything but vscode and Node's own modules is inside the bundle.
    const outside = requested.filter((r) => r !== 'vscode' && r !== bundle && !Module.builtinModules.includes(r.replace(/^node:/, '')));
    assert.deepEqual(outside, []);
  });
});
