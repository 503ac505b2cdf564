"""`ldapcheck lint` rules of the LDAP mode (the shared ones are in `ldapcheck.jitsi.lint`).

The list is `lint.rules.RULES`. This package imports nothing itself: the host chain's settings step needs only the
gate rules (`lint.gate.login_gates`), and a plain `count` is start-up bound.
"""
