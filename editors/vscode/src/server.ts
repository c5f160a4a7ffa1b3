// Finding the sg executable and making sure it is sg the code search server. On Debian `/usr/bin/sg` is
// shadow-utils' `sg` (run a command as another group), and ast-grep installs an `sg` too, so the first
// `sg` on PATH may be the wrong program. Plain Node: no VS Code API, so it is unit-tested.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const INSTALL_HINT =
  'Install sg with `cargo install --path .` from a checkout of the sg repository (it goes to ~/.cargo/bin/sg), ' +
  'or set `sg.path` to the sg executable.';

/** `sg --version` of sg the code search server: `sg 0.1.0`. ast-grep prints `ast-grep 0.x.y`; shadow-utils' sg fails. */
export const VERSION_RE = /^sg (\d+\.\d+\.\d+\S*)$/;

export interface Candidate {
  path: string;
  /** Where it was found: the setting, cargo's bin folder, or PATH. */
  source: 'setting' | 'cargo' | 'PATH';
}

export type Check = { ok: true; version: string } | { ok: false; reason: string };

export type Resolved = { ok: true; path: string; version: string; source: Candidate['source'] } | { ok: false; message: string };

function exeName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'sg.exe' : 'sg';
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/**
 * The executables to try, in order: the setting alone when it is set; else `$CARGO_HOME/bin/sg` (default
 * `~/.cargo/bin/sg`), then every `sg` on PATH.
 */
export function candidates(
  setting: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
  platform: NodeJS.Platform = process.platform,
): Candidate[] {
  if (setting && setting.trim() !== '') {
    return [{ path: expandHome(setting.trim(), home), source: 'setting' }];
  }
  const exe = exeName(platform);
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (p: string, source: Candidate['source']) => {
    if (!isFile(p)) {
      return;
    }
    // The same file twice (`/bin` is `/usr/bin` on merged-/usr systems) is tried once.
    const real = realpath(p);
    if (!seen.has(real)) {
      seen.add(real);
      out.push({ path: p, source });
    }
  };
  add(path.join(env.CARGO_HOME || path.join(home, '.cargo'), 'bin', exe), 'cargo');
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '') {
      add(path.join(expandHome(dir, home), exe), 'PATH');
    }
  }
  return out;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Runs `file args` with no input, for at most `timeoutMs`. */
export function run(file: string, args: string[], timeoutMs = 5000): Promise<Run> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (r: Run) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (e) {
      resolve({ code: null, stdout, stderr, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const timer = setTimeout(() => {
      child.kill();
      finish({ code: null, stdout, stderr, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => finish({ code: null, stdout, stderr, error: e.message }));
    child.on('close', (code) => finish({ code, stdout, stderr }));
  });
}

/** The version in `sg --version` output, when it is sg the code search server's. */
export function parseVersion(stdout: string): string | undefined {
  const first = stdout.split(/\r?\n/, 1)[0].trim();
  return VERSION_RE.exec(first)?.[1];
}

function firstLine(s: string): string {
  const line = s.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.length > 120 ? line.slice(0, 120) + '...' : line.trim();
}

/** Names the program behind a wrong `sg`, when it is a known one. */
export function identify(output: string): string | undefined {
  if (/ast-grep/i.test(output)) {
    return 'ast-grep';
  }
  if (/sg group|newgrp|group '.*' does not exist/i.test(output)) {
    return "shadow-utils' sg (runs a command as another group)";
  }
  return undefined;
}

/**
 * Checks that `bin` is sg the code search server with its language server: `bin --version` must print
 * `sg <version>` and exit 0, and `bin lsp --help` must exit 0 (an sg built without the `lsp` feature fails it).
 */
export async function check(bin: string, timeoutMs = 5000): Promise<Check> {
  const v = await run(bin, ['--version'], timeoutMs);
  if (v.error) {
    return { ok: false, reason: `cannot be run (${v.error})` };
  }
  const version = v.code === 0 ? parseVersion(v.stdout) : undefined;
  if (!version) {
    const out = (v.stdout + '\n' + v.stderr).trim();
    const who = identify(out);
    const said = out === '' ? 'printed nothing' : `printed "${firstLine(out)}"`;
    return {
      ok: false,
      reason: `is not sg the code search server${who ? `: it is ${who}` : ''} (\`--version\` ${said}, exit ${v.code})`,
    };
  }
  const h = await run(bin, ['lsp', '--help'], timeoutMs);
  if (h.error || h.code !== 0) {
    return {
      ok: false,
      reason: `is sg ${version} without the language server (\`sg lsp --help\` failed: build it with the default features)`,
    };
  }
  return { ok: true, version };
}

/**
 * Whether the checked sg `bin` also has the MCP server: `bin mcp --help` exits 0 (an sg built without the
 * `mcp` feature fails it). Undefined when it does, else why not.
 */
export async function checkMcp(bin: string, timeoutMs = 5000): Promise<string | undefined> {
  const h = await run(bin, ['mcp', '--help'], timeoutMs);
  if (h.error || h.code !== 0) {
    return `${bin} has no MCP server (\`sg mcp --help\` ${h.error ? `failed: ${h.error}` : `exited ${h.code}`}: build it with the default features)`;
  }
  return undefined;
}

/** The first candidate that passes `check`, or a message saying what was found and what to install. */
export async function resolveServer(
  setting: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
  settingName = 'sg.path',
): Promise<Resolved> {
  const hint = INSTALL_HINT.replace('`sg.path`', `\`${settingName}\``);
  const list = candidates(setting, env, home);
  const rejected: string[] = [];
  for (const c of list) {
    const r = await check(c.path);
    if (r.ok) {
      return { ok: true, path: c.path, version: r.version, source: c.source };
    }
    rejected.push(`${c.path} ${r.reason}`);
  }
  if (setting && setting.trim() !== '') {
    return { ok: false, message: `The \`${settingName}\` setting: ${rejected[0]}. ${hint}` };
  }
  if (list.length === 0) {
    return { ok: false, message: `sg was not found (neither ~/.cargo/bin/sg nor an sg on PATH). ${hint}` };
  }
  return { ok: false, message: `No usable sg was found: ${rejected.join('; ')}. ${hint}` };
}
