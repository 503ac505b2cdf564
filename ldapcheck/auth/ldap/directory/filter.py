"""From LDAP_FILTER to the filters a directory scan needs: presence test, object-class part, login attributes.

The filter is read by the one RFC 4515 parser (`ldapcheck.adapters.ldap.filter`); this module only derives.
"""

from __future__ import annotations

from dataclasses import dataclass

# The tree and its parser, re-exported: the directory steps and their tests read them from here.
from ldapcheck.adapters.ldap.filter import Filter as Filter
from ldapcheck.adapters.ldap.filter import FilterSyntaxError as FilterSyntaxError
from ldapcheck.adapters.ldap.filter import Item as Item
from ldapcheck.adapters.ldap.filter import Node as Node
from ldapcheck.adapters.ldap.filter import parse as parse
from ldapcheck.auth.ldap.saslfilter import expand

# Users a filter without an object-class part (`uid=%u`) is meant for: entries the "no login attribute" check covers.
FALLBACK_OBJECT_FILTER = "(objectClass=person)"
_USER_TOKENS = ("%u", "%U")


def _is_login_item(node: Filter) -> bool:
    return (
        isinstance(node, Item)
        and node.op == "="
        and ":" not in node.attr
        and any(t in node.value for t in _USER_TOKENS)
        and "*" not in node.value
    )


def _has_user_token(node: Filter) -> bool:
    if isinstance(node, Item):
        return any(t in node.value for t in _USER_TOKENS)
    return any(_has_user_token(c) for c in node.children)


def _login_group(node: Filter) -> bool:
    """A login item, or an OR made only of login items (`(|(uid=%u)(mail=%u))`)."""
    if _is_login_item(node):
        return True
    return isinstance(node, Node) and node.kind == "|" and all(_is_login_item(c) for c in node.children)


def _to_presence(node: Filter) -> Filter:
    if isinstance(node, Item):
        return Item(node.attr, "=", "*") if _is_login_item(node) else node
    return Node(node.kind, tuple(_to_presence(c) for c in node.children))


def _login_items(node: Filter) -> list[Item]:
    if isinstance(node, Item):
        return [node] if _is_login_item(node) else []
    return [i for c in node.children for i in _login_items(c)]


@dataclass(frozen=True)
class LoginAttr:
    """A login attribute and the constant text around the login in its value (`(mail=%u@corp.example)`)."""

    name: str
    prefix: str = ""
    suffix: str = ""

    def login_of(self, value: str) -> str | None:
        """The login a user types to match `value`, or None if no login can produce it."""
        if not (value.startswith(self.prefix) and value.endswith(self.suffix)):
            return None
        if len(value) < len(self.prefix) + len(self.suffix):
            return None
        return value[len(self.prefix) : len(value) - len(self.suffix)]


@dataclass(frozen=True)
class LoginFilter:
    """Everything a directory scan derives from LDAP_FILTER.

    `presence`: the filter with each login placeholder as a presence test; it selects every entry some login reaches,
    and is what the scan searches (the same search as `ldapsearch … '(uid=*)' uid`).
    `lacking`: entries of the object part without any login attribute (None when not separable).
    `object_part`: the filter without the login items (None when the filter has none and the fallback is used).
    `separable`: False when a placeholder sits under `!` or in a mixed OR: "without the attribute" is then undefined.
    """

    template: str
    presence: str
    lacking: str | None
    object_part: str | None
    login_attrs: tuple[LoginAttr, ...]
    separable: bool

    @property
    def scan(self) -> str:
        """The filter of the directory scan."""
        return self.presence

    @property
    def attr_names(self) -> tuple[str, ...]:
        """The login attribute names, without repeats, in filter order."""
        return tuple(dict.fromkeys(a.name for a in self.login_attrs))


def _unescape_constant(text: str) -> str:
    """The literal text an RFC 4515-escaped constant stands for (`\\2a` → `*`)."""
    import re

    return re.sub(r"\\([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


def _login_attr(item: Item, realm: str) -> LoginAttr:
    marker = "\x01"
    text = item.value.replace("%u", marker).replace("%U", marker)
    expanded = expand(text, "", realm=realm)
    prefix, _, suffix = expanded.partition(marker)
    return LoginAttr(item.attr, _unescape_constant(prefix), _unescape_constant(suffix))


def derive(template: str, realm: str) -> LoginFilter:
    """Derive the scan filters from an LDAP_FILTER template (tokens other than %u/%U expanded for `realm`)."""
    tree = parse(template)
    logins = _login_items(tree)
    if not logins:
        raise FilterSyntaxError(
            f"LDAP_FILTER {template!r} has no equality item with %u or %U, so no login can select an entry"
        )
    presence_tree = _to_presence(tree)
    presence = expand(presence_tree.text().replace("%u", "").replace("%U", ""), "", realm=realm)
    attrs = tuple(_login_attr(i, realm) for i in logins)
    others: list[Filter] | None = None
    if _login_group(tree):
        others = []
    elif isinstance(tree, Node) and tree.kind == "&":
        rest = [c for c in tree.children if not _login_group(c)]
        if not any(_has_user_token(c) for c in rest):
            others = rest
    if others is None:
        return LoginFilter(template, presence, None, None, attrs, separable=False)
    names = tuple(dict.fromkeys(a.name for a in attrs))
    present = f"({names[0]}=*)" if len(names) == 1 else "(|" + "".join(f"({n}=*)" for n in names) + ")"
    if not others:
        return LoginFilter(template, presence, f"(&{FALLBACK_OBJECT_FILTER}(!{present}))", None, attrs, True)
    obj_tree: Filter = others[0] if len(others) == 1 else Node("&", tuple(others))
    obj = expand(obj_tree.text(), "", realm=realm)
    return LoginFilter(template, presence, f"(&{obj}(!{present}))", obj, attrs, separable=True)
