// sg's protocol extensions, mirroring src/lsp/ext.rs (documented in docs/protocol.md).

import { Position, Range, RequestType } from 'vscode-languageclient';

export interface SearchContextParams {
  /** The document being edited. */
  currentUri?: string;
  /** The cursor in it; the symbol under it is left out of the results. */
  position?: Position;
  /** Documents open in the editor (their results are boosted). */
  openUris?: string[];
}

export interface SearchParams {
  query: string;
  /** Default: the `limit` setting (10). */
  limit?: number;
  mode?: 'hybrid' | 'lexical' | 'semantic';
  /** Only paths matching one of these globs. */
  paths?: string[];
  languages?: string[];
  kinds?: string[];
  context?: SearchContextParams;
}

export interface SearchResultItem {
  uri: string;
  /** Whole lines: start at character 0 of the first line, end at character 0 of the line after. */
  range: Range;
  /** Relative to its workspace folder. */
  path: string;
  symbol?: string;
  kind?: string;
  language: string;
  score: number;
  snippet: string;
  signals: Record<string, number>;
}

export interface IndexState {
  files: number;
  chunks: number;
  pendingFiles: number;
  pendingEmbeddings: number;
  /** Chunks without a main-model vector that the fast tier already covers. */
  fastEmbedded: number;
}

export interface SearchResult {
  results: SearchResultItem[];
  elapsedMs: number;
  index: IndexState;
  note?: string;
}

export const searchRequest = new RequestType<SearchParams, SearchResult, void>('sg/search');

/** Result of the `sg.status` command. */
export interface FolderStatus {
  root: string;
  indexDir?: string;
  files?: number;
  chunks?: number;
  embedded?: number;
  fastEmbedded?: number;
  pendingFiles?: number;
  pendingEmbeddings?: number;
  writable?: boolean;
  error?: string;
}

export interface StatusResult {
  folders: FolderStatus[];
}
