// sg's protocol extensions, mirroring src/lsp/ext.rs (documented in docs/protocol.md). Types only, so the
// pure modules that use them load without VS Code.

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface SearchContextParams {
  /** The document being edited. */
  currentUri?: string;
  /** The cursor in it; the symbol under it is left out of the results. */
  position?: Position;
  /** Documents open in the editor (their results are boosted). */
  openUris?: string[];
}

export type SearchMode = 'hybrid' | 'lexical' | 'semantic';

/** What a query asks for; `auto` (the default) guesses it from the words. */
export type SearchIntent = 'auto' | 'search' | 'symbol' | 'definition' | 'references';

/** The route a query took. */
export interface Route {
  intent: Exclude<SearchIntent, 'auto'>;
  /** The name looked up (definition, references and symbol routes). */
  name?: string;
  /** Only calls were asked for ("who calls X"). */
  calls_only?: boolean;
  /** Whether the intent was guessed from the query. */
  guessed: boolean;
}

export interface SearchParams {
  query: string;
  /** Default: the `limit` setting. */
  limit?: number;
  mode?: SearchMode;
  /** Only paths matching one of these globs. */
  paths?: string[];
  languages?: string[];
  kinds?: string[];
  context?: SearchContextParams;
  intent?: SearchIntent;
}

export interface SearchResultItem {
  uri: string;
  /** The definition, whole lines: character 0 of its first line to character 0 of the line after. */
  range: Range;
  /** The part that matched, inside `range` (an editor jumps there). */
  matchRange?: Range;
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
  /** The route the query took. */
  intent?: Route;
}

export const SEARCH_METHOD = 'sg/search';

/** One folder of the result of the `sg.status` command. */
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

/** The `value` of a `$/progress` notification. */
export interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}
