// A stand-in for the `vscode` module, enough to run the bundled extension against the real server in
// plain Node: the parts the extension itself uses are implemented and recorded; anything else the
// language client touches is an inert stub.

import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Any property, call or construction gives another stub; never a thenable or an iterable. */
export function stub(): any {
  return new Proxy(function () {}, {
    get: (_t, p) => (p === 'then' || typeof p === 'symbol' ? undefined : stub()),
    apply: () => stub(),
    construct: () => stub(),
  });
}

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T) {
    for (const l of [...this.listeners]) {
      l(e);
    }
  }
  dispose() {
    this.listeners = [];
  }
}

export class Disposable {
  constructor(private fn: () => unknown = () => undefined) {}
  static from(...ds: { dispose(): unknown }[]) {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose() {
    this.fn();
  }
}

export class Position {
  constructor(public line: number, public character: number) {}
}

export class Range {
  start: Position;
  end: Position;
  constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c!, d!) : (b as Position);
  }
  contains(p: Position) {
    const after = p.line > this.start.line || (p.line === this.start.line && p.character >= this.start.character);
    const before = p.line < this.end.line || (p.line === this.end.line && p.character <= this.end.character);
    return after && before;
  }
}

export class Uri {
  private constructor(public scheme: string, public fsPath: string, private text: string) {}
  static file(p: string) {
    return new Uri('file', p, pathToFileURL(p).toString());
  }
  static parse(s: string) {
    return s.startsWith('file:') ? new Uri('file', decodeURIComponent(new URL(s).pathname), s) : new Uri(s.split(':')[0], s, s);
  }
  get path() {
    return this.fsPath;
  }
  toString() {
    return this.text;
  }
  toJSON() {
    return this.text;
  }
}

export class LanguageModelTextPart {
  constructor(public value: string) {}
}

export class LanguageModelToolResult {
  constructor(public content: unknown[]) {}
}

export class McpStdioServerDefinition {
  cwd?: Uri;
  constructor(
    public label: string,
    public command: string,
    public args: string[] = [],
    public env: Record<string, string | number | null> = {},
    public version?: string,
  ) {}
}

export class TabInputText {
  constructor(public uri: Uri) {}
}

export interface FakeQuickPick {
  value: string;
  items: any[];
  activeItems: any[];
  selectedItems: any[];
  title?: string;
  busy: boolean;
  shown: boolean;
  type(value: string): void;
  accept(item: any): void;
}

/** What the extension did, for the test to check. */
export interface Recorder {
  commands: Map<string, (...args: any[]) => any>;
  tools: Map<string, any>;
  /** MCP server definition providers, by id. */
  mcpProviders: Map<string, any>;
  messages: { level: string; text: string }[];
  quickPicks: FakeQuickPick[];
  opened: { uri: string; selection: Range }[];
  statusItem: { text: string; tooltip: unknown; command?: string };
}

/**
 * What the fake VS Code offers: `lm: false` has no `vscode.lm` at all (before 1.90); `mcp: false` has
 * `vscode.lm` without the MCP server definition API (before 1.101).
 */
export interface FakeApi {
  lm?: boolean;
  mcp?: boolean;
}

/** A fake `vscode` with the given `sg.*` settings and one workspace folder. */
export function fakeVscode(settings: Record<string, unknown>, folder: string, api: FakeApi = {}): { vscode: any; rec: Recorder } {
  const rec: Recorder = {
    commands: new Map(),
    tools: new Map(),
    mcpProviders: new Map(),
    messages: [],
    quickPicks: [],
    opened: [],
    statusItem: { text: '', tooltip: undefined },
  };
  const message = (level: string) => (text: string) => {
    rec.messages.push({ level, text });
    return Promise.resolve(undefined);
  };
  const configuration = (section?: string) => ({
    get: (key: string, dflt?: unknown) => {
      const full = section ? `${section}.${key}` : key;
      return full in settings ? settings[full] : dflt;
    },
    has: () => false,
    inspect: () => undefined,
    update: () => Promise.resolve(),
  });
  const noEvent = () => ({ dispose() {} });
  const statusItem = Object.assign(rec.statusItem, { show() {}, hide() {}, dispose() {}, name: '' });
  const vscode: any = {
    version: '1.101.0',
    Position,
    Range,
    Selection: Range,
    Uri,
    EventEmitter,
    Disposable,
    LanguageModelTextPart,
    LanguageModelToolResult,
    TabInputText,
    StatusBarAlignment: { Left: 1, Right: 2 },
    TextEditorRevealType: { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 },
    env: { appName: 'fake VS Code', appRoot: '', language: 'en', machineId: 'test', sessionId: 'test', uiKind: 1, uriScheme: 'vscode', shell: '/bin/sh' },
    extensions: stub(),
    languages: stub(),
    commands: {
      registerCommand: (id: string, fn: (...args: any[]) => any) => {
        rec.commands.set(id, fn);
        return { dispose: () => rec.commands.delete(id) };
      },
      executeCommand: (id: string, ...args: any[]) => Promise.resolve(rec.commands.get(id)?.(...args)),
    },
    lm: {
      registerTool: (name: string, tool: any) => {
        rec.tools.set(name, tool);
        return { dispose: () => rec.tools.delete(name) };
      },
      registerMcpServerDefinitionProvider: (id: string, provider: any) => {
        rec.mcpProviders.set(id, provider);
        return { dispose: () => rec.mcpProviders.delete(id) };
      },
    },
    McpStdioServerDefinition,
    workspace: {
      workspaceFolders: [{ uri: Uri.file(folder), name: path.basename(folder), index: 0 }],
      textDocuments: [],
      getConfiguration: configuration,
      getWorkspaceFolder: () => undefined,
      onDidChangeConfiguration: noEvent,
      onDidOpenTextDocument: noEvent,
      onDidCloseTextDocument: noEvent,
      onDidChangeTextDocument: noEvent,
      onDidSaveTextDocument: noEvent,
      onWillSaveTextDocument: noEvent,
      onDidChangeWorkspaceFolders: noEvent,
      onDidCreateFiles: noEvent,
      onDidRenameFiles: noEvent,
      onDidDeleteFiles: noEvent,
      onWillCreateFiles: noEvent,
      onWillRenameFiles: noEvent,
      onWillDeleteFiles: noEvent,
      createFileSystemWatcher: () => ({ onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose() {} }),
      openTextDocument: (uri: Uri) => Promise.resolve({ uri }),
      applyEdit: () => Promise.resolve(true),
    },
    window: {
      activeTextEditor: undefined,
      visibleTextEditors: [],
      tabGroups: { all: [] },
      onDidChangeActiveTextEditor: noEvent,
      onDidChangeVisibleTextEditors: noEvent,
      createOutputChannel: () => ({ appendLine() {}, append() {}, show() {}, clear() {}, dispose() {}, replace() {} }),
      createStatusBarItem: () => statusItem,
      setStatusBarMessage: (text: string) => {
        rec.messages.push({ level: 'status', text });
        return { dispose() {} };
      },
      showInformationMessage: message('info'),
      showWarningMessage: message('warning'),
      showErrorMessage: message('error'),
      withProgress: (_o: unknown, task: (p: unknown, t: unknown) => unknown) => task({ report() {} }, stub()),
      showTextDocument: (doc: { uri: Uri }, options: { selection: Range }) => {
        rec.opened.push({ uri: doc.uri.toString(), selection: options.selection });
        return Promise.resolve({ revealRange() {} });
      },
      createQuickPick: () => {
        const changed = new EventEmitter<string>();
        const accepted = new EventEmitter<void>();
        const hidden = new EventEmitter<void>();
        const pick: FakeQuickPick & Record<string, unknown> = {
          value: '',
          items: [],
          activeItems: [],
          selectedItems: [],
          busy: false,
          shown: false,
          onDidChangeValue: changed.event,
          onDidAccept: accepted.event,
          onDidHide: hidden.event,
          show() {
            pick.shown = true;
          },
          hide() {
            pick.shown = false;
            hidden.fire();
          },
          dispose() {},
          type(value: string) {
            pick.value = value;
            changed.fire(value);
          },
          accept(item: unknown) {
            pick.activeItems = [item];
            pick.selectedItems = [item];
            accepted.fire();
          },
        };
        rec.quickPicks.push(pick);
        return pick;
      },
    },
  };
  // An API this VS Code lacks is undefined, not a stub (which would look like a function).
  if (api.mcp === false) {
    delete vscode.lm.registerMcpServerDefinitionProvider;
    vscode.McpStdioServerDefinition = undefined;
  }
  if (api.lm === false) {
    vscode.lm = undefined;
    vscode.McpStdioServerDefinition = undefined;
  }
  // Anything not defined above (classes the language client extends, enums, namespaces) is a stub.
  const full = new Proxy(vscode, {
    get: (target, p) => (p in target ? target[p] : p === 'then' || typeof p === 'symbol' ? undefined : stub()),
  });
  return { vscode: full, rec };
}
