"""Token (JWT) authentication (`AUTH_TYPE=jwt`): prosody's token checks re-stated in Python, lint and `.env` block.

`verify` reproduces jitsi-meet's `token/util.lib.lua` and `luajwtjitsi.lib.lua` as they run in docker-jitsi-meet's
prosody (Lua 5.4, lua-cjson 2.1.0, basexx 0.4.1, luaossl): same outcome, same reason string, and the Lua error
where the Lua code raises. `_lua` holds the Lua/cjson/basexx behaviour, `_engine` the login checks, `_join` the
MUC join check, `_pattern` Lua patterns, `_env` what the prosody template renders from a `.env`.

Not modelled: `cache_keys_url` (JWKS fetched at module load), `session.public_key` from a pre-fetch hook, the
`jitsi-authentication-token-verified` handlers, prosody's key cache and its 3 retries, bans. OpenSSL error texts
are those of the docker image. HS* needs only the standard library; RS* loads `cryptography` on first use.
"""
