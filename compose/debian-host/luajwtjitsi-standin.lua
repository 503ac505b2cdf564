-- ldapcheck lab stand-in for luajwtjitsi, which is not in Debian (real hosts build it with
-- `luarocks install luajwtjitsi`, and jitsi-meet-tokens' mod_auth_token, also absent here, uses it).
-- `ldapcheck lab up --deployment host --auth jwt` copies it to /usr/local/share/lua/5.4/luajwtjitsi.lua, where luarocks
-- would put the real one, so that "can prosody's Lua load luajwtjitsi and what it needs?" has the healthy answer.
-- It needs what the real one needs (cjson.safe, basexx, luaossl), so removing one of those breaks it as it would
-- break the real module. It verifies nothing: every function refuses.
local _ = require "cjson.safe"
local _ = require "basexx"
local _ = require "openssl.hmac"

local M = { ldapcheck_lab_standin = true }

local function refuse()
	error("ldapcheck lab stand-in for luajwtjitsi: no token is signed or verified on this lab host", 2)
end

M.encode = refuse
M.decode = refuse
M.verify = refuse

return M
