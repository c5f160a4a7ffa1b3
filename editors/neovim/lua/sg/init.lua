-- sg for Neovim (0.7+): finds and checks the sg executable, starts `sg lsp` once per project root,
-- attaches it to the project's buffers, and searches with `sg/search` into a picker (Telescope when
-- installed, searching again as the prompt changes; else vim.ui.select) or the quickfix list. Requests
-- go to the sg client only.

local server = require('sg.server')

local M = {}

local defaults = {
  -- How to start the server, e.g. { '/path/to/sg', 'lsp' }. nil: find sg (lua/sg/server.lua).
  cmd = nil,
  -- sg's settings, sent as initializationOptions (docs/protocol.md): indexDir, modelPath, embed,
  -- exclude, maxFileSize, limit.
  settings = {},
  -- A file or folder marking a project root: the nearest one above a buffer wins. Buffers outside any
  -- root are not attached automatically (the commands then use the current directory).
  root_markers = { '.git', '.hg', '.jj', '.sgignore' },
  -- Only buffers of these filetypes attach; nil: every file buffer.
  filetypes = nil,
  -- Number of results of :Sg (nil: the server's `limit` setting).
  limit = nil,
  -- 'telescope', 'select' (vim.ui.select) or nil (Telescope when installed, else vim.ui.select).
  picker = nil,
  -- Milliseconds the live Telescope picker waits for each search before showing nothing.
  live_timeout = 3000,
  -- Announce indexing phases with vim.notify.
  notify_progress = true,
  -- Open the quickfix window after :Sg!.
  open_quickfix = true,
}

M.config = vim.deepcopy(defaults)

-- client id by root folder
M.clients = {}

-- indexing phases in flight, by client id then token: { title, message, percentage }
local progress = {}

local function notify(msg, level)
  vim.notify('sg: ' .. msg, level or vim.log.levels.INFO)
end

-- Neovim 0.11 wants client methods called with `:`; 0.7 only has the `.` form.
local new_methods = vim.fn.has('nvim-0.11') == 1

local function request(client, method, params, handler, bufnr)
  if new_methods then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

-- Waits for the answer: { err = ..., result = ... }, or nil and a reason on timeout.
local function request_sync(client, method, params, timeout_ms, bufnr)
  if new_methods then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

local function buf_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = bufnr, name = 'sg' })
  end
  local out = {}
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if c.name == 'sg' then
      table.insert(out, c)
    end
  end
  return out
end

local function live(id)
  return id ~= nil and vim.lsp.get_client_by_id(id) ~= nil
end

--- The settings as a JSON object: an empty Lua table would be sent as `[]`.
function M.init_options()
  local s = M.config.settings or {}
  if next(s) == nil then
    return vim.empty_dict()
  end
  return vim.deepcopy(s)
end

--- The project root holding `fname`: the nearest folder above it with a root marker, or nil.
function M.find_root(fname)
  local dir = vim.fn.fnamemodify(fname, ':p:h')
  while dir and dir ~= '' do
    for _, marker in ipairs(M.config.root_markers) do
      local p = dir .. '/' .. marker
      if vim.fn.filereadable(p) == 1 or vim.fn.isdirectory(p) == 1 then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return nil
end

--- Follows `$/progress` of an sg client: notifies the start and end of each indexing phase.
function M.on_progress(client_id, result)
  local token, value = result and result.token, result and result.value
  if type(value) ~= 'table' then
    return
  end
  progress[client_id] = progress[client_id] or {}
  local phases = progress[client_id]
  if value.kind == 'begin' then
    phases[token] = { title = value.title or 'sg', message = value.message, percentage = value.percentage }
    if M.config.notify_progress then
      vim.notify((value.title or 'sg: indexing') .. (value.message and (' ' .. value.message) or ''))
    end
  elseif value.kind == 'report' and phases[token] then
    phases[token].message = value.message or phases[token].message
    phases[token].percentage = value.percentage or phases[token].percentage
  elseif value.kind == 'end' then
    local phase = phases[token]
    phases[token] = nil
    if phase and M.config.notify_progress then
      vim.notify(phase.title .. ': done' .. (phase.message and (' (' .. phase.message .. ')') or ''))
    end
  end
end

--- A short text for a statusline: the indexing phase in flight, or ''.
function M.statusline()
  for _, phases in pairs(progress) do
    for _, p in pairs(phases) do
      local what = p.title:gsub('^sg: ', ''):gsub(' %(.*%)$', '')
      return 'sg: ' .. what .. (p.percentage and string.format(' %d%%', p.percentage) or '')
    end
  end
  return ''
end

local reported_missing = false

--- The client serving `root`, started when needed. Returns the client id, or nil.
function M.client_for_root(root)
  local id = M.clients[root]
  if live(id) then
    return id
  end
  local cmd = M.config.cmd
  if cmd == nil or type(cmd) == 'table' then
    local found, err = server.resolve(cmd and cmd[1] or nil)
    if not found then
      if not reported_missing then
        reported_missing = true
        notify(err, vim.log.levels.ERROR)
      end
      return nil
    end
    cmd = vim.list_extend({ found.path }, cmd and vim.list_slice(cmd, 2) or { 'lsp' })
  end
  local default_progress = vim.lsp.handlers['$/progress']
  id = vim.lsp.start_client({
    name = 'sg',
    cmd = cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ':t') } },
    init_options = M.init_options(),
    flags = { debounce_text_changes = 50 },
    handlers = {
      ['$/progress'] = function(err, result, ctx, config)
        if default_progress then
          pcall(default_progress, err, result, ctx, config)
        end
        M.on_progress(ctx.client_id, result)
      end,
    },
    on_exit = function(code)
      if M.clients[root] == id then
        M.clients[root] = nil
      end
      progress[id] = nil
      if code ~= 0 then
        vim.schedule(function()
          notify(string.format('the server for %s exited with status %d (see :LspLog)', root, code),
            vim.log.levels.WARN)
        end)
      end
    end,
  })
  if not id then
    notify('could not start ' .. table.concat(cmd, ' '), vim.log.levels.ERROR)
    return nil
  end
  M.clients[root] = id
  return id
end

local function wants(bufnr)
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
    return false
  end
  local fts = M.config.filetypes
  if fts == nil then
    return true
  end
  local ft = vim.bo[bufnr].filetype
  for _, f in ipairs(fts) do
    if f == '*' or f == ft then
      return true
    end
  end
  return false
end

--- Attaches the sg client of the buffer's project to the buffer. Returns the client id, or nil.
--- `root`: the project root (default: the nearest root marker; no marker, no client).
function M.attach(bufnr, root)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not wants(bufnr) then
    return nil
  end
  root = root or M.find_root(vim.api.nvim_buf_get_name(bufnr))
  if not root then
    return nil
  end
  local id = M.client_for_root(root)
  if id and not vim.lsp.buf_is_attached(bufnr, id) then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- The sg client for the current buffer: the one attached to it, else the one of its root or of the
--- current directory (started when needed).
function M.current_client()
  local bufnr = vim.api.nvim_get_current_buf()
  local attached = buf_clients(bufnr)[1]
  if attached then
    return attached
  end
  local fname = vim.api.nvim_buf_get_name(bufnr)
  local root = (fname ~= '' and M.find_root(fname)) or M.find_root(vim.fn.getcwd() .. '/.') or vim.fn.getcwd()
  local id = M.attach(bufnr, root) or M.client_for_root(root)
  return id and vim.lsp.get_client_by_id(id) or nil
end

--- Editor context of a search: the current document, the cursor, and the loaded file buffers.
function M.context()
  local bufnr = vim.api.nvim_get_current_buf()
  local ctx = vim.empty_dict()
  if vim.api.nvim_buf_get_name(bufnr) ~= '' and vim.bo[bufnr].buftype == '' then
    ctx.currentUri = vim.uri_from_bufnr(bufnr)
    local cursor = vim.api.nvim_win_get_cursor(0)
    ctx.position = { line = cursor[1] - 1, character = cursor[2] }
  end
  local open = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.bo[b].buftype == '' and vim.api.nvim_buf_get_name(b) ~= '' then
      table.insert(open, vim.uri_from_bufnr(b))
    end
  end
  if #open > 0 then
    ctx.openUris = open
  end
  return ctx
end

local function first_line(s)
  local line = (s or ''):gsub('^%s+', ''):match('[^\n]*') or ''
  return (line:gsub('%s+$', ''))
end

--- Why results may be missing while the index is built, or nil when it is complete.
function M.partial_note(index)
  if type(index) ~= 'table' then
    return nil
  end
  if (index.pendingFiles or 0) > 0 then
    return string.format('the index is still being built (%d files to go)', index.pendingFiles)
  end
  if (index.pendingEmbeddings or 0) > 0 and (index.chunks or 0) > 0 then
    return string.format('embeddings are %d%% done', math.floor(100 * (index.chunks - index.pendingEmbeddings) / index.chunks))
  end
  return nil
end

--- The message for a search without results: the index is still being built, or nothing is relevant.
function M.empty_message(query, result)
  local partial = M.partial_note(result and result.index)
  if partial then
    return string.format('no results for "%s" yet: %s; try again in a moment', query, partial)
  end
  return string.format('nothing relevant for "%s"%s', query,
    (result and result.note) and (' (' .. result.note .. ')') or '')
end

--- Picker and quickfix items of `sg/search` results, best first.
function M.items(results)
  local items = {}
  for _, r in ipairs(results or {}) do
    local target = r.matchRange or r.range
    local lnum = target.start.line + 1
    local name = r.symbol and (r.symbol .. (r.kind and (' [' .. r.kind .. ']') or '')) or r.path
    table.insert(items, {
      filename = vim.uri_to_fname(r.uri),
      lnum = lnum,
      end_lnum = math.max(lnum, r.range['end'].line),
      col = 1,
      text = name .. ': ' .. first_line(r.snippet),
      label = (string.format('%s  %s:%d  %s', r.symbol or '', r.path, lnum, first_line(r.snippet)):gsub('^%s+', '')),
      result = r,
    })
  end
  return items
end

--- Picker and quickfix items of `workspace/symbol` answers.
function M.symbol_items(symbols)
  local kinds = vim.lsp.protocol.SymbolKind
  local items = {}
  for _, s in ipairs(symbols or {}) do
    local fname = vim.uri_to_fname(s.location.uri)
    local lnum = s.location.range.start.line + 1
    local kind = kinds[s.kind] or 'Symbol'
    local path = s.containerName or vim.fn.fnamemodify(fname, ':.')
    table.insert(items, {
      filename = fname,
      lnum = lnum,
      col = 1,
      text = string.format('%s [%s]', s.name, kind),
      label = string.format('%s  [%s]  %s:%d', s.name, kind, path, lnum),
    })
  end
  return items
end

--- Opens an item: its file at its line, with the jump recorded.
function M.open(item)
  vim.cmd("normal! m'")
  local fname = item.filename
  if vim.api.nvim_buf_get_name(0) ~= fname then
    local cmd = (vim.bo.modified and not vim.o.hidden) and 'split ' or 'edit '
    vim.cmd(cmd .. vim.fn.fnameescape(fname))
  end
  local last = vim.api.nvim_buf_line_count(0)
  vim.api.nvim_win_set_cursor(0, { math.min(item.lnum, last), 0 })
  vim.cmd('normal! zvzz')
end

--- Fills the quickfix list with `items` (opening it unless `open` is false).
function M.to_quickfix(title, items, open)
  local qf = {}
  for _, it in ipairs(items) do
    table.insert(qf, { filename = it.filename, lnum = it.lnum, end_lnum = it.end_lnum, col = it.col, text = it.text })
  end
  vim.fn.setqflist({}, ' ', { title = title, items = qf })
  if open ~= false and M.config.open_quickfix then
    vim.cmd('copen')
  end
end

-- A Telescope entry of an item; `value` is the item, opened with M.open.
local function telescope_entry(it)
  return {
    value = it,
    display = it.label,
    ordinal = it.label,
    filename = it.filename,
    lnum = it.lnum,
    col = it.col,
    text = it.text,
  }
end

-- Choosing an entry opens it with M.open, as vim.ui.select does. Telescope without the actions modules
-- keeps its own action (which opens the entry's filename and lnum too).
local function telescope_attach(prompt_bufnr)
  local ok_actions, actions = pcall(require, 'telescope.actions')
  local ok_state, state = pcall(require, 'telescope.actions.state')
  if ok_actions and ok_state and actions.select_default and actions.select_default.replace then
    actions.select_default:replace(function()
      local entry = state.get_selected_entry()
      actions.close(prompt_bufnr)
      if entry and entry.value then
        M.open(entry.value)
      end
    end)
  end
  return true
end

local function telescope_pick(title, items)
  local pickers = require('telescope.pickers')
  local finders = require('telescope.finders')
  local sorters = require('telescope.sorters')
  local conf = require('telescope.config').values
  pickers.new({}, {
    prompt_title = title,
    finder = finders.new_table({
      results = items,
      entry_maker = telescope_entry,
    }),
    -- Keep sg's order: results found by meaning share no letters with the query.
    sorter = sorters.empty and sorters.empty() or conf.generic_sorter({}),
    previewer = conf.grep_previewer({}),
    attach_mappings = telescope_attach,
  }):find()
end

local function use_telescope()
  local which = M.config.picker
  return which == 'telescope' or (which == nil and pcall(require, 'telescope.pickers'))
end

--- Whether :Sg opens the live Telescope picker: Telescope is used and has dynamic finders.
function M.live_available()
  if not use_telescope() then
    return false
  end
  local ok, finders = pcall(require, 'telescope.finders')
  return ok and type(finders) == 'table' and type(finders.new_dynamic) == 'function'
end

local QUICKFIX_ITEM = { label = '⇒ all results to the quickfix list', quickfix = true }

--- Shows `items` in a picker; choosing one opens it. vim.ui.select gets a last entry that sends every
--- item to the quickfix list (titled `qf_title`, default `title`; Telescope has <C-q> for that).
function M.pick(title, items, qf_title)
  if use_telescope() then
    return telescope_pick(title, items)
  end
  local choices = vim.list_extend({}, items)
  table.insert(choices, QUICKFIX_ITEM)
  vim.ui.select(choices, {
    prompt = title,
    kind = 'sg',
    format_item = function(it)
      return it.label
    end,
  }, function(choice)
    if choice == nil then
      return
    elseif choice.quickfix then
      M.to_quickfix(qf_title or title, items)
    else
      M.open(choice)
    end
  end)
end

local function get_client()
  local client = M.current_client()
  if not client then
    notify('no sg server is running (see the error above, or :LspLog)', vim.log.levels.ERROR)
  end
  return client
end

local function search_params(query, opts, context)
  return {
    query = query,
    limit = opts.limit or M.config.limit,
    mode = opts.mode,
    paths = opts.paths,
    languages = opts.languages,
    kinds = opts.kinds,
    context = context,
  }
end

--- The items of a live search for `prompt`, best first: {} for an empty prompt, an error or a timeout.
--- `context` and `bufnr` are those of the buffer the picker was opened from.
function M.live_items(client, prompt, opts, context, bufnr)
  if type(prompt) ~= 'string' or vim.trim(prompt) == '' then
    return {}
  end
  local ok, answer = pcall(request_sync, client, 'sg/search', search_params(prompt, opts or {}, context),
    M.config.live_timeout, bufnr)
  if not ok or type(answer) ~= 'table' or answer.err or type(answer.result) ~= 'table' then
    return {}
  end
  return M.items(answer.result.results)
end

-- The Telescope picker that searches again whenever the prompt changes, starting from `query`.
local function telescope_live(client, query, opts)
  local pickers = require('telescope.pickers')
  local finders = require('telescope.finders')
  local sorters = require('telescope.sorters')
  local conf = require('telescope.config').values
  -- The context of the buffer searched from: once the picker is open, its prompt is the current buffer.
  local bufnr = vim.api.nvim_get_current_buf()
  local context = M.context()
  -- Keep sg's order: results found by meaning share no letters with the query.
  local sorter
  if sorters.highlighter_only then
    sorter = sorters.highlighter_only({})
  elseif sorters.empty then
    sorter = sorters.empty()
  else
    sorter = conf.generic_sorter({})
  end
  pickers.new({ default_text = query ~= '' and query or nil }, {
    prompt_title = 'sg search',
    finder = finders.new_dynamic({
      fn = function(prompt)
        return M.live_items(client, prompt, opts, context, bufnr)
      end,
      entry_maker = telescope_entry,
    }),
    sorter = sorter,
    previewer = conf.grep_previewer({}),
    attach_mappings = telescope_attach,
  }):find()
  return true
end

--- Searches with `sg/search` and shows the results.
--- `opts`: limit, mode, paths, languages, kinds (docs/protocol.md); quickfix = true to fill the quickfix
--- list instead of a picker; on_result(err, result) called afterwards. Returns whether it was sent.
--- With Telescope's dynamic finder (M.live_available()) the picker opens at once with `query` as its
--- prompt (which may be empty) and searches again as it changes; on_result is then not called.
function M.search(query, opts)
  opts = opts or {}
  local live = not opts.quickfix and M.live_available()
  if not live and (not query or query == '') then
    notify('usage: :Sg {query} (or :Sg! {query} for the quickfix list)', vim.log.levels.WARN)
    return false
  end
  local client = get_client()
  if not client then
    return false
  end
  if live then
    return telescope_live(client, query or '', opts)
  end
  local params = search_params(query, opts, M.context())
  local function handler(err, result)
    if err then
      notify('search failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif #result.results == 0 then
      notify(M.empty_message(query, result), M.partial_note(result.index) and vim.log.levels.WARN or nil)
      if opts.quickfix then
        M.to_quickfix('sg: ' .. query, {}, false)
      end
    else
      -- While documents are being (re)indexed the results may be incomplete: the picker says so.
      local partial = M.partial_note(result.index)
      local items = M.items(result.results)
      if opts.quickfix then
        M.to_quickfix('sg: ' .. query, items)
      else
        M.pick('sg: ' .. query .. (partial and (' (' .. partial .. ')') or ''), items, 'sg: ' .. query)
      end
    end
    if opts.on_result then
      opts.on_result(err, result)
    end
  end
  request(client, 'sg/search', params, handler, vim.api.nvim_get_current_buf())
  return true
end

--- Workspace symbols from the sg server only (vim.lsp.buf.workspace_symbol asks every server).
--- `opts`: quickfix, on_result(err, result).
function M.symbols(query, opts)
  opts = opts or {}
  local client = get_client()
  if not client then
    return false
  end
  request(client, 'workspace/symbol', { query = query or '' }, function(err, result)
    if err then
      notify('workspace symbols failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif not result or #result == 0 then
      notify(string.format('no symbol matches "%s"', query or ''))
    else
      local items = M.symbol_items(result)
      if opts.quickfix then
        M.to_quickfix('sg symbols: ' .. query, items)
      else
        M.pick('sg symbols: ' .. query, items)
      end
    end
    if opts.on_result then
      opts.on_result(err, result)
    end
  end, vim.api.nvim_get_current_buf())
  return true
end

--- One line per folder of an `sg.status` answer.
function M.status_lines(result)
  local lines = {}
  for _, f in ipairs((result and result.folders) or {}) do
    if f.error then
      table.insert(lines, f.root .. ': ' .. f.error)
    else
      local chunks = f.chunks or 0
      local share = chunks == 0 and 100 or math.floor(100 * (f.embedded or 0) / chunks)
      local line = string.format('%s: %d files, %d chunks, %d%% embedded', f.root, f.files or 0, chunks, share)
      if (f.pendingFiles or 0) > 0 or (f.pendingEmbeddings or 0) > 0 then
        line = line .. string.format(', pending: %d files, %d embeddings', f.pendingFiles or 0, f.pendingEmbeddings or 0)
      end
      if f.writable == false then
        line = line .. ' (read-only: another sg process writes this index)'
      end
      table.insert(lines, line)
    end
  end
  if #lines == 0 then
    lines = { 'no folder is served' }
  end
  return lines
end

--- Runs an sg command (`sg.status`, `sg.reindex`) on the sg server. Without `callback`, the answer is
--- shown with vim.notify.
function M.command(command, callback)
  local client = get_client()
  if not client then
    return false
  end
  request(client, 'workspace/executeCommand', { command = command, arguments = {} }, function(err, result)
    if callback then
      return callback(err, result)
    end
    if err then
      notify(command .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif command == 'sg.status' then
      notify(table.concat(M.status_lines(result), '\n'))
    elseif command == 'sg.reindex' then
      notify('reindexing in the background')
    end
  end, vim.api.nvim_get_current_buf())
  return true
end

--- Configures the plugin and attaches the server to project buffers, those already open included.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  server.reset()
  reported_missing = false
  local group = vim.api.nvim_create_augroup('sg', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile', 'FileType' }, {
    group = group,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) then
      M.attach(b)
    end
  end
end

return M
