-- sg commands and auto-attach. Set `vim.g.sg_auto_attach = false` to attach only through
-- require('sg').attach().
if vim.g.loaded_sg then
  return
end
vim.g.loaded_sg = true

vim.api.nvim_create_user_command('SgSearch', function(args)
  require('sg').search(args.args)
end, { nargs = '+', desc = 'sg: search the project into the quickfix list' })

vim.api.nvim_create_user_command('SgStatus', function()
  require('sg').command('sg.status')
end, { nargs = 0, desc = 'sg: index status' })

vim.api.nvim_create_user_command('SgReindex', function()
  require('sg').command('sg.reindex')
end, { nargs = 0, desc = 'sg: walk the project again' })

local group = vim.api.nvim_create_augroup('sg', { clear = true })
vim.api.nvim_create_autocmd('FileType', {
  group = group,
  callback = function(ev)
    if vim.g.sg_auto_attach ~= false then
      require('sg').attach(ev.buf)
    end
  end,
})
