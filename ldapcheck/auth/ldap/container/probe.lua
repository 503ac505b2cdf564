local _ = "ldapcheck in-container probe" -- names the script in the exec's argv (it runs after records.lua)
-- Runs inside the prosody container as prosody's user, with the container's own libldap, CA store and
-- /etc/ldap/ldap.conf. Every input, secrets included, arrives on STDIN as records `<name> <length>\n<bytes>`
-- (so no password is ever in a process argument or environment). Fields: ldap, servers, start_tls, bind_dn,
-- bind_pw, base, filter, password, user_bind, sasl, sasl_auth, socket, login, service, realm, timeout (the search's,
-- in seconds), sasl_timeout (saslauthd's answer); both derived from ldapcheck's --timeout (probe.py).
-- Output: one record a line, `<key>\t<status>[\t<field>...]`, fields escaped (\\ \t \n). A failed sasl_reply's
-- third field is `timeout` when saslauthd did not answer within sasl_timeout.
local function emit(key, status, ...)
  local parts = { key, status }
  for _, v in ipairs({ ... }) do parts[#parts + 1] = esc(v) end
  io.stdout:write(table.concat(parts, "\t"), "\n")
  io.stdout:flush()
end

local ok_socket, socket = pcall(require, "socket")
local function now()
  return ok_socket and socket.gettime() or os.time()
end
local function ms(t0)
  return string.format("%.0f", (now() - t0) * 1000)
end

local f = read_fields()
local search_timeout = tonumber(f.timeout) or 5
local sasl_timeout = tonumber(f.sasl_timeout) or 15
-- One password attempt per run: after the user's own bind failed here, saslauthd is not asked the same password.
local user_bind_failed = false

local function ldap_chain()
  local okmod, lualdap = pcall(require, "lualdap")
  if not okmod then
    emit("ldap_module", "fail", lualdap)
    return
  end
  local starttls = f.start_tls == "1"
  local t0 = now()
  local conn, err = lualdap.open_simple(f.servers, f.bind_dn ~= "" and f.bind_dn or nil,
    f.bind_dn ~= "" and f.bind_pw or nil, starttls)
  if conn == nil then
    emit("service_bind", "fail", err, ms(t0))
    return
  end
  emit("service_bind", "ok", f.bind_dn ~= "" and f.bind_dn or "(anonymous)", ms(t0))
  t0 = now()
  local dns = {}
  -- sizelimit 2: saslauthd wants exactly one entry, two are enough to tell "more than one".
  local ok, serr = pcall(function()
    for dn in conn:search({ base = f.base, scope = "subtree", filter = f.filter, attrs = { "1.1" },
      sizelimit = 2, timeout = search_timeout }) do
      dns[#dns + 1] = dn
    end
  end)
  if not ok then
    emit("search", "fail", (tostring(serr):gsub("^.-LuaLDAP: ", "")), ms(t0))
    conn:close()
    return
  end
  emit("search", "ok", #dns, ms(t0), table.unpack(dns))
  conn:close()
  -- user_bind=0: the host's bind already accepted the password; saslauthd's own bind is this run's next one
  if #dns ~= 1 or f.password == nil or f.user_bind == "0" then return end
  t0 = now()
  local user, uerr = lualdap.open_simple(f.servers, dns[1], f.password, starttls)
  if user == nil then
    user_bind_failed = true
    emit("user_bind", "fail", uerr, ms(t0))
  else
    emit("user_bind", "ok", dns[1], ms(t0))
    user:close()
  end
end

local function sasl()
  local okmod, unix = pcall(require, "socket.unix")
  if not okmod then
    emit("sasl_module", "fail", unix)
    return
  end
  local sock = (unix.stream or unix)()
  sock:settimeout(search_timeout)
  local t0 = now()
  local ok, err = sock:connect(f.socket)
  if not ok then
    emit("sasl_connect", "fail", err, ms(t0))
    return
  end
  emit("sasl_connect", "ok", f.socket, ms(t0))
  if f.sasl_auth ~= "1" or user_bind_failed then
    sock:close()
    return
  end
  t0 = now()
  sock:settimeout(sasl_timeout) -- saslauthd asks the directory three times for one login (probe.py)
  -- testsaslauthd's wire format: four counted strings, 2-byte big-endian lengths.
  ok, err = sock:send(string.pack(">s2>s2>s2>s2", f.login, f.password or "", f.service, f.realm))
  if not ok then
    emit("sasl_reply", "fail", "write failed: " .. tostring(err), ms(t0))
    return
  end
  local header
  header, err = sock:receive(2)
  if not header then
    emit("sasl_reply", "fail", "size read failed: " .. tostring(err), ms(t0), err == "timeout" and "timeout" or "")
    return
  end
  local body
  body, err = sock:receive((string.unpack(">I2", header)))
  sock:close()
  if not body then
    emit("sasl_reply", "fail", "read failed: " .. tostring(err), ms(t0), err == "timeout" and "timeout" or "")
    return
  end
  emit("sasl_reply", "ok", body, ms(t0))
end

emit("probe", "ok", _VERSION)
if f.ldap == "1" then ldap_chain() end
if f.sasl == "1" then sasl() end
emit("done", "ok")
