-- Drives `bnlint lsp` from Neovim's built-in LSP client (0.7+), headless. Paths come from the environment;
-- everything observed is written as JSON to BNLINT_NVIM_OUT for the test to check.
local env = vim.env
local out = { steps = {} }

local function write_and_quit(code)
  local f = assert(io.open(env.BNLINT_NVIM_OUT, "w"))
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd(code == 0 and "qa!" or "cq!")
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(env.BNLINT_FIXTURE))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "bnlint",
    cmd = { env.BNLINT_NODE, env.BNLINT_BIN, "lsp", "--stdio" },
    root_dir = vim.fn.fnamemodify(env.BNLINT_FIXTURE, ":h"),
    init_options = { debounceMs = 50 },
  })
  assert(client_id, "start_client failed")
  assert(vim.lsp.buf_attach_client(bufnr, client_id), "buf_attach_client failed")

  local function snapshot()
    local list = {}
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or vim.NIL
      table.insert(list, { line = d.lnum + 1, col = d.col + 1, code = code, severity = d.severity, source = d.source or vim.NIL, message = d.message })
    end
    table.sort(list, function(a, b) return a.line < b.line end)
    return list
  end
  local function key() return vim.inspect(snapshot()) end

  -- Waits until the diagnostics differ from `before` (or appear at all), then records them under `name`.
  local function record(name, before)
    local changed = vim.wait(20000, function()
      local now = vim.diagnostic.get(bufnr)
      return #now > 0 and key() ~= before
    end, 20)
    table.insert(out.steps, { name = name, changed = changed, diagnostics = snapshot(), lines = vim.api.nvim_buf_line_count(bufnr) })
  end

  record("opened", "")

  -- Fix the first reuse the way a user would: declare bn_6b and call it on (what was) line 49.
  -- One buffer change (one didChange), so no intermediate state can be published.
  local before = key()
  local block = vim.api.nvim_buf_get_lines(bufnr, 31, 49, false)
  table.insert(block, 1, "        self.bn_6b = nn.BatchNorm2d(32)")
  block[#block] = "        x = self.bn_6b(x)"
  vim.api.nvim_buf_set_lines(bufnr, 31, 49, false, block)
  record("fixed-first-reuse", before)

  -- Half-typed call: the findings must give way to the parse note, not linger on stale lines.
  before = key()
  vim.api.nvim_buf_set_lines(bufnr, 54, 55, false, { "        x = self.bn_7(" })
  record("half-typed", before)
  before = key()
  vim.api.nvim_buf_set_lines(bufnr, 54, 55, false, { "        x = self.bn_7(x)" })
  record("completed", before)

  -- Quick fix on the reuse at line 55: apply "Disable reused-batchnorm for this line".
  vim.api.nvim_win_set_cursor(0, { 55, 14 })
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr, 54) }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 10000) or {}
  local titles = {}
  for _, resp in pairs(responses) do
    for _, action in ipairs(resp.result or {}) do
      table.insert(titles, action.title)
      if action.title == "Disable reused-batchnorm for this line" then
        vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
      end
    end
  end
  out.code_action_titles = titles
  out.line_55_after_action = vim.api.nvim_buf_get_lines(bufnr, 54, 55, false)[1]

  -- Hover on the first call of bn_7 (line 53 after the inserted line).
  vim.api.nvim_win_set_cursor(0, { 53, 18 })
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", vim.lsp.util.make_position_params(), 10000) or {}
  for _, resp in pairs(hover) do
    if resp.result then out.hover = resp.result.contents.value end
  end

  vim.lsp.stop_client(client_id)
  vim.wait(2000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 20)
end)

if not ok then out.error = tostring(err) end
write_and_quit(ok and 0 or 1)
