local _ = "ldapcheck in-container Lua" -- first line is code: `lua5.4 -e` rejects a script starting with '-'
-- Put before every in-container script (probe.lua_script): what they all read and how they all write.
-- STDIN: records `<name> <length>\n<bytes>` ended by an empty line (`probe.encode_fields` writes them), so no
-- input, secrets included, is ever in a process argument or environment. Output fields escape \\ \t \n.
local function read_fields()
  local fields = {}
  while true do
    local header = io.read("l")
    if header == nil or header == "" then break end
    local name, size = header:match("^(%S+) (%d+)$")
    if name == nil then break end
    size = tonumber(size)
    fields[name] = size > 0 and (io.read(size) or "") or ""
  end
  return fields
end

local function esc(value)
  return (tostring(value):gsub("\\", "\\\\"):gsub("\t", "\\t"):gsub("\n", "\\n"))
end

