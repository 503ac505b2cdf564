"""Just enough BER and LDAPv3 (RFC 4511) to bind, StartTLS and page through a search on a raw socket.

Used where ldap3 is too slow (counting: no per-entry decoding) or hides what we need (raw result codes of
an unauthenticated bind, the first bytes a port answers with). Encoders build whole PDUs; decoders read
only headers unless asked for more.
"""

from __future__ import annotations

from collections.abc import Sequence

from ldapcheck.adapters.errors import FilterError, LdapProtocolError
from ldapcheck.adapters.ldap.filter import Filter, Item, Node, description, unescape, wrapped
from ldapcheck.adapters.ldap.filter import parse as parse_filter
from ldapcheck.core.record import field, record

# Application tags of protocolOp (constructed): RFC 4511 §4.2 ff.
BIND_REQUEST = 0x60
BIND_RESPONSE = 0x61
UNBIND_REQUEST = 0x42
SEARCH_REQUEST = 0x63
SEARCH_ENTRY = 0x64
SEARCH_DONE = 0x65
SEARCH_REFERENCE = 0x73
EXTENDED_REQUEST = 0x77
EXTENDED_RESPONSE = 0x78

PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
STARTTLS_OID = "1.3.6.1.4.1.1466.20037"
PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"
AD_CAPABILITY_OID = "1.2.840.113556.1.4.800"  # LDAP_CAP_ACTIVE_DIRECTORY_OID, in supportedCapabilities

SCOPE_BASE, SCOPE_ONE, SCOPE_SUB = 0, 1, 2

# RFC 4511 §4.1.9 names of the result codes ldapcheck explains.
RESULT_NAMES = {
    0: "success",
    1: "operationsError",
    2: "protocolError",
    3: "timeLimitExceeded",
    4: "sizeLimitExceeded",
    7: "authMethodNotSupported",
    8: "strongerAuthRequired",
    10: "referral",
    11: "adminLimitExceeded",
    13: "confidentialityRequired",
    19: "constraintViolation",
    32: "noSuchObject",
    34: "invalidDNSyntax",
    48: "inappropriateAuthentication",
    49: "invalidCredentials",
    50: "insufficientAccessRights",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
    80: "other",
}


def result_name(code: int) -> str:
    """The RFC 4511 name of a result code."""
    return RESULT_NAMES.get(code, f"result {code}")


# Bytes that are not the BER we expected (a non-LDAP peer, or a truncated PDU); a filter that cannot be encoded
# raises its subclass FilterError.
BerError = LdapProtocolError


# --- encoding ---------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """One BER element."""
    return bytes((tag,)) + _length(len(content)) + content


def integer(value: int, tag: int = 0x02) -> bytes:
    """A BER INTEGER (or ENUMERATED with tag 0x0A)."""
    size = max(1, (value.bit_length() + 8) // 8)
    return tlv(tag, value.to_bytes(size, "big", signed=True))


def octets(value: bytes | str, tag: int = 0x04) -> bytes:
    """A BER OCTET STRING (UTF-8 for str)."""
    return tlv(tag, value.encode() if isinstance(value, str) else value)


def boolean(value: bool) -> bytes:
    """A BER BOOLEAN."""
    return tlv(0x01, b"\xff" if value else b"\x00")


def sequence(*parts: bytes, tag: int = 0x30) -> bytes:
    """A constructed element of the given parts."""
    return tlv(tag, b"".join(parts))


def control(oid: str, value: bytes | None = None, critical: bool = False) -> bytes:
    """An LDAP Control (RFC 4511 §4.1.11)."""
    parts = [octets(oid)]
    if critical:
        parts.append(boolean(True))
    if value is not None:
        parts.append(octets(value))
    return sequence(*parts)


def message(msgid: int, op: bytes, controls: Sequence[bytes] = ()) -> bytes:
    """An LDAPMessage envelope."""
    parts = [integer(msgid), op]
    if controls:
        parts.append(sequence(*controls, tag=0xA0))
    return sequence(*parts)


def bind_request(dn: str, password: str) -> bytes:
    """A simple BindRequest (version 3)."""
    return sequence(integer(3), octets(dn), octets(password, tag=0x80), tag=BIND_REQUEST)


def extended_request(oid: str) -> bytes:
    """An ExtendedRequest without a value (StartTLS)."""
    return sequence(octets(oid, tag=0x80), tag=EXTENDED_REQUEST)


def search_request(
    base: str,
    filter_text: str,
    attributes: Sequence[str],
    *,
    scope: int = SCOPE_SUB,
    size_limit: int = 0,
    time_limit: int = 0,
) -> bytes:
    """A SearchRequest (derefAliases never, as saslauthd)."""
    return sequence(
        octets(base),
        integer(scope, tag=0x0A),
        integer(0, tag=0x0A),
        integer(size_limit),
        integer(time_limit),
        boolean(False),
        encode_filter(filter_text),
        sequence(*(octets(a) for a in attributes)),
        tag=SEARCH_REQUEST,
    )


def paged_control(size: int, cookie: bytes) -> bytes:
    """The simple paged results control (RFC 2696)."""
    return control(PAGED_RESULTS_OID, sequence(integer(size), octets(cookie)))


# --- filters (RFC 4515) -----------------------------------------------------------------------


def encode_filter(text: str) -> bytes:
    """Encode a string filter; a bare `attr=value` (saslauthd's default style) is accepted as `(attr=value)`."""
    return encode_tree(parse_filter(text, strict=True), text)


def encode_tree(tree: Filter, text: str = "") -> bytes:
    """The BER Filter (RFC 4511 §4.5.1) of a parsed filter; `text` names the filter in errors."""
    if isinstance(tree, Node):
        items = [encode_tree(c, text) for c in tree.children]
        if tree.kind == "!":
            return tlv(0xA2, items[0])
        return sequence(*items, tag=0xA0 if tree.kind == "&" else 0xA1)
    return _item(tree, text or tree.text())


def _item(item: Item, whole: str) -> bytes:
    desc = description(item)
    if desc is None:
        raise FilterError(f"invalid filter item {item.text()[1:-1]!r} in {wrapped(whole)!r}")
    attr, value = desc.type, item.value
    if item.op == ":=":
        parts = []
        if desc.rule:
            parts.append(octets(desc.rule, tag=0x81))
        if attr:
            parts.append(octets(attr, tag=0x82))
        parts.append(octets(unescape(value), tag=0x83))
        if desc.dn:
            parts.append(tlv(0x84, b"\xff"))
        return sequence(*parts, tag=0xA9)
    if item.op == "=" and value == "*":
        return octets(attr, tag=0x87)
    if item.op == "=" and "*" in value:
        pieces = value.split("*")
        subs = []
        if pieces[0]:
            subs.append(octets(unescape(pieces[0]), tag=0x80))
        subs.extend(octets(unescape(p), tag=0x81) for p in pieces[1:-1] if p)
        if pieces[-1]:
            subs.append(octets(unescape(pieces[-1]), tag=0x82))
        return sequence(octets(attr), sequence(*subs), tag=0xA4)
    tag = {"=": 0xA3, ">=": 0xA5, "<=": 0xA6, "~=": 0xA8}[item.op]
    return sequence(octets(attr), octets(unescape(value)), tag=tag)


# --- decoding ---------------------------------------------------------------------------------


def header(buf: bytes | bytearray | memoryview, pos: int, end: int) -> tuple[int, int, int] | None:
    """(tag, content start, content end) of the element at `pos`, or None if `buf[:end]` is too short."""
    if end - pos < 2:
        return None
    first = buf[pos + 1]
    if first < 0x80:
        start = pos + 2
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise BerError("indefinite or oversized BER length")
        if end - pos < 2 + count:
            return None
        start = pos + 2 + count
        length = int.from_bytes(buf[pos + 2 : start], "big")
    return buf[pos], start, start + length


def children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The (tag, start, end) of each element in buf[start:end]."""
    out = []
    pos = start
    while pos < end:
        h = header(buf, pos, end)
        if h is None or h[2] > end:
            raise BerError("truncated BER element")
        out.append(h)
        pos = h[2]
    return out


def decode_int(data: bytes) -> int:
    """A BER INTEGER/ENUMERATED body."""
    return int.from_bytes(data, "big", signed=True) if data else 0


@record
class LdapResult:
    """An LDAPResult (RFC 4511 §4.1.9) plus the response controls, as raw values by OID."""

    code: int
    matched_dn: str
    message: str
    controls: dict[str, bytes] = field(default_factory=dict)
    extra: bytes = b""


def decode_result(pdu: bytes, op_start: int, op_end: int, msg_end: int) -> LdapResult:
    """Decode the LDAPResult in the protocolOp at op_start..op_end and the controls after it."""
    parts = children(pdu, op_start, op_end)
    if len(parts) < 3:
        raise BerError("short LDAPResult")
    code = decode_int(pdu[parts[0][1] : parts[0][2]])
    matched = pdu[parts[1][1] : parts[1][2]].decode("utf-8", "replace")
    diag = pdu[parts[2][1] : parts[2][2]].decode("utf-8", "replace").rstrip("\x00")
    extra = b"".join(pdu[s:e] for _, s, e in parts[3:])
    ctrls: dict[str, bytes] = {}
    if op_end < msg_end:
        h = header(pdu, op_end, msg_end)
        if h is not None and h[0] == 0xA0:
            for _, cs, ce in children(pdu, h[1], h[2]):
                fields = children(pdu, cs, ce)
                oid = pdu[fields[0][1] : fields[0][2]].decode()
                value = next((pdu[s:e] for t, s, e in fields[1:] if t == 0x04), b"")
                ctrls[oid] = value
    return LdapResult(code, matched, diag, ctrls, extra)


def paged_cookie(value: bytes) -> bytes:
    """The cookie of a paged results response control value."""
    outer = header(value, 0, len(value))
    if outer is None:
        raise BerError("empty paged results control")
    parts = children(value, outer[1], outer[2])
    return value[parts[1][1] : parts[1][2]] if len(parts) > 1 else b""


def decode_ppolicy(value: bytes) -> tuple[str | None, str | None]:
    """(warning, error) of a password policy response control (draft-behera-ldap-password-policy)."""
    errors = {
        0: "passwordExpired",
        1: "accountLocked",
        2: "changeAfterReset",
        3: "passwordModNotAllowed",
        4: "mustSupplyOldPassword",
        5: "insufficientPasswordQuality",
        6: "passwordTooShort",
        7: "passwordTooYoung",
        8: "passwordInHistory",
    }
    outer = header(value, 0, len(value))
    if outer is None:
        return None, None
    warning = error = None
    for tag, start, end in children(value, outer[1], outer[2]):
        if tag == 0xA0:
            inner = children(value, start, end)
            if inner:
                kind = "timeBeforeExpiration" if inner[0][0] == 0x80 else "graceAuthNsRemaining"
                warning = f"{kind}={decode_int(value[inner[0][1] : inner[0][2]])}"
        elif tag == 0x81:
            code = decode_int(value[start:end])
            error = errors.get(code, str(code))
    return warning, error
