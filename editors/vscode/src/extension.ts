// sg for VS Code: finds and checks the sg executable, starts `sg lsp` for the workspace, and adds
// "sg: Search" (a QuickPick searching as you type), a status-bar item with the index's progress, the
// commands Reindex, Show status and Restart, a language-model tool for agents in the editor, and `sg mcp`
// (one server per workspace folder) offered to VS Code's agents through its MCP server definition provider.

import * as vscode from 'vscode';
import {
  CancellationTokenSource,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RequestType,
  ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

import {
  ProgressTracker,
  pickFields,
  resultsForModel,
  searchTitle,
  statusBar,
  statusLines,
  targetLine,
} from './format';
import {
  SEARCH_METHOD,
  SearchContextParams,
  SearchParams,
  SearchResult,
  SearchResultItem,
  StatusResult,
} from './lsp_ext';
import { MCP_PROVIDER_ID, mcpServerSpecs } from './mcp';
import { Resolved, checkMcp, resolveServer } from './server';
import { RESTART_SETTINGS, serverSettings } from './settings';

const searchRequest = new RequestType<SearchParams, SearchResult, void>(SEARCH_METHOD);

/** Delay between the last keystroke and the search it sends. */
const DEBOUNCE_MS = 120;
/** How often the status is polled while the index is incomplete. */
const POLL_MS = 2000;

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem;
let output: vscode.OutputChannel;
let progress = new ProgressTracker();
let pollTimer: NodeJS.Timeout | undefined;
let starting: Promise<void> | undefined;
/** The executable of the current (or last) start, found and checked. */
let resolving: Promise<Resolved> | undefined;
/** Fired when the MCP servers offered change (another sg, other settings, other folders). */
let mcpChanged: vscode.EventEmitter<void> | undefined;

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('sg');
}

function settings(): Record<string, unknown> {
  const cfg = config();
  return serverSettings((name) => cfg.get(name));
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  statusItem.text = '$(sync~spin) sg: starting';
  statusItem.tooltip = 'sg: looking for the sg executable';
  statusItem.show();
  resolving = resolveServer(config().get<string | null>('path'));
  const found = await resolving;
  mcpChanged?.fire();
  if (!found.ok) {
    statusItem.text = '$(error) sg: not installed';
    statusItem.tooltip = found.message;
    statusItem.command = 'sg.showStatus';
    output.appendLine(found.message);
    // Not awaited: activation must not wait for the user to answer.
    void vscode.window.showErrorMessage(found.message, 'Open settings', 'Retry').then(async (choice) => {
      if (choice === 'Open settings') {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'sg.path');
      } else if (choice === 'Retry') {
        await restart(context);
      }
    });
    return;
  }
  output.appendLine(`sg ${found.version}: ${found.path} (from ${found.source})`);
  const serverOptions: ServerOptions = { command: found.path, args: ['lsp'] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }],
    initializationOptions: settings(),
    outputChannel: output,
  };
  const c = new LanguageClient('sg', 'sg', serverOptions, clientOptions);
  client = c;
  c.onDidChangeState((e) => {
    if (e.newState === State.Stopped && client === c) {
      statusItem.text = '$(circle-slash) sg: stopped';
      statusItem.tooltip = 'sg: the server is not running. Click to restart.';
      statusItem.command = 'sg.restart';
    }
  });
  await c.start();
  // The server announces each indexing phase with window/workDoneProgress/create; follow its
  // $/progress in the status bar instead of a notification per phase.
  c.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    const sub = c.onProgress(WorkDoneProgress.type, token, (value) => {
      progress.update(token, value);
      if (value.kind === 'end') {
        sub.dispose();
        void refreshStatus();
      } else {
        showProgress();
      }
    });
    return null;
  });
  statusItem.command = 'sg.showStatus';
  await refreshStatus();
}

function showProgress(): void {
  const text = progress.text();
  if (text) {
    statusItem.text = text;
    statusItem.tooltip = progress.tooltip();
  }
}

async function status(): Promise<StatusResult | undefined> {
  if (!client || client.state !== State.Running) {
    return undefined;
  }
  return (await client.sendRequest(ExecuteCommandRequest.type, { command: 'sg.status', arguments: [] })) as StatusResult;
}

/** Updates the status-bar item from `sg.status`; polls again while the index is incomplete. */
async function refreshStatus(): Promise<void> {
  if (pollTimer) {
    clearTimeout(pollTimer);
    pollTimer = undefined;
  }
  let s: StatusResult | undefined;
  try {
    s = await status();
  } catch (e) {
    output.appendLine(`sg.status failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!s) {
    return;
  }
  if (progress.active) {
    showProgress();
  } else {
    const bar = statusBar(s, config().get<boolean>('embed', true));
    statusItem.text = bar.text;
    statusItem.tooltip = bar.tooltip + '\nClick for the index status.';
  }
  const opening = s.folders.length === 0 && (vscode.workspace.workspaceFolders?.length ?? 0) > 0;
  const pending = opening || s.folders.some((f) => (f.pendingFiles ?? 0) > 0 || (f.pendingEmbeddings ?? 0) > 0);
  if (pending || progress.active) {
    pollTimer = setTimeout(() => void refreshStatus(), POLL_MS);
  }
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (starting) {
    await starting;
  }
  starting = (async () => {
    const old = client;
    client = undefined;
    progress = new ProgressTracker();
    if (old) {
      await old.stop().catch(() => undefined);
      await old.dispose().catch(() => undefined);
    }
    await start(context);
  })();
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

/** The editor context sent with each search: the current file, the cursor, and the files open in tabs. */
function searchContext(): SearchContextParams {
  const editor = vscode.window.activeTextEditor;
  const open = new Set<string>();
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === 'file') {
        open.add(tab.input.uri.toString());
      }
    }
  }
  const current = editor && editor.document.uri.scheme === 'file' ? editor : undefined;
  return {
    currentUri: current?.document.uri.toString(),
    position: current
      ? { line: current.selection.active.line, character: current.selection.active.character }
      : undefined,
    openUris: open.size > 0 ? [...open] : undefined,
  };
}

async function reveal(r: SearchResultItem): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(r.uri));
  const line = targetLine(r);
  const at = new vscode.Position(line, 0);
  const editor = await vscode.window.showTextDocument(doc, { selection: new vscode.Range(at, at) });
  const def = new vscode.Range(r.range.start.line, 0, r.range.end.line, 0);
  editor.revealRange(def.contains(at) ? def : new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

interface ResultItem extends vscode.QuickPickItem {
  result: SearchResultItem;
}

/** "sg: Search": searches as you type, newest query only; Enter opens the result. */
async function search(): Promise<void> {
  const c = client;
  if (!c || c.state !== State.Running) {
    void vscode.window.showWarningMessage('sg: the server is not running (see "sg: Show status" or the sg output).');
    return;
  }
  const pick = vscode.window.createQuickPick<ResultItem>();
  pick.placeholder = 'Search code by meaning ("where are failed requests retried") or by name (parse_config)';
  pick.matchOnDescription = false;
  pick.matchOnDetail = false;
  const context = searchContext();
  let timer: NodeJS.Timeout | undefined;
  let pending: CancellationTokenSource | undefined;
  const run = (query: string) => {
    pending?.cancel();
    pending?.dispose();
    pending = undefined;
    if (query.trim() === '') {
      pick.items = [];
      pick.busy = false;
      pick.title = undefined;
      return;
    }
    const cts = new CancellationTokenSource();
    pending = cts;
    pick.busy = true;
    c.sendRequest(searchRequest, { query, context }, cts.token).then(
      (r) => {
        if (pending !== cts) {
          return;
        }
        pick.busy = false;
        pick.items = r.results.map((result) => ({ ...pickFields(result), result }));
        pick.title = searchTitle(query, r);
      },
      (err: unknown) => {
        if (pending === cts) {
          pick.busy = false;
          pick.title = `sg: ${err instanceof Error ? err.message : String(err)}`;
        }
      },
    );
  };
  pick.onDidChangeValue((value) => {
    if (timer) {
      clearTimeout(timer);
    }
    timer = setTimeout(() => run(value), DEBOUNCE_MS);
  });
  pick.onDidAccept(async () => {
    const chosen = pick.activeItems[0] ?? pick.selectedItems[0];
    pick.hide();
    if (chosen) {
      await reveal(chosen.result);
    }
  });
  pick.onDidHide(() => {
    if (timer) {
      clearTimeout(timer);
    }
    pending?.cancel();
    pick.dispose();
  });
  const editor = vscode.window.activeTextEditor;
  const selected = editor?.document.getText(editor.selection).trim();
  if (selected && !selected.includes('\n')) {
    pick.value = selected;
    run(selected);
  }
  pick.show();
}

async function showStatus(context: vscode.ExtensionContext): Promise<void> {
  if (!client || client.state !== State.Running) {
    const why = typeof statusItem.tooltip === 'string' ? statusItem.tooltip : 'the server is not running';
    const choice = await vscode.window.showWarningMessage(`sg: ${why}`, 'Restart');
    if (choice === 'Restart') {
      await restart(context);
    }
    return;
  }
  const s = await status();
  if (!s) {
    return;
  }
  const lines = statusLines(s, config().get<boolean>('embed', true));
  const choice = await vscode.window.showInformationMessage(lines.join(' | '), 'Reindex');
  if (choice === 'Reindex') {
    await reindex();
  }
  await refreshStatus();
}

async function reindex(): Promise<void> {
  if (!client || client.state !== State.Running) {
    void vscode.window.showWarningMessage('sg: the server is not running.');
    return;
  }
  await client.sendRequest(ExecuteCommandRequest.type, { command: 'sg.reindex', arguments: [] });
  vscode.window.setStatusBarMessage('sg: reindexing in the background', 3000);
  await refreshStatus();
}

/** Input of the `sg_search` language-model tool (its schema is in package.json): `sg/search`'s parameters
 * without the editor context, which the extension adds. */
type ToolInput = Omit<SearchParams, 'context'>;

/** `sg mcp --help` of each executable (path and version), run once. */
const mcpChecks = new Map<string, Promise<string | undefined>>();

/** The `sg mcp` servers to offer: none until a checked sg with an MCP server is found. */
async function mcpDefinitions(): Promise<vscode.McpStdioServerDefinition[]> {
  const found = await resolving;
  if (!found?.ok) {
    return [];
  }
  const key = `${found.path}\0${found.version}`;
  let checked = mcpChecks.get(key);
  if (!checked) {
    checked = checkMcp(found.path);
    mcpChecks.set(key, checked);
    void checked.then((why) => why && output.appendLine(`sg mcp is not offered to agents: ${why}`));
  }
  if (await checked) {
    return [];
  }
  const folders = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => ({ name: f.name, fsPath: f.uri.fsPath }));
  return mcpServerSpecs(folders, found, settings()).map((spec) => {
    const def = new vscode.McpStdioServerDefinition(spec.label, spec.command, spec.args, spec.env, spec.version);
    def.cwd = vscode.Uri.file(spec.cwd);
    return def;
  });
}

/**
 * Offers `sg mcp` to VS Code's agents, when this VS Code has the MCP server definition API (1.101+; other
 * hosts of VS Code extensions may lack it): checked at run time, so activation never depends on it.
 */
function registerMcpProvider(context: vscode.ExtensionContext): void {
  const lm = vscode.lm as Partial<typeof vscode.lm> | undefined;
  if (typeof lm?.registerMcpServerDefinitionProvider !== 'function' || typeof vscode.McpStdioServerDefinition !== 'function') {
    output.appendLine('This editor has no MCP server definition API: sg mcp is not offered to its agents.');
    return;
  }
  const changed = new vscode.EventEmitter<void>();
  mcpChanged = changed;
  context.subscriptions.push(
    changed,
    { dispose: () => (mcpChanged = undefined) },
    lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, {
      onDidChangeMcpServerDefinitions: changed.event,
      provideMcpServerDefinitions: () => mcpDefinitions(),
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
  );
}

function registerTool(context: vscode.ExtensionContext): void {
  if (!vscode.lm?.registerTool) {
    return;
  }
  const tool: vscode.LanguageModelTool<ToolInput> = {
    async prepareInvocation(options) {
      return { invocationMessage: `Searching the code for "${options.input.query}"` };
    },
    async invoke(options, token) {
      const c = client;
      if (!c || c.state !== State.Running) {
        throw new Error('sg is not running: run "sg: Restart" or check "sg: Show status".');
      }
      const { query, limit, mode, paths, languages, kinds } = options.input;
      const r = await c.sendRequest(
        searchRequest,
        { query, limit: limit ? Math.min(limit, 50) : undefined, mode, paths, languages, kinds, context: searchContext() },
        token,
      );
      return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(resultsForModel(query, r))]);
    },
  };
  context.subscriptions.push(vscode.lm.registerTool('sg_search', tool));
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('sg');
  statusItem = vscode.window.createStatusBarItem('sg.status', vscode.StatusBarAlignment.Left, 10);
  statusItem.name = 'sg';
  statusItem.command = 'sg.showStatus';
  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand('sg.find', search),
    vscode.commands.registerCommand('sg.showStatus', () => showStatus(context)),
    vscode.commands.registerCommand('sg.reindexWorkspace', reindex),
    vscode.commands.registerCommand('sg.restart', () => restart(context)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('sg')) {
        return;
      }
      if (!client || RESTART_SETTINGS.some((k) => e.affectsConfiguration(`sg.${k}`))) {
        await restart(context);
      } else {
        await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { sg: settings() } });
        mcpChanged?.fire();
        await refreshStatus();
      }
    }),
    { dispose: () => pollTimer && clearTimeout(pollTimer) },
  );
  registerTool(context);
  registerMcpProvider(context);
  await restart(context);
}

export async function deactivate(): Promise<void> {
  if (pollTimer) {
    clearTimeout(pollTimer);
  }
  await client?.stop();
}
