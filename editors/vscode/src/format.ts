// How results, index state and progress are shown: plain functions over the wire types, unit-tested
// without VS Code.

import type { FolderStatus, IndexState, ProgressValue, SearchResult, SearchResultItem, StatusResult } from './lsp_ext';

/** A QuickPick item's fields for one result. */
export interface PickFields {
  label: string;
  description: string;
  detail: string;
  /** Results are found by meaning too: VS Code's own fuzzy filter must not hide them. */
  alwaysShow: true;
}

const KIND_ICONS: Record<string, string> = {
  function: 'symbol-function',
  method: 'symbol-method',
  class: 'symbol-class',
  struct: 'symbol-struct',
  enum: 'symbol-enum',
  interface: 'symbol-interface',
  trait: 'symbol-interface',
  impl: 'symbol-class',
  module: 'symbol-module',
  type: 'symbol-type-parameter',
  constant: 'symbol-constant',
  macro: 'symbol-misc',
  section: 'symbol-string',
};

/** The line a result opens at (0-based): the start of the part that matched. */
export function targetLine(r: SearchResultItem): number {
  return (r.matchRange ?? r.range).start.line;
}

/** The whole lines of a result's definition, 0-based inclusive (`range.end` is character 0 of the line after). */
export function definitionLines(r: SearchResultItem): { start: number; end: number } {
  const { start, end } = r.range;
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  return { start: start.line, end: last };
}

/** `path:line`, 1-based, at the line a result opens at. */
export function location(r: SearchResultItem): string {
  return `${r.path}:${targetLine(r) + 1}`;
}

/** The first non-blank line of a snippet, trimmed and cut to `max` characters. */
export function snippetLine(snippet: string, max = 160): string {
  const line = (snippet.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

export function pickFields(r: SearchResultItem): PickFields {
  const icon = r.kind ? KIND_ICONS[r.kind] : undefined;
  const name = r.symbol ?? r.path.split('/').pop() ?? r.path;
  return {
    label: icon ? `$(${icon}) ${name}` : name,
    description: r.kind ? `${location(r)} · ${r.kind}` : location(r),
    detail: snippetLine(r.snippet),
    alwaysShow: true,
  };
}

/** Why results may be partial, when the index is still being built; undefined when it is complete. */
export function partialIndex(index: IndexState | undefined): string | undefined {
  if (!index) {
    return undefined;
  }
  if (index.pendingFiles > 0) {
    return `the index is still being built (${index.pendingFiles} files to go): results may be missing`;
  }
  if (index.pendingEmbeddings > 0) {
    const share = index.chunks > 0 ? Math.floor((100 * (index.chunks - index.pendingEmbeddings)) / index.chunks) : 0;
    return `embeddings ${share}% done: results by meaning may be missing`;
  }
  return undefined;
}

/** The QuickPick's title after a search. */
export function searchTitle(query: string, r: SearchResult): string {
  const partial = partialIndex(r.index);
  if (r.results.length === 0) {
    if (partial) {
      return `sg: no results yet: ${partial}`;
    }
    return `sg: nothing relevant for "${query}"${r.note ? ` (${r.note})` : ''}`;
  }
  const head = `sg: ${r.results.length} result${r.results.length === 1 ? '' : 's'} in ${Math.round(r.elapsedMs)} ms`;
  return partial ? `${head}; ${partial}` : r.note ? `${head} (${r.note})` : head;
}

/** Totals over the folders of an `sg.status` answer. */
export function statusTotals(s: StatusResult): {
  files: number;
  chunks: number;
  embedded: number;
  pendingFiles: number;
  pendingEmbeddings: number;
  errors: FolderStatus[];
} {
  const t = { files: 0, chunks: 0, embedded: 0, pendingFiles: 0, pendingEmbeddings: 0, errors: [] as FolderStatus[] };
  for (const f of s.folders) {
    if (f.error) {
      t.errors.push(f);
      continue;
    }
    t.files += f.files ?? 0;
    t.chunks += f.chunks ?? 0;
    t.embedded += f.embedded ?? 0;
    t.pendingFiles += f.pendingFiles ?? 0;
    t.pendingEmbeddings += f.pendingEmbeddings ?? 0;
  }
  return t;
}

/** Share of chunks with a vector of the main model, in whole percent (100 when there is nothing to embed). */
export function embeddedShare(s: StatusResult): number {
  const t = statusTotals(s);
  return t.chunks === 0 ? 100 : Math.floor((100 * t.embedded) / t.chunks);
}

/** The status-bar text and tooltip for an `sg.status` answer. */
export function statusBar(s: StatusResult, embed = true): { text: string; tooltip: string } {
  const t = statusTotals(s);
  const lines = statusLines(s, embed);
  if (s.folders.length === 0) {
    // Folders are opened right after `initialized`; until then there is nothing to report.
    return { text: '$(sync~spin) sg: starting', tooltip: lines.join('\n') };
  }
  if (t.errors.length > 0) {
    return { text: '$(warning) sg', tooltip: lines.join('\n') };
  }
  if (t.pendingFiles > 0) {
    return { text: `$(sync~spin) sg: ${t.pendingFiles} files to index`, tooltip: lines.join('\n') };
  }
  if (embed && t.chunks > t.embedded) {
    return { text: `$(sync~spin) sg: ${embeddedShare(s)}% embedded`, tooltip: lines.join('\n') };
  }
  return { text: embed ? '$(search) sg' : '$(search) sg (lexical)', tooltip: lines.join('\n') };
}

/** One line per folder of an `sg.status` answer (`embed`: whether the server computes embeddings). */
export function statusLines(s: StatusResult, embed = true): string[] {
  if (s.folders.length === 0) {
    return ['sg: no folder is served'];
  }
  return s.folders.map((f) => {
    if (f.error) {
      return `${f.root}: ${f.error}`;
    }
    const chunks = f.chunks ?? 0;
    const share = chunks === 0 ? 100 : Math.floor((100 * (f.embedded ?? 0)) / chunks);
    const pending =
      (f.pendingFiles ?? 0) > 0 || (f.pendingEmbeddings ?? 0) > 0
        ? `, pending: ${f.pendingFiles ?? 0} files, ${f.pendingEmbeddings ?? 0} embeddings`
        : '';
    const ro = f.writable === false ? ' (read-only: another sg process writes this index)' : '';
    const vectors = embed ? `${share}% embedded` : 'lexical only';
    return `${f.root}: ${f.files ?? 0} files, ${chunks} chunks, ${vectors}${pending}${ro}`;
  });
}

/** Indexing phases in flight, by `$/progress` token. */
export class ProgressTracker {
  private phases = new Map<string, { title: string; message?: string; percentage?: number }>();

  /** Applies one `$/progress` value; returns whether any phase is still running. */
  update(token: string | number, value: ProgressValue): boolean {
    const key = String(token);
    if (value.kind === 'end') {
      this.phases.delete(key);
    } else {
      const prev = this.phases.get(key);
      this.phases.set(key, {
        title: value.title ?? prev?.title ?? 'sg',
        message: value.message ?? prev?.message,
        percentage: value.percentage ?? prev?.percentage,
      });
    }
    return this.phases.size > 0;
  }

  get active(): boolean {
    return this.phases.size > 0;
  }

  /** Status-bar text of the latest phase, e.g. `sg: indexing files 40%`; undefined when idle. */
  text(): string | undefined {
    const last = [...this.phases.values()].pop();
    if (!last) {
      return undefined;
    }
    const what = last.title.replace(/^sg: /, '').replace(/ \(.*\)$/, '');
    const pct = last.percentage !== undefined ? ` ${Math.round(last.percentage)}%` : '';
    return `$(sync~spin) sg: ${what}${pct}`;
  }

  tooltip(): string {
    return [...this.phases.values()].map((p) => `${p.title}${p.message ? `: ${p.message}` : ''}`).join('\n');
  }
}

/** Search results as text for a language model: one block per result with its location and best lines. */
export function resultsForModel(query: string, r: SearchResult): string {
  const partial = partialIndex(r.index);
  if (r.results.length === 0) {
    return partial
      ? `No results for "${query}" yet: ${partial}. Try again shortly.`
      : `Nothing relevant found for "${query}"${r.note ? ` (${r.note})` : ''}.`;
  }
  const blocks = r.results.map((x, i) => {
    const lines = definitionLines(x);
    const what = x.symbol ? `${x.kind ?? 'symbol'} ${x.symbol}` : (x.kind ?? 'code');
    const fence = x.snippet.includes('```') ? '````' : '```';
    return `${i + 1}. ${x.path}:${lines.start + 1}-${lines.end + 1} ${what} (${x.language})\n${fence}${x.language}\n${x.snippet.trimEnd()}\n${fence}`;
  });
  const head = `${r.results.length} results for "${query}", best first${partial ? ` (${partial})` : ''}:`;
  return [head, ...blocks].join('\n\n');
}
