-- sg for Neovim (0.7+): starts `sg lsp` once per project root, attaches it to buffers, and runs
-- `sg/search` into the quickfix list. Only APIs present in Neovim 0.7 are used.

local M = {}

M.config = {
  -- How to start the server.
  cmd = { 'sg', 'lsp' },
  -- Buffers of these filetypes get the server ('*' for all).
  filetypes = {
    'c', 'cpp', 'cs', 'go', 'java', 'javascript', 'javascriptreact', 'typescript',
    'typescriptreact', 'python', 'ruby', 'rust', 'php', 'lua', 'kotlin', 'scala', 'swift',
    'bash', 'sh', 'markdown', 'html', 'css', 'json', 'yaml', 'toml',
  },
  -- A file or folder marking a project root; the nearest one above the buffer wins.
  root_markers = { '.git', '.hg', '.sgignore' },
  -- Sent as initializationOptions (see docs/protocol.md: indexDir, modelPath, exclude, maxFileSize,
  -- limit, embed).
  init_options = {},
  -- Number of results of :SgSearch (nil: the server's `limit` setting).
  limit = nil,
  -- Open the quickfix window after a search.
  open_quickfix = true,
}

-- client id by root folder
M.clients = {}

local function notify(msg, level)
  vim.notify('sg: ' .. msg, level or vim.log.levels.INFO)
end

--- Merges `opts` into the configuration.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
end

local function is_dir(path)
  return vim.fn.isdirectory(path) == 1
end

--- The project root of a file: the nearest folder holding a root marker, else the current folder.
function M.root_of(fname)
  local dir = fname ~= '' and vim.fn.fnamemodify(fname, ':p:h') or vim.fn.getcwd()
  while dir and dir ~= '' do
    for _, marker in ipairs(M.config.root_markers) do
      local p = dir .. '/' .. marker
      if vim.fn.filereadable(p) == 1 or is_dir(p) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.getcwd()
end

local function wants(ft)
  for _, f in ipairs(M.config.filetypes) do
    if f == '*' or f == ft then
      return true
    end
  end
  return false
end

local function live(id)
  return id and vim.lsp.get_client_by_id(id) ~= nil
end

--- The client serving `root`, started when needed. Returns the client id.
function M.client_for_root(root)
  local id = M.clients[root]
  if live(id) then
    return id
  end
  id = vim.lsp.start_client({
    name = 'sg',
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ':t') } },
    init_options = M.config.init_options,
    on_exit = function()
      if M.clients[root] == id then
        M.clients[root] = nil
      end
    end,
  })
  if not id then
    notify('could not start ' .. table.concat(M.config.cmd, ' '), vim.log.levels.ERROR)
    return nil
  end
  M.clients[root] = id
  return id
end

--- Attaches the sg client of the buffer's project to the buffer. Returns the client id.
function M.attach(bufnr, force)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  if not force and not wants(vim.bo[bufnr].filetype) then
    return nil
  end
  local fname = vim.api.nvim_buf_get_name(bufnr)
  if fname == '' then
    return nil
  end
  local id = M.client_for_root(M.root_of(fname))
  if id and not vim.lsp.buf_is_attached(bufnr, id) then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- The sg client for the current buffer: the one attached to it, else the one of its root, else any.
function M.current_client()
  local bufnr = vim.api.nvim_get_current_buf()
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == 'sg' then
      return client
    end
  end
  local fname = vim.api.nvim_buf_get_name(bufnr)
  local id = M.clients[M.root_of(fname)]
  if live(id) then
    return vim.lsp.get_client_by_id(id)
  end
  for _, cid in pairs(M.clients) do
    if live(cid) then
      return vim.lsp.get_client_by_id(cid)
    end
  end
  return nil
end

--- Editor context of a search: the current document, the cursor, and the loaded file buffers.
function M.context()
  local bufnr = vim.api.nvim_get_current_buf()
  local ctx = { openUris = {} }
  if vim.api.nvim_buf_get_name(bufnr) ~= '' and vim.bo[bufnr].buftype == '' then
    ctx.currentUri = vim.uri_from_bufnr(bufnr)
    local cursor = vim.api.nvim_win_get_cursor(0)
    -- Only the line is used by the server (to leave out the symbol under the cursor).
    ctx.position = { line = cursor[1] - 1, character = cursor[2] }
  end
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].buftype == '' and vim.api.nvim_buf_get_name(b) ~= '' then
      table.insert(ctx.openUris, vim.uri_from_bufnr(b))
    end
  end
  if #ctx.openUris == 0 then
    -- An empty Lua table would be sent as an object, not a list.
    ctx.openUris = nil
  end
  return ctx
end

local function first_line(s)
  return ((s or ''):gsub('^%s+', ''):match('[^\n]*') or '')
end

--- Quickfix items of `sg/search` results.
function M.to_qf_items(results)
  local items = {}
  for _, r in ipairs(results or {}) do
    local label = r.symbol and (r.symbol .. (r.kind and (' [' .. r.kind .. ']') or '')) or r.path
    table.insert(items, {
      filename = vim.uri_to_fname(r.uri),
      lnum = r.range.start.line + 1,
      end_lnum = r.range['end'].line,
      col = 1,
      text = label .. ': ' .. first_line(r.snippet),
    })
  end
  return items
end

--- Sends `sg/search` with the sg client's own request function.
--- `opts`: limit, mode, paths, languages, kinds (as in docs/protocol.md), quickfix (default true),
--- on_result(err, result) called after the quickfix list is set.
function M.search(query, opts)
  opts = opts or {}
  if not query or query == '' then
    notify('usage: :SgSearch {query}', vim.log.levels.WARN)
    return false
  end
  local client = M.current_client()
  if not client then
    local id = M.attach(0, true)
    client = id and vim.lsp.get_client_by_id(id)
  end
  if not client then
    notify('no sg server for this buffer', vim.log.levels.ERROR)
    return false
  end
  local params = {
    query = query,
    limit = opts.limit or M.config.limit,
    mode = opts.mode,
    paths = opts.paths,
    languages = opts.languages,
    kinds = opts.kinds,
    context = M.context(),
  }
  local function handler(err, result)
    if err then
      notify('search failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif opts.quickfix ~= false then
      vim.fn.setqflist({}, ' ', { title = 'sg: ' .. query, items = M.to_qf_items(result.results) })
      if #result.results == 0 then
        notify('no results for ' .. query .. (result.note and (' (' .. result.note .. ')') or ''))
      elseif M.config.open_quickfix then
        vim.cmd('copen')
      end
    end
    if opts.on_result then
      opts.on_result(err, result)
    end
  end
  return client.request('sg/search', params, handler, vim.api.nvim_get_current_buf())
end

--- Runs a `workspace/executeCommand` command of sg (`sg.status`, `sg.reindex`).
function M.command(command, callback)
  local client = M.current_client()
  if not client then
    notify('no sg server for this buffer', vim.log.levels.ERROR)
    return false
  end
  return client.request('workspace/executeCommand', { command = command, arguments = {} }, function(err, result)
    if callback then
      return callback(err, result)
    end
    if err then
      notify(command .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif result then
      for _, f in ipairs(result.folders or {}) do
        notify(string.format('%s: %d files, %d chunks, %d embedded, %d pending', f.root, f.files or 0,
          f.chunks or 0, f.embedded or 0, f.pendingFiles or 0))
      end
    end
  end, vim.api.nvim_get_current_buf())
end

return M
