-- sg commands. The server starts for a project's buffers once require('sg').setup() has run, or at
-- the first command.
if vim.g.loaded_sg then
  return
end
vim.g.loaded_sg = true

local function with_query(prompt, run)
  return function(args)
    if args.args ~= '' then
      return run(args.args, args.bang)
    end
    vim.ui.input({ prompt = prompt }, function(query)
      if query and query ~= '' then
        run(query, args.bang)
      end
    end)
  end
end

local search = with_query('sg search: ', function(query, bang)
  require('sg').search(query, { quickfix = bang })
end)

-- Without a query, the live Telescope picker opens with an empty prompt instead of asking first.
vim.api.nvim_create_user_command('Sg', function(args)
  if args.args == '' and not args.bang and require('sg').live_available() then
    return require('sg').search('', {})
  end
  return search(args)
end, { nargs = '*', bang = true, desc = 'sg: search the project (! fills the quickfix list)' })

vim.api.nvim_create_user_command('SgSymbols', with_query('sg symbols: ', function(query, bang)
  require('sg').symbols(query, { quickfix = bang })
end), { nargs = '*', bang = true, desc = 'sg: workspace symbols (! fills the quickfix list)' })

vim.api.nvim_create_user_command('SgStatus', function()
  require('sg').command('sg.status')
end, { nargs = 0, desc = 'sg: index status' })

vim.api.nvim_create_user_command('SgReindex', function()
  require('sg').command('sg.reindex')
end, { nargs = 0, desc = 'sg: walk the project again' })
