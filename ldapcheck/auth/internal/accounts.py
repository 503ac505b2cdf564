"""Where internal accounts are: prosody's `internal_hashed` storage, `<data_path>/<host encoded>/accounts/<user>.dat`
(`util/datamanager.lua`: every non-alphanumeric character of host and user becomes `%xx`; the user is nodeprep'd,
i.e. lowercased). One small exec lists the account directories of every candidate data path; it never prints a
stored key (it only tests whether `<user>.dat` exists and whether it says `disabled = true`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Data paths of both image generations and of Debian's package (auth-modes.md §1.3).
CURRENT_DATA = "/var/lib/prosody/data"  # rootless images (stable-11146+)
LEGACY_DATA = "/config/data"  # before stable-11146
DEBIAN_DATA = "/var/lib/prosody"  # Debian's prosody default (and the lab's)
CANDIDATES = (CURRENT_DATA, LEGACY_DATA, DEBIAN_DATA)

SCRIPT = r"""
u=$1; shift
for d in "$@"; do
  [ -d "$d" ] || continue
  echo "@@data $d"
  for h in "$d"/*/; do
    [ -d "${h}accounts" ] || continue
    h=${h%/}; name=${h##*/}
    n=0; for a in "$h"/accounts/*.dat; do [ -e "$a" ] && n=$((n+1)); done
    has=0; dis=0
    if [ -e "$h/accounts/$u.dat" ]; then
      has=1
      grep -Eq 'disabled[[:space:]]*=[[:space:]]*true' "$h/accounts/$u.dat" && dis=1
    fi
    echo "@@host $d $name $n $has $dis"
  done
done
"""


def encode(part: str) -> str:
    """datamanager's encode: every character outside [a-zA-Z0-9] as %xx (lowercase hex)."""
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"%{b:02x}" for b in c.encode()) for c in part)


def decode(part: str) -> str:
    """The inverse of `encode`."""
    return re.sub(r"%([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), part)


def node(login: str) -> str:
    """The stored user name of a login as typed: the part before '@', lowercased (nodeprep)."""
    return login.partition("@")[0].strip().lower()


@dataclass(frozen=True)
class HostAccounts:
    """One host directory under a data path."""

    data_path: str
    host: str  # decoded (meet.jitsi)
    count: int
    has_user: bool
    disabled: bool

    def file(self, user: str) -> str:
        return f"{self.data_path}/{encode(self.host)}/accounts/{encode(user)}.dat"


@dataclass
class Storage:
    """What the listing found: the data paths that exist and their host directories."""

    data_paths: list[str] = field(default_factory=list)
    hosts: list[HostAccounts] = field(default_factory=list)

    def where(self, user_found: bool = True) -> list[HostAccounts]:
        return [h for h in self.hosts if h.has_user == user_found]


def parse(output: str) -> Storage:
    storage = Storage()
    for line in output.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "@@data":
            storage.data_paths.append(rest)
        elif kind == "@@host":
            parts = rest.rsplit(" ", 4)
            if len(parts) == 5:
                data, name, n, has, dis = parts
                storage.hosts.append(
                    HostAccounts(
                        data_path=data,
                        host=decode(name),
                        count=int(n) if n.isdigit() else 0,
                        has_user=has == "1",
                        disabled=dis == "1",
                    )
                )
    return storage
