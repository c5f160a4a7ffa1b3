// A minimal Model Context Protocol client for tests: starts a server process and speaks JSON-RPC 2.0 to
// it over stdio, one JSON message per line (MCP's stdio transport), as VS Code does with a
// `McpStdioServerDefinition`.

import { ChildProcess, spawn } from 'node:child_process';

interface Pending {
  method: string;
  resolve(result: any): void;
  reject(err: Error): void;
}

export class McpStdioClient {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';
  /** The server's stderr (its logs), for failure messages. */
  stderr = '';
  private exited: Promise<number | null>;

  /** Starts `command args` in `cwd`, its environment the test's own with `env` laid over it (null removes). */
  constructor(command: string, args: string[], cwd: string, env: Record<string, string | number | null>) {
    const full: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(env)) {
      if (v === null) {
        delete full[k];
      } else {
        full[k] = String(v);
      }
    }
    this.child = spawn(command, args, { cwd, env: full, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => this.receive(d));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      for (const p of this.pending.values()) {
        p.reject(new Error(`the server exited (${code}) before answering ${p.method}; stderr:\n${this.stderr}`));
      }
      this.pending.clear();
    });
  }

  private receive(data: string): void {
    this.buffered += data;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (line === '') {
        continue;
      }
      const msg = JSON.parse(line);
      const p = typeof msg.id === 'number' && !('method' in msg) ? this.pending.get(msg.id) : undefined;
      if (p) {
        this.pending.delete(msg.id);
        if (msg.error) {
          p.reject(new Error(`${p.method}: ${msg.error.code} ${msg.error.message}`));
        } else {
          p.resolve(msg.result);
        }
      } else if ('method' in msg && 'id' in msg) {
        // A request from the server (roots/list, ping...): this client offers nothing.
        this.send({ jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `${msg.method} not supported` } });
      }
    }
  }

  private send(msg: unknown): void {
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  request(method: string, params?: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  notify(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Closes the server's stdin (how a stdio client ends the session) and gives its exit status. */
  close(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }

  /** Stops the process if it is still running (cleanup after a failure). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill();
    }
  }
}
