local _ = 'ldapcheck saslauthd probe' -- first line is code: `lua5.4 -e` rejects a script starting with '-'
-- Ask saslauthd over its UNIX socket, like `testsaslauthd`, but with the password taken from the
-- environment (PROBE_PASSWORD) or the first line of stdin, never from the command line.
-- Run inside a prosody container: `lua5.4 -e "$(cat saslauthd_probe.lua)"` (needs lua-socket's socket.unix).
-- Env: PROBE_USER, PROBE_PASSWORD, PROBE_SERVICE [xmpp], PROBE_REALM [""], SASLAUTHD_SOCKET [/var/run/saslauthd/mux],
--      PROBE_TIMEOUT [15].
-- Output mirrors testsaslauthd: stdout `0: OK "Success."` (exit 0) or `0: NO "..."` (exit 255);
-- socket problems print `0: ` on stdout and the reason on stderr (exit 255).
local unix = require("socket.unix")
local path = os.getenv("SASLAUTHD_SOCKET") or "/var/run/saslauthd/mux"
local user = os.getenv("PROBE_USER") or ""
local service = os.getenv("PROBE_SERVICE") or "xmpp"
local realm = os.getenv("PROBE_REALM") or ""
local password = os.getenv("PROBE_PASSWORD")
if password == nil then password = io.read("l") or "" end

local function fail(what, err)
  io.stdout:write("0: \n")
  io.stderr:write(what, " : ", tostring(err), "\n")
  os.exit(255)
end

local sock = (unix.stream or unix)()
sock:settimeout(tonumber(os.getenv("PROBE_TIMEOUT") or "15"))
local ok, err = sock:connect(path)
if not ok then fail("connect()", err) end
local request = string.pack(">s2>s2>s2>s2", user, password, service, realm)
ok, err = sock:send(request)
if not ok then fail("write failed", err) end
local header
header, err = sock:receive(2)
if not header then fail("size read failed", err) end
local size = string.unpack(">I2", header)
local body
body, err = sock:receive(size)
if not body then fail("read failed", err) end
sock:close()
-- saslauthd answers a bare "OK" / "NO"; testsaslauthd prints these fixed texts for them.
if body:sub(1, 2) == "OK" then
  io.stdout:write('0: OK "Success."\n')
  os.exit(0)
end
io.stdout:write('0: NO "authentication failed"\n')
os.exit(255)
