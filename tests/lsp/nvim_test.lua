-- Headless Neovim tests of editors/neovim against the real `sg lsp`. Exits non-zero on failure and
-- prints `ok: ...` for each check passed. SG_TEST_CASE picks the scenario:
--
--   explicit  setup with an explicit command and lexical settings: one client per root, :Sg! into the
--             quickfix list, :Sg through vim.ui.select opening the right line, the picker's quickfix
--             entry, :SgSymbols, :SgStatus, an unsaved edit found, the "index still being built" message
--   default   require('sg').setup({}): sg found on PATH past a wrong `sg`, settings sent as an object,
--             progress notified, a search by meaning (no word shared with the target)
--   missing   no usable sg: an error naming the impostor and saying what to install, no client
--   telescope a stand-in `telescope` (written by this file, not real Telescope): :Sg opens the live
--             picker with the query as its prompt, its finder searches by meaning and by name, keeps
--             sg's order, and choosing opens the right line; without new_dynamic the static picker
--
--   SG_BIN=target/debug/sg SG_TEST_ROOT=<fixture repo> SG_INDEX_DIR=<tmp> SG_TEST_CASE=explicit \
--     nvim --headless -u NONE -i NONE -c "luafile tests/lsp/nvim_test.lua"
--
-- The fixture is the one of tests/lsp/conftest.py; tests/lsp/test_nvim.py runs this file and sets up
-- PATH and HOME for the `default` and `missing` cases.

local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end

local started = vim.loop.now()
local function log(msg)
  io.stderr:write(string.format('[%5d ms] %s\n', vim.loop.now() - started, msg))
end

-- Every vim.notify message, for the checks.
local notes = {}
vim.notify = function(msg, level)
  table.insert(notes, { msg = msg, level = level })
  io.stderr:write(string.format('notify(%s): %s\n', tostring(level), msg))
end
local function noted(pattern)
  for _, n in ipairs(notes) do
    if n.msg:find(pattern) then
      return n
    end
  end
  return nil
end

local this = debug.getinfo(1, 'S').source:sub(2)
local repo = vim.fn.fnamemodify(this, ':p:h:h:h')
local root = assert(os.getenv('SG_TEST_ROOT'), 'SG_TEST_ROOT is not set')
local bin = os.getenv('SG_BIN') or (repo .. '/target/debug/sg')
local case = os.getenv('SG_TEST_CASE') or 'explicit'
assert(os.getenv('SG_INDEX_DIR'), 'SG_INDEX_DIR must point at a temporary folder')

local function load_plugin()
  -- Mark the fixture as a project root, as a checkout would be.
  vim.fn.mkdir(root .. '/.git', 'p')
  vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
  vim.cmd('runtime plugin/sg.lua')
  vim.cmd('filetype on')
  return require('sg')
end

-- Waits for the sg client of `bufnr` to be initialized; returns it or nil.
local function wait_client(bufnr)
  local client
  vim.wait(20000, function()
    for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
      if c.name == 'sg' and c.initialized then
        client = c
        return true
      end
    end
    return false
  end, 20)
  return client
end

-- Polls sg.status until `done(folder)` holds; returns whether it did in time.
local function wait_index(sg, done)
  local deadline = vim.loop.now() + 60000
  while vim.loop.now() < deadline do
    local status
    sg.command('sg.status', function(err, result)
      status = err and { error = err } or result
    end)
    vim.wait(5000, function() return status ~= nil end, 10)
    local f = status and status.folders and status.folders[1]
    if f and f.files and f.files > 0 and done(f) then
      return true
    end
    vim.wait(100)
  end
  return false
end

-- Runs `sg.search` with a stubbed vim.ui.select: `choose(items)` returns the index to pick (or nil).
-- Returns the items offered and the search result.
local function select_search(sg, query, choose, opts)
  local offered, result, done
  local select = vim.ui.select
  vim.ui.select = function(items, o, on_choice)
    offered = items
    if not o.format_item then
      return fail('vim.ui.select without format_item')
    end
    local i = choose(items)
    on_choice(i and items[i] or nil, i)
  end
  opts = vim.tbl_extend('force', opts or {}, {
    on_result = function(_, r)
      result = r
      done = true
    end,
  })
  sg.search(query, opts)
  vim.wait(15000, function() return done end, 10)
  vim.ui.select = select
  return offered, result
end

local function explicit()
  local sg = load_plugin()
  sg.setup({ cmd = { bin, 'lsp' }, settings = { embed = false }, open_quickfix = false, notify_progress = false })

  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo.filetype ~= 'python' then
    return fail('filetype is ' .. vim.bo.filetype)
  end
  local client = wait_client(bufnr)
  if not client then
    return fail('the sg client did not attach and initialize')
  end
  if sg.clients[root] ~= client.id or client.config.cmd[1] ~= bin then
    return fail('one client per root expected, started with ' .. bin .. ': ' .. vim.inspect(sg.clients))
  end
  -- A second file of the same root reuses the client.
  vim.cmd('split ' .. vim.fn.fnameescape(root .. '/alpha/shapes.py'))
  local other = vim.api.nvim_get_current_buf()
  if not vim.lsp.buf_is_attached(other, client.id) or vim.tbl_count(vim.lsp.get_active_clients()) ~= 1 then
    return fail('the second buffer did not reuse the client')
  end
  vim.cmd('close')
  log('ok: one client per root')

  if not wait_index(sg, function(f) return f.pendingFiles == 0 end) then
    return fail('the index was not ready in time')
  end
  log('index ready')

  -- :Sg! fills the quickfix list, best first.
  vim.fn.setqflist({}, 'r')
  vim.cmd('Sg! parse_config_file')
  vim.wait(10000, function() return #vim.fn.getqflist() > 0 end, 10)
  local qf = vim.fn.getqflist()
  if #qf == 0 then
    return fail('no quickfix entries for parse_config_file')
  end
  local first = qf[1]
  local fname = vim.api.nvim_buf_get_name(first.bufnr)
  if fname ~= root .. '/config/loader.py' or first.lnum ~= 9 or not first.text:find('^parse_config_file %[function%]: ') then
    return fail('unexpected first entry: ' .. vim.inspect(first) .. ' in ' .. fname)
  end
  if vim.fn.getqflist({ title = 1 }).title ~= 'sg: parse_config_file' then
    return fail('quickfix title: ' .. vim.fn.getqflist({ title = 1 }).title)
  end
  log('ok: search into quickfix')

  -- :Sg through vim.ui.select: choosing ReverseString opens text/reverse.go at its line.
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  local items, result = select_search(sg, 'ReverseString', function(items)
    for i, it in ipairs(items) do
      if it.result and it.result.symbol == 'ReverseString' then
        return i
      end
    end
  end)
  if not items or not result or #items ~= #result.results + 1 or not items[#items].quickfix then
    return fail('picker items: ' .. vim.inspect(items))
  end
  local want = (result.results[1].matchRange or result.results[1].range).start.line + 1
  if vim.api.nvim_buf_get_name(0) ~= root .. '/text/reverse.go' or vim.api.nvim_win_get_cursor(0)[1] ~= want then
    return fail(string.format('picker opened %s:%d, expected text/reverse.go:%d', vim.api.nvim_buf_get_name(0),
      vim.api.nvim_win_get_cursor(0)[1], want))
  end
  if not items[1].label:find('^ReverseString  text/reverse.go:' .. want .. '  ') then
    return fail('picker label: ' .. items[1].label)
  end
  log('ok: picker opens the result')

  -- The picker's last entry sends every result to the quickfix list.
  vim.fn.setqflist({}, 'r')
  items = select_search(sg, 'parse_config', function(items) return #items end)
  qf = vim.fn.getqflist()
  if #qf ~= #items - 1 or #qf < 2 or vim.fn.getqflist({ title = 1 }).title ~= 'sg: parse_config' then
    return fail('picker to quickfix: ' .. vim.inspect(qf))
  end
  log('ok: picker fills the quickfix list')

  -- :SgSymbols! asks the sg server for workspace symbols; exact name first.
  vim.fn.setqflist({}, 'r')
  vim.cmd('SgSymbols! parse_config')
  vim.wait(10000, function() return #vim.fn.getqflist() > 0 end, 10)
  qf = vim.fn.getqflist()
  if not qf[1] or vim.api.nvim_buf_get_name(qf[1].bufnr) ~= root .. '/config/loader.py' or qf[1].lnum ~= 4
    or not qf[1].text:find('^parse_config %[Function%]') then
    return fail('symbols: ' .. vim.inspect(qf))
  end
  log('ok: workspace symbols')

  -- :SgStatus reports the folder.
  vim.cmd('SgStatus')
  vim.wait(5000, function() return noted('^sg: ' .. vim.pesc(root) .. ': %d+ files') ~= nil end, 10)
  if not noted('^sg: ' .. vim.pesc(root) .. ': 8 files, %d+ chunks') then
    return fail('status not reported')
  end
  log('ok: status')

  -- A search while the index is being built says so.
  local msg = sg.empty_message('anything', { results = {}, index = { files = 2, chunks = 3, pendingFiles = 5, pendingEmbeddings = 0 } })
  if msg ~= 'no results for "anything" yet: the index is still being built (5 files to go); try again in a moment' then
    return fail('message while indexing: ' .. msg)
  end
  log('ok: index being built')

  -- An unsaved edit is sent incrementally and becomes searchable.
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  local n = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, n, n, false, {
    '',
    '',
    'def wombat_burrow_depth(soil):',
    '    """How deep a wombat digs in the given soil."""',
    '    return soil * 2',
  })
  local found
  local deadline = vim.loop.now() + 30000
  while not found and vim.loop.now() < deadline do
    local done = false
    vim.fn.setqflist({}, 'r')
    sg.search('wombat_burrow_depth', { quickfix = true, on_result = function() done = true end })
    vim.wait(10000, function() return done end, 10)
    local entries = vim.fn.getqflist()
    if entries[1] and entries[1].text:find('^wombat_burrow_depth') then
      found = entries[1]
    else
      vim.wait(100)
    end
  end
  if not found or found.lnum ~= n + 3 then
    return fail('edited function not found at line ' .. (n + 3) .. ': ' .. vim.inspect(found))
  end
  if vim.fn.readfile(root .. '/config/loader.py')[n + 3] ~= nil then
    return fail('the file on disk changed')
  end
  log('ok: unsaved edit found')
end

local function default()
  local sg = load_plugin()
  sg.setup({})
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  local client = wait_client(vim.api.nvim_get_current_buf())
  if not client then
    return fail('the sg client did not attach and initialize with setup({})')
  end
  local want = os.getenv('SG_TEST_EXPECT_BIN')
  if want and client.config.cmd[1] ~= want then
    return fail('started ' .. vim.inspect(client.config.cmd) .. ', expected ' .. want)
  end
  if client.config.cmd[2] ~= 'lsp' or vim.fn.json_encode(client.config.init_options) ~= '{}' then
    return fail('command or settings: ' .. vim.inspect(client.config))
  end
  log('ok: default setup found ' .. client.config.cmd[1])

  if not wait_index(sg, function(f) return f.pendingFiles == 0 and f.pendingEmbeddings == 0 and f.embedded == f.chunks end) then
    return fail('the index was not embedded in time')
  end
  if not noted('^sg: indexing files') then
    return fail('indexing progress was not notified')
  end
  log('ok: progress notified')

  -- No word of the query is in text/reverse.go (nor in its path).
  local items, result = select_search(sg, 'flip a word backwards', function() return 1 end)
  if not items or not items[1].result then
    return fail('no results by meaning: ' .. vim.inspect(result))
  end
  local best = items[1].result
  if best.path ~= 'text/reverse.go' or best.symbol ~= 'ReverseString' then
    return fail('best result by meaning: ' .. vim.inspect(best))
  end
  if vim.api.nvim_buf_get_name(0) ~= root .. '/text/reverse.go' or vim.api.nvim_win_get_cursor(0)[1] ~= items[1].lnum then
    return fail('opened ' .. vim.api.nvim_buf_get_name(0))
  end
  log('ok: search by meaning')
end

local function missing()
  local sg = load_plugin()
  sg.setup({})
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  vim.wait(500)
  local err = noted('cargo install %-%-path %.')
  if not err or err.level ~= vim.log.levels.ERROR then
    return fail('no error saying what to install')
  end
  local impostor = os.getenv('SG_TEST_IMPOSTOR')
  if impostor and not err.msg:find(vim.pesc(impostor) .. ' is not sg the code search server: it is ast%-grep') then
    return fail('the error does not name the impostor: ' .. err.msg)
  end
  if #vim.lsp.get_active_clients() ~= 0 then
    return fail('a client started')
  end
  -- Once per session, not once per buffer.
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/alpha/shapes.py'))
  local count = 0
  for _, n in ipairs(notes) do
    if n.msg:find('cargo install') then
      count = count + 1
    end
  end
  if count ~= 1 then
    return fail('the error was shown ' .. count .. ' times')
  end
  log('ok: missing server reported')
end

-- A stand-in for Telescope on the runtimepath: pickers.new(opts, spec):find() records the options
-- merged as Telescope merges them, finders return their arguments, and the actions record what the
-- plugin wires. Returns the stand-in's modules.
local function telescope_standin()
  local dir = vim.fn.tempname() .. '/telescope-standin'
  local files = {
    ['pickers.lua'] = {
      'local M = { made = {} }',
      'function M.new(opts, spec)',
      '  local merged = {}',
      '  for k, v in pairs(spec or {}) do merged[k] = v end',
      '  for k, v in pairs(opts or {}) do merged[k] = v end',
      '  return { find = function() table.insert(M.made, merged) end }',
      'end',
      'return M',
    },
    ['finders.lua'] = {
      'local M = {}',
      'function M.new_dynamic(t) return t end',
      'function M.new_table(t) return t end',
      'return M',
    },
    ['sorters.lua'] = {
      'local M = {}',
      "function M.highlighter_only() return { name = 'highlighter_only', scoring_function = function() return 1 end } end",
      "function M.empty() return { name = 'empty', scoring_function = function() return 1 end } end",
      'return M',
    },
    ['config.lua'] = {
      'return { values = {',
      "  grep_previewer = function() return { name = 'grep_previewer' } end,",
      "  generic_sorter = function() return { name = 'generic_sorter' } end,",
      '} }',
    },
    ['actions.lua'] = {
      'local M = { closed = {} }',
      'M.select_default = { replace = function(self, fn) self.replaced = fn end }',
      'function M.close(bufnr) table.insert(M.closed, bufnr) end',
      'return M',
    },
    ['actions/state.lua'] = {
      'local M = {}',
      'function M.get_selected_entry() return M.selected end',
      'return M',
    },
  }
  for name, lines in pairs(files) do
    local path = dir .. '/lua/telescope/' .. name
    vim.fn.mkdir(vim.fn.fnamemodify(path, ':h'), 'p')
    vim.fn.writefile(lines, path)
  end
  vim.opt.runtimepath:prepend(dir)
  return {
    pickers = require('telescope.pickers'),
    finders = require('telescope.finders'),
    sorters = require('telescope.sorters'),
    actions = require('telescope.actions'),
    state = require('telescope.actions.state'),
  }
end

local function telescope()
  local sg = load_plugin()
  local tele = telescope_standin()
  sg.setup({ cmd = { bin, 'lsp' }, open_quickfix = false, notify_progress = false })
  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  local origin = vim.api.nvim_get_current_buf()
  local client = wait_client(origin)
  if not client then
    return fail('the sg client did not attach and initialize')
  end
  if not wait_index(sg, function(f) return f.pendingFiles == 0 and f.pendingEmbeddings == 0 and f.embedded == f.chunks end) then
    return fail('the index was not embedded in time')
  end
  log('index embedded')
  if not sg.live_available() then
    return fail('the stand-in with new_dynamic is not used live')
  end

  -- :Sg with a query opens the live picker at once, the query as its prompt.
  local made = tele.pickers.made
  vim.cmd('Sg flip a word backwards')
  local spec = made[1]
  if #made ~= 1 or spec.default_text ~= 'flip a word backwards' then
    return fail('live picker: ' .. vim.inspect(made))
  end
  local finder = spec.finder
  if type(finder.fn) ~= 'function' or type(finder.entry_maker) ~= 'function' or finder.results ~= nil then
    return fail('not a dynamic finder: ' .. vim.inspect(finder))
  end
  if not spec.sorter or spec.sorter.name ~= 'highlighter_only' or not spec.previewer or spec.previewer.name ~= 'grep_previewer' then
    return fail('sorter or previewer: ' .. vim.inspect({ spec.sorter, spec.previewer }))
  end
  log('ok: live picker opened with the query')

  -- The finder runs while Telescope's prompt is the current buffer: a scratch buffer stands for it.
  -- Each sg/search it sends is recorded.
  local sent = {}
  local request_sync = client.request_sync
  client.request_sync = function(...)
    local args = { ... }
    for i, a in ipairs(args) do
      if a == 'sg/search' then
        table.insert(sent, args[i + 1])
        break
      end
    end
    return request_sync(...)
  end
  local function entries(prompt)
    vim.api.nvim_set_current_buf(vim.api.nvim_create_buf(false, true))
    local out = {}
    for _, r in ipairs(finder.fn(prompt)) do
      table.insert(out, finder.entry_maker(r))
    end
    vim.api.nvim_set_current_buf(origin)
    return out
  end

  -- Typed by meaning: no word of the prompt is in text/reverse.go (nor in its path).
  -- The entry's line is where sg's match starts; the match holds ReverseString's line (4).
  local meaning = entries('flip a word backwards')
  local best = meaning[1]
  local target = best and (best.value.result.matchRange or best.value.result.range)
  local want = target and target.start.line + 1
  if not best or best.filename ~= root .. '/text/reverse.go' or best.value.result.symbol ~= 'ReverseString'
    or best.lnum ~= want or want > 4 or target['end'].line < 3 or best.col ~= 1
    or not best.display:find('^ReverseString  text/reverse.go:' .. want .. '  ') or best.ordinal ~= best.display
    or not best.text:find('^ReverseString %[function%]: ') then
    return fail('live results by meaning: ' .. vim.inspect(meaning))
  end
  -- The search carries the context of the buffer :Sg was run from, not the prompt's.
  local params = sent[#sent]
  if #sent ~= 1 or params.query ~= 'flip a word backwards' or params.context.currentUri ~= vim.uri_from_bufnr(origin) then
    return fail('live search request: ' .. vim.inspect(sent))
  end
  log('ok: live search by meaning')

  -- Typed as a name: the definition first, then the others, in sg's order.
  local named = entries('parse_config_file')
  if not named[1] or named[1].filename ~= root .. '/config/loader.py' or named[1].lnum ~= 9
    or not named[1].text:find('^parse_config_file %[function%]: ') or #named < 2 then
    return fail('live results by name: ' .. vim.inspect(named))
  end
  -- Telescope's entry manager orders by score; equal scores keep the finder's order.
  for i, e in ipairs(named) do
    if spec.sorter.scoring_function(spec.sorter, 'parse_config_file', e.ordinal, e) ~= spec.sorter.scoring_function(spec.sorter, 'parse_config_file', named[1].ordinal, named[1]) then
      return fail('the sorter scores entry ' .. i .. ' differently: sg\'s order would change')
    end
  end
  if #entries('') ~= 0 or #entries('   ') ~= 0 or #sent ~= 2 then
    return fail('an empty prompt gave results or was sent')
  end
  client.request_sync = request_sync
  -- A search the server refuses shows nothing (the same search in a valid mode finds the function).
  if #sg.live_items(client, 'parse_config_file', { mode = 'fuzzy' }, vim.empty_dict(), origin) ~= 0
    or #sg.live_items(client, 'parse_config_file', { mode = 'lexical' }, vim.empty_dict(), origin) == 0 then
    return fail('a refused live search')
  end
  log('ok: live search by name, sg order kept')

  -- Choosing an entry: the action the picker wires closes it and opens the entry's line.
  local prompt_bufnr = vim.api.nvim_create_buf(false, true)
  if spec.attach_mappings(prompt_bufnr, function() end) ~= true or type(tele.actions.select_default.replaced) ~= 'function' then
    return fail('the picker does not wire its select action')
  end
  tele.state.selected = best
  tele.actions.select_default.replaced(prompt_bufnr)
  if tele.actions.closed[1] ~= prompt_bufnr then
    return fail('the picker was not closed')
  end
  if vim.api.nvim_buf_get_name(0) ~= root .. '/text/reverse.go' or vim.api.nvim_win_get_cursor(0)[1] ~= want then
    return fail(string.format('choosing opened %s:%d', vim.api.nvim_buf_get_name(0), vim.api.nvim_win_get_cursor(0)[1]))
  end
  log('ok: choosing a live result opens it')

  -- :Sg without a query opens the live picker with an empty prompt; :Sg! still fills the quickfix list.
  vim.cmd('Sg')
  if #made ~= 2 or (made[2].default_text or '') ~= '' or type(made[2].finder.fn) ~= 'function' then
    return fail(':Sg without a query: ' .. vim.inspect(made[2]))
  end
  vim.fn.setqflist({}, 'r')
  vim.cmd('Sg! parse_config_file')
  vim.wait(10000, function() return #vim.fn.getqflist() > 0 end, 10)
  local qf = vim.fn.getqflist()
  if not qf[1] or qf[1].lnum ~= 9 or #made ~= 2 then
    return fail(':Sg! with Telescope: ' .. vim.inspect(qf))
  end
  log('ok: empty live picker, quickfix unchanged')

  -- Without highlighter_only the live picker keeps sg's order with the empty sorter.
  local highlighter_only = tele.sorters.highlighter_only
  tele.sorters.highlighter_only = nil
  vim.cmd('Sg parse_config')
  tele.sorters.highlighter_only = highlighter_only
  if #made ~= 3 or made[3].sorter.name ~= 'empty' then
    return fail('sorter without highlighter_only: ' .. vim.inspect(made[3]))
  end

  -- An older Telescope without new_dynamic: :Sg searches once into the static picker.
  tele.finders.new_dynamic = nil
  if sg.live_available() then
    return fail('live without new_dynamic')
  end
  vim.cmd('Sg parse_config_file')
  vim.wait(10000, function() return #made == 4 end, 10)
  spec = made[4]
  if not spec or spec.finder.fn ~= nil or type(spec.finder.results) ~= 'table' or spec.default_text ~= nil
    or not spec.prompt_title:find('^sg: parse_config_file') then
    return fail('static picker: ' .. vim.inspect(spec))
  end
  local first = spec.finder.entry_maker(spec.finder.results[1])
  if first.filename ~= root .. '/config/loader.py' or first.lnum ~= 9 or spec.sorter.name ~= 'empty'
    or spec.previewer.name ~= 'grep_previewer' then
    return fail('static picker entry: ' .. vim.inspect(first))
  end
  -- :Sg without a query asks for one first, as before.
  local asked
  local input = vim.ui.input
  vim.ui.input = function(o) asked = o.prompt end
  vim.cmd('Sg')
  vim.ui.input = input
  if asked ~= 'sg search: ' or #made ~= 4 then
    return fail(':Sg without a query and without new_dynamic: ' .. tostring(asked))
  end
  log('ok: static picker without new_dynamic')
end

local cases = { explicit = explicit, default = default, missing = missing, telescope = telescope }
local ok, err = xpcall(function()
  assert(cases[case], 'unknown SG_TEST_CASE ' .. case)()
end, debug.traceback)
if not ok then
  fail(tostring(err))
else
  vim.cmd('qall!')
end
