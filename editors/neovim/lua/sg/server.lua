-- Finding the sg executable and checking it is sg the code search server. On Debian `/usr/bin/sg` is
-- shadow-utils' `sg` (run a command as another group) and ast-grep installs an `sg` too, so the first
-- `sg` on PATH may be the wrong program. The rules are those of every sg editor client (docs/editors.md):
-- the configured command alone when set; else `$CARGO_HOME/bin/sg` (default `~/.cargo/bin/sg`), then
-- each `sg` on PATH in order. A candidate is accepted when `sg --version` prints `sg <version>` and
-- `sg lsp --help` succeeds.

local M = {}

M.install_hint = 'Install sg with `cargo install --path .` from a checkout of the sg repository '
  .. '(it goes to ~/.cargo/bin/sg), or pass `cmd = { "/path/to/sg", "lsp" }` to require("sg").setup().'

-- Checks already made, by path: { ok = bool, version = string?, reason = string? }.
local cache = {}

local function expand(p)
  if p == '~' or p:sub(1, 2) == '~/' then
    return (vim.env.HOME or '') .. p:sub(2)
  end
  return p
end

--- The executables to try, in order: { { path = ..., source = 'cmd'|'cargo'|'PATH' } }.
function M.candidates(explicit)
  if explicit and explicit ~= '' then
    return { { path = expand(explicit), source = 'cmd' } }
  end
  local out, seen = {}, {}
  local function add(p, source)
    if vim.fn.executable(p) ~= 1 or vim.fn.isdirectory(p) == 1 then
      return
    end
    -- The same file twice (`/bin` is `/usr/bin` on merged-/usr systems) is tried once.
    local real = vim.loop.fs_realpath(p) or p
    if not seen[real] then
      seen[real] = true
      table.insert(out, { path = p, source = source })
    end
  end
  local cargo_home = vim.env.CARGO_HOME
  if not cargo_home or cargo_home == '' then
    cargo_home = (vim.env.HOME or '') .. '/.cargo'
  end
  add(cargo_home .. '/bin/sg', 'cargo')
  for dir in string.gmatch(vim.env.PATH or '', '[^:]+') do
    add(expand(dir) .. '/sg', 'PATH')
  end
  return out
end

--- Runs `argv` with no input for at most `timeout_ms`; returns exit code (nil on failure), output, error.
function M.run(argv, timeout_ms)
  local out = {}
  local function collect(_, data)
    for _, line in ipairs(data or {}) do
      if line ~= '' then
        table.insert(out, line)
      end
    end
  end
  local ok, id = pcall(vim.fn.jobstart, argv, {
    stdin = 'null',
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = collect,
    on_stderr = collect,
  })
  if not ok or id <= 0 then
    return nil, '', ok and 'cannot be run' or tostring(id)
  end
  local code = vim.fn.jobwait({ id }, timeout_ms or 5000)[1]
  if code == -1 then
    vim.fn.jobstop(id)
    return nil, table.concat(out, '\n'), string.format('no answer within %d ms', timeout_ms or 5000)
  end
  return code, table.concat(out, '\n'), nil
end

--- The version in `sg --version` output when it is sg the code search server's (`sg 0.1.0`).
function M.parse_version(output)
  local first = (output or ''):match('^[^\n]*') or ''
  return first:match('^sg (%d+%.%d+%.%d+%S*)%s*$')
end

--- Names the program behind a wrong `sg`, when it is a known one.
function M.identify(output)
  if output:lower():find('ast%-grep') then
    return 'ast-grep'
  end
  if output:find('sg group') or output:find('newgrp') or output:find("group '.*' does not exist") then
    return "shadow-utils' sg (runs a command as another group)"
  end
  return nil
end

--- Checks `path`: returns true and the version, or false and why it was refused.
function M.check(path, timeout_ms)
  if cache[path] then
    return cache[path].ok, cache[path].ok and cache[path].version or cache[path].reason
  end
  local function done(ok, what)
    cache[path] = { ok = ok, version = ok and what or nil, reason = not ok and what or nil }
    return ok, what
  end
  local code, out, err = M.run({ path, '--version' }, timeout_ms)
  if err then
    return done(false, 'cannot be run (' .. err .. ')')
  end
  local version = code == 0 and M.parse_version(out) or nil
  if not version then
    local who = M.identify(out)
    local said = out == '' and 'printed nothing' or ('printed "' .. (out:match('[^\n]+') or '') .. '"')
    return done(false, string.format('is not sg the code search server%s (`--version` %s, exit %s)',
      who and (': it is ' .. who) or '', said, tostring(code)))
  end
  code = M.run({ path, 'lsp', '--help' }, timeout_ms)
  if code ~= 0 then
    return done(false, 'is sg ' .. version
      .. ' without the language server (`sg lsp --help` failed: build it with the default features)')
  end
  return done(true, version)
end

--- Forgets earlier checks (after installing sg, say).
function M.reset()
  cache = {}
end

--- The sg to run: returns { path, version, source }, or nil and a message saying what to install.
function M.resolve(explicit)
  local list = M.candidates(explicit)
  local refused = {}
  for _, c in ipairs(list) do
    local ok, what = M.check(c.path)
    if ok then
      return { path = c.path, version = what, source = c.source }
    end
    table.insert(refused, c.path .. ' ' .. what)
  end
  if explicit and explicit ~= '' then
    return nil, 'the configured `cmd`: ' .. refused[1] .. '. ' .. M.install_hint
  end
  if #list == 0 then
    return nil, 'sg was not found (neither ~/.cargo/bin/sg nor an sg on PATH). ' .. M.install_hint
  end
  return nil, 'no usable sg was found: ' .. table.concat(refused, '; ') .. '. ' .. M.install_hint
end

return M
