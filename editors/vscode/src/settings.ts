// The extension's settings and how they map to the server's settings (docs/protocol.md, "Settings").

/** Settings passed to the server, by the server's own names (`sg.<name>` in VS Code). */
export const SERVER_SETTINGS = ['indexDir', 'modelPath', 'embed', 'exclude', 'maxFileSize', 'limit'] as const;

/** Settings of the extension itself, never sent. */
export const EXTENSION_SETTINGS = ['path'] as const;

/** Settings the server reads only when it starts: a change restarts it. */
export const RESTART_SETTINGS = ['path', 'indexDir', 'modelPath', 'embed'] as const;

export type ServerSettingName = (typeof SERVER_SETTINGS)[number];

/**
 * The server's settings from `get(name)` (VS Code's `sg.<name>`). An unset value (undefined, null or an
 * empty string) is sent as `null`, which restores the server's default.
 */
export function serverSettings(get: (name: ServerSettingName) => unknown): Record<ServerSettingName, unknown> {
  const out = {} as Record<ServerSettingName, unknown>;
  for (const name of SERVER_SETTINGS) {
    const v = get(name);
    out[name] = v === undefined || v === null || v === '' ? null : v;
  }
  return out;
}
