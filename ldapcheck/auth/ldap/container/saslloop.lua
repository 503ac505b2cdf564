local _ = "ldapcheck saslauthd load loop" -- names the script in the exec's argv (it runs after records.lua)
-- `ldapcheck bench logins --via saslauthd`: one of these runs per worker, as prosody's user, for the whole run.
-- Every input arrives on STDIN (the password too: never in a process argument or environment): first the
-- records `<name> <length>\n<bytes>` ended by an empty line (token, socket, login, password, service, realm,
-- timeout), then one line per login to make. Each login is what prosody's libsasl does: connect to saslauthd's
-- socket, send the four counted strings, read the answer, close. Per login the script prints
-- `login\t<status>\t<ms>\t<answer or error>` and then the boundary `\n@@part <token> 0\n` on stdout and stderr.
local f = read_fields()
local ok_unix, unix = pcall(require, "socket.unix")
local socket = require("socket")
local timeout = tonumber(f.timeout) or 5
local request = string.pack(">s2>s2>s2>s2", f.login or "", f.password or "", f.service or "xmpp", f.realm or "")
f.password = nil

local function boundary()
  local line = "\n@@part " .. (f.token or "") .. " 0\n"
  io.stdout:write(line)
  io.stdout:flush()
  io.stderr:write(line)
  io.stderr:flush()
end

local function one()
  if not ok_unix then return "module", 0, unix end
  local t0 = socket.gettime()
  local function ms() return string.format("%.3f", (socket.gettime() - t0) * 1000) end
  local sock = (unix.stream or unix)()
  sock:settimeout(timeout)
  local ok, err = sock:connect(f.socket)
  if not ok then return "connect", ms(), err end
  ok, err = sock:send(request)
  if not ok then sock:close(); return (err == "timeout" and "timeout" or "io"), ms(), err end
  local header
  header, err = sock:receive(2)
  if not header then sock:close(); return (err == "timeout" and "timeout" or "io"), ms(), err end
  local body
  body, err = sock:receive((string.unpack(">I2", header)))
  sock:close()
  if not body then return (err == "timeout" and "timeout" or "io"), ms(), err end
  return "answer", ms(), body
end

boundary() -- ready: the host times nothing before this
while io.read("l") ~= nil do
  local status, took, text = one()
  io.stdout:write(table.concat({ "login", status, took, esc(text) }, "\t"), "\n")
  boundary()
end
