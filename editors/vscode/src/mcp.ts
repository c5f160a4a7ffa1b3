// The `sg mcp` servers the extension offers to VS Code's agents (an MCP server definition provider): one
// per workspace folder, since `sg mcp --root` serves one folder. Plain Node: no VS Code API, so it is
// unit-tested; extension.ts turns each spec into a `vscode.McpStdioServerDefinition`.

import * as path from 'node:path';

import type { ServerSettingName } from './settings';

/** The provider's id, as contributed in package.json (`contributes.mcpServerDefinitionProviders`). */
export const MCP_PROVIDER_ID = 'sg.mcp';

/** A workspace folder on disk. */
export interface McpFolder {
  name: string;
  fsPath: string;
}

/** What a `vscode.McpStdioServerDefinition` is made of. */
export interface McpServerSpec {
  label: string;
  command: string;
  args: string[];
  /** Added to (overriding) the extension host's environment. */
  env: Record<string, string>;
  /** Started in the folder it serves. */
  cwd: string;
  /** sg's version: VS Code offers to refresh the tools when it changes. */
  version: string;
}

function set(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/**
 * The `sg mcp` options that carry the user's settings (by the server's names, as `serverSettings` gives
 * them), so that `sg mcp` opens the same index as the editor's `sg lsp`:
 *
 * - `indexDir` is the base folder of the indexes, which `sg mcp` takes from `$SG_INDEX_DIR` (its
 *   `--index-dir` is one workspace's index folder itself, another thing); the language server keeps the
 *   embedding cache in `<indexDir>/embeddings`, so `--cache-dir` says the same.
 * - `modelPath` is `--model-path`; `embed: false` is `--no-embed`.
 * - `exclude` is one `--exclude=<glob>` each and `maxFileSize` is `--max-file-size`: what is indexed must
 *   be what the language server indexes, since both share the index.
 * - `limit` has no counterpart: each MCP `search` call says how many results it wants.
 */
export function mcpOptions(settings: Partial<Record<ServerSettingName, unknown>>): { args: string[]; env: Record<string, string> } {
  const args: string[] = [];
  const env: Record<string, string> = {};
  const indexDir = settings.indexDir;
  if (set(indexDir)) {
    env.SG_INDEX_DIR = String(indexDir);
    args.push('--cache-dir', path.join(String(indexDir), 'embeddings'));
  }
  if (set(settings.modelPath)) {
    args.push('--model-path', String(settings.modelPath));
  }
  if (settings.embed === false) {
    args.push('--no-embed');
  }
  if (Array.isArray(settings.exclude)) {
    for (const glob of settings.exclude) {
      if (typeof glob === 'string' && glob !== '') {
        // `=`: a glob starting with `-` stays a value.
        args.push(`--exclude=${glob}`);
      }
    }
  }
  if (typeof settings.maxFileSize === 'number') {
    args.push('--max-file-size', String(settings.maxFileSize));
  }
  return { args, env };
}

/**
 * One `sg mcp --root <folder>` per workspace folder, run with the checked sg executable. No folder gives
 * no server: `sg mcp` would otherwise serve whatever folder the editor was started in.
 */
export function mcpServerSpecs(
  folders: readonly McpFolder[],
  exe: { path: string; version: string },
  settings: Partial<Record<ServerSettingName, unknown>>,
): McpServerSpec[] {
  const { args, env } = mcpOptions(settings);
  const names = folders.map((f) => f.name);
  return folders.map((f) => ({
    // Two folders of the same name are told apart by their path.
    label: folders.length === 1 ? 'sg' : names.indexOf(f.name) === names.lastIndexOf(f.name) ? `sg: ${f.name}` : `sg: ${f.fsPath}`,
    command: exe.path,
    args: ['mcp', '--root', f.fsPath, ...args],
    env: { ...env },
    cwd: f.fsPath,
    version: exe.version,
  }));
}
