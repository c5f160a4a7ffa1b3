// sg for VS Code: starts `sg lsp`, and adds "sg: Search", a live QuickPick over `sg/search`.

import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from 'vscode-languageclient/node';

import { SearchParams, SearchResultItem, StatusResult, searchRequest } from './lsp_ext';

let client: LanguageClient | undefined;

function settings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration('sg');
  const out: Record<string, unknown> = {
    embed: cfg.get<boolean>('embed', true),
    limit: cfg.get<number>('limit', 10),
    exclude: cfg.get<string[]>('exclude', []),
    maxFileSize: cfg.get<number>('maxFileSize', 1_000_000),
  };
  const indexDir = cfg.get<string | null>('indexDir', null);
  if (indexDir) {
    out.indexDir = indexDir;
  }
  const modelPath = cfg.get<string | null>('modelPath', null);
  if (modelPath) {
    out.modelPath = modelPath;
  }
  return out;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const command = vscode.workspace.getConfiguration('sg').get<string>('path', 'sg');
  const serverOptions: ServerOptions = { command, args: ['lsp'] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }],
    initializationOptions: settings(),
    outputChannelName: 'sg',
  };
  client = new LanguageClient('sg', 'sg', serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

interface ResultItem extends vscode.QuickPickItem {
  result: SearchResultItem;
}

function searchContext(): SearchParams['context'] {
  const editor = vscode.window.activeTextEditor;
  const openUris = vscode.workspace.textDocuments
    .filter((d) => d.uri.scheme === 'file')
    .map((d) => d.uri.toString());
  return {
    currentUri: editor?.document.uri.toString(),
    position: editor
      ? { line: editor.selection.active.line, character: editor.selection.active.character }
      : undefined,
    openUris,
  };
}

function toItem(r: SearchResultItem): ResultItem {
  const line = r.range.start.line + 1;
  const first = r.snippet.split('\n').find((l) => l.trim() !== '') ?? '';
  return {
    label: r.symbol ?? r.path,
    description: `${r.path}:${line}${r.kind ? ` · ${r.kind}` : ''}`,
    detail: first.trim(),
    result: r,
  };
}

async function reveal(r: SearchResultItem): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(r.uri));
  const start = new vscode.Position(r.range.start.line, 0);
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, start) });
}

async function search(): Promise<void> {
  if (!client) {
    return;
  }
  const lsp = client;
  const pick = vscode.window.createQuickPick<ResultItem>();
  pick.placeholder = 'Search code by meaning or by name';
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  const context = searchContext();
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  const run = (query: string) => {
    const mine = ++generation;
    if (query.trim() === '') {
      pick.items = [];
      return;
    }
    pick.busy = true;
    lsp.sendRequest(searchRequest, { query, context }).then(
      (r) => {
        if (mine !== generation) {
          return;
        }
        pick.busy = false;
        pick.items = r.results.map(toItem);
        pick.title = r.note ? `sg: ${r.note}` : `sg: ${r.results.length} results in ${r.elapsedMs.toFixed(0)} ms`;
      },
      (err: unknown) => {
        if (mine === generation) {
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
    timer = setTimeout(() => run(value), 120);
  });
  pick.onDidAccept(async () => {
    const chosen = pick.selectedItems[0];
    pick.hide();
    if (chosen) {
      await reveal(chosen.result);
    }
  });
  pick.onDidHide(() => pick.dispose());
  const selected = vscode.window.activeTextEditor?.document.getText(vscode.window.activeTextEditor.selection);
  if (selected && !selected.includes('\n')) {
    pick.value = selected;
    run(selected);
  }
  pick.show();
}

async function showStatus(): Promise<void> {
  if (!client) {
    return;
  }
  const status = (await client.sendRequest(ExecuteCommandRequest.type, {
    command: 'sg.status',
    arguments: [],
  })) as StatusResult;
  const lines = status.folders.map((f) =>
    f.error
      ? `${f.root}: ${f.error}`
      : `${f.root}: ${f.files} files, ${f.chunks} chunks, ${f.embedded} embedded, ${f.pendingFiles} pending`,
  );
  vscode.window.showInformationMessage(lines.join(' | ') || 'sg: no folder open');
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('sg.find', search),
    vscode.commands.registerCommand('sg.showStatus', showStatus),
    vscode.commands.registerCommand('sg.restart', async () => {
      await client?.stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!client || !e.affectsConfiguration('sg')) {
        return;
      }
      if (e.affectsConfiguration('sg.path') || e.affectsConfiguration('sg.embed') || e.affectsConfiguration('sg.modelPath') || e.affectsConfiguration('sg.indexDir')) {
        // These are read when the server starts.
        await client.stop();
        await start(context);
      } else {
        await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { sg: settings() } });
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
