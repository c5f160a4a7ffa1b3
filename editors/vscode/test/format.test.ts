// Result items, titles, status-bar text, progress and the text given to language models.

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ProgressTracker,
  definitionLines,
  embeddedShare,
  pickFields,
  resultsForModel,
  searchTitle,
  statusBar,
  statusLines,
  targetLine,
} from '../src/format';
import type { SearchResult, SearchResultItem } from '../src/lsp_ext';

const range = (a: number, b: number) => ({ start: { line: a, character: 0 }, end: { line: b, character: 0 } });

const item: SearchResultItem = {
  uri: 'file:///ws/config/loader.py',
  range: range(8, 13),
  matchRange: range(10, 12),
  path: 'config/loader.py',
  symbol: 'parse_config_file',
  kind: 'function',
  language: 'python',
  score: 1.2,
  snippet: '\n    """Read a configuration file from disk and parse it."""\n    with open(path) as f:',
  signals: {},
};

const done = { files: 7, chunks: 10, pendingFiles: 0, pendingEmbeddings: 0, fastEmbedded: 0 };

describe('pickFields', () => {
  it('shows symbol, path:line of the match and the first snippet line, and is never filtered out', () => {
    assert.deepEqual(pickFields(item), {
      label: '$(symbol-function) parse_config_file',
      description: 'config/loader.py:11 · function',
      detail: '"""Read a configuration file from disk and parse it."""',
      alwaysShow: true,
    });
  });

  it('falls back to the file name and the definition start', () => {
    const { symbol, kind, matchRange, ...rest } = item;
    void symbol, kind, matchRange;
    const f = pickFields({ ...rest, snippet: 'x'.repeat(300) });
    assert.equal(f.label, 'loader.py');
    assert.equal(f.description, 'config/loader.py:9');
    assert.equal(f.detail.length, 160);
  });
});

describe('ranges', () => {
  it('opens at the match and spans whole lines of the definition', () => {
    assert.equal(targetLine(item), 10);
    assert.deepEqual(definitionLines(item), { start: 8, end: 12 });
  });
});

describe('searchTitle', () => {
  it('counts results and time', () => {
    assert.equal(searchTitle('q', { results: [item], elapsedMs: 3.4, index: done }), 'sg: 1 result in 3 ms');
  });

  it('says the index is being built rather than "no results"', () => {
    const r: SearchResult = { results: [], elapsedMs: 1, index: { ...done, pendingFiles: 40 } };
    assert.equal(searchTitle('q', r), 'sg: no results yet: the index is still being built (40 files to go): results may be missing');
  });

  it('gives the server note when nothing is relevant', () => {
    const r: SearchResult = { results: [], elapsedMs: 1, index: done, note: 'nearest similarity 0.12' };
    assert.equal(searchTitle('zzz', r), 'sg: nothing relevant for "zzz" (nearest similarity 0.12)');
  });

  it('flags missing embeddings', () => {
    const r: SearchResult = { results: [item], elapsedMs: 1, index: { ...done, pendingEmbeddings: 5 } };
    assert.equal(searchTitle('q', r), 'sg: 1 result in 1 ms; embeddings 50% done: results by meaning may be missing');
  });
});

describe('status', () => {
  const s = {
    folders: [
      { root: '/a', files: 3, chunks: 10, embedded: 5, pendingFiles: 0, pendingEmbeddings: 5, writable: true },
      { root: '/b', files: 1, chunks: 10, embedded: 10, pendingFiles: 0, pendingEmbeddings: 0, writable: false },
      { root: '/c', error: 'index is damaged' },
    ],
  };

  it('embedded share sums the readable folders', () => {
    assert.equal(embeddedShare(s), 75);
    assert.equal(embeddedShare({ folders: [] }), 100);
  });

  it('one line per folder', () => {
    assert.deepEqual(statusLines(s), [
      '/a: 3 files, 10 chunks, 50% embedded, pending: 0 files, 5 embeddings',
      '/b: 1 files, 10 chunks, 100% embedded (read-only: another sg process writes this index)',
      '/c: index is damaged',
    ]);
  });

  it('status bar: warning, files to index, embedded share, idle', () => {
    assert.equal(statusBar(s).text, '$(warning) sg');
    assert.equal(statusBar({ folders: [] }).text, '$(sync~spin) sg: starting');
    const folders = s.folders.slice(0, 2);
    assert.equal(statusBar({ folders }).text, '$(sync~spin) sg: 75% embedded');
    assert.equal(statusBar({ folders: [{ ...folders[0], pendingFiles: 4 }] }).text, '$(sync~spin) sg: 4 files to index');
    assert.equal(statusBar({ folders: [folders[1]] }).text, '$(search) sg');
    assert.equal(statusBar({ folders: [{ root: '/a', files: 1, chunks: 4, embedded: 0 }] }, false).text, '$(search) sg (lexical)');
  });
});

describe('ProgressTracker', () => {
  it('follows begin, report and end of each token', () => {
    const p = new ProgressTracker();
    assert.equal(p.text(), undefined);
    assert.equal(p.update('sg/indexing-files/1', { kind: 'begin', title: 'sg: indexing files (ws)', message: '0/40', percentage: 0 }), true);
    p.update('sg/indexing-files/1', { kind: 'report', message: 'files 10/40', percentage: 25 });
    assert.equal(p.text(), '$(sync~spin) sg: indexing files 25%');
    assert.equal(p.tooltip(), 'sg: indexing files (ws): files 10/40');
    assert.equal(p.update('sg/indexing-files/1', { kind: 'end' }), false);
    assert.equal(p.active, false);
  });
});

describe('resultsForModel', () => {
  it('gives each result its path, 1-based line range, symbol and code', () => {
    const text = resultsForModel('read config', { results: [item], elapsedMs: 1, index: done });
    assert.equal(
      text,
      '1 results for "read config", best first:\n\n' +
        '1. config/loader.py:9-13 function parse_config_file (python)\n```python\n\n' +
        '    """Read a configuration file from disk and parse it."""\n    with open(path) as f:\n```',
    );
  });

  it('says when nothing was found and why', () => {
    assert.match(resultsForModel('q', { results: [], elapsedMs: 1, index: { ...done, pendingFiles: 2 } }), /^No results for "q" yet: the index is still being built/);
    assert.equal(resultsForModel('q', { results: [], elapsedMs: 1, index: done }), 'Nothing relevant found for "q".');
  });
});
