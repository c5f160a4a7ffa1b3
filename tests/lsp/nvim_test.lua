-- Headless Neovim test of editors/neovim: loads the plugin, opens a fixture file (FileType attaches
-- the sg client), waits for the index, runs :SgSearch and checks the quickfix list; then edits the
-- buffer without saving and checks the new function is found. Exits non-zero on failure.
--
--   SG_BIN=target/debug/sg SG_TEST_ROOT=<fixture repo> SG_INDEX_DIR=<tmp> \
--     nvim --headless -u NONE -c "luafile tests/lsp/nvim_test.lua"
--
-- The fixture is the one of tests/lsp/conftest.py; tests/lsp/test_nvim.py runs this file.

local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end

local started = vim.loop.now()
local function log(msg)
  io.stderr:write(string.format('[%5d ms] %s\n', vim.loop.now() - started, msg))
end

local function main()
  local this = debug.getinfo(1, 'S').source:sub(2)
  local repo = vim.fn.fnamemodify(this, ':p:h:h:h')
  local root = assert(os.getenv('SG_TEST_ROOT'), 'SG_TEST_ROOT is not set')
  local bin = os.getenv('SG_BIN') or (repo .. '/target/debug/sg')
  assert(os.getenv('SG_INDEX_DIR'), 'SG_INDEX_DIR must point at a temporary folder')

  -- Mark the fixture as a project root, as a checkout would be.
  vim.fn.mkdir(root .. '/.git', 'p')
  vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
  vim.cmd('runtime plugin/sg.lua')
  vim.cmd('filetype on')
  local sg = require('sg')
  sg.setup({ cmd = { bin, 'lsp' }, init_options = { embed = false }, open_quickfix = false })

  vim.cmd('edit ' .. vim.fn.fnameescape(root .. '/config/loader.py'))
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo.filetype ~= 'python' then
    return fail('filetype is ' .. vim.bo.filetype)
  end
  local client
  vim.wait(10000, function()
    for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
      if c.name == 'sg' and c.initialized then
        client = c
        return true
      end
    end
    return false
  end, 20)
  if not client then
    return fail('the sg client did not attach and initialize')
  end
  if sg.clients[root] ~= client.id then
    return fail('one client per root expected; clients: ' .. vim.inspect(sg.clients))
  end
  -- A second file of the same root reuses the client.
  vim.cmd('split ' .. vim.fn.fnameescape(root .. '/alpha/shapes.py'))
  local other = vim.api.nvim_get_current_buf()
  if not vim.lsp.buf_is_attached(other, client.id) or vim.tbl_count(vim.lsp.get_active_clients()) ~= 1 then
    return fail('the second buffer did not reuse the client')
  end
  vim.cmd('close')

  -- Wait until the index is ready.
  local ready = false
  local deadline = vim.loop.now() + 30000
  while not ready and vim.loop.now() < deadline do
    local status
    sg.command('sg.status', function(err, result)
      status = err and { error = err } or result
    end)
    vim.wait(5000, function() return status ~= nil end, 10)
    local f = status and status.folders and status.folders[1]
    ready = f ~= nil and f.files > 0 and f.pendingFiles == 0
    if not ready then
      vim.wait(100)
    end
  end
  if not ready then
    return fail('the index was not ready in time')
  end
  log('index ready')

  -- Runs a search (through :SgSearch, or through the Lua API when `api`) and returns the quickfix list.
  local function search(query, api)
    vim.fn.setqflist({}, 'r')
    if api then
      local done = false
      sg.search(query, { on_result = function() done = true end })
      vim.wait(10000, function() return done end, 10)
    else
      vim.cmd('SgSearch ' .. query)
      vim.wait(10000, function() return #vim.fn.getqflist() > 0 end, 10)
    end
    return vim.fn.getqflist()
  end

  local qf = search('parse_config_file')
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

  -- An unsaved edit is sent incrementally and becomes searchable.
  local n = vim.api.nvim_buf_line_count(bufnr)
  vim.api.nvim_buf_set_lines(bufnr, n, n, false, {
    '',
    '',
    'def wombat_burrow_depth(soil):',
    '    """How deep a wombat digs in the given soil."""',
    '    return soil * 2',
  })
  local found
  deadline = vim.loop.now() + 30000
  while not found and vim.loop.now() < deadline do
    local entries = search('wombat_burrow_depth', true)
    if entries[1] and entries[1].text:find('^wombat_burrow_depth') then
      found = entries[1]
    else
      vim.wait(100)
    end
  end
  if not found or found.lnum ~= n + 3 then
    return fail('edited function not found at line ' .. (n + 3) .. ': ' .. vim.inspect(found))
  end
  if vim.fn.filereadable(root .. '/config/loader.py') ~= 1
    or vim.fn.readfile(root .. '/config/loader.py')[n + 3] ~= nil then
    return fail('the file on disk changed')
  end
  log('ok: unsaved edit found')
  vim.cmd('qall!')
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  fail(tostring(err))
end
