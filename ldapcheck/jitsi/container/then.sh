# ldapcheck: the facts exec, with room for ONE follow-up command run as another user (e.g. the probe as prosody's
# user, which reads a password on its stdin). Runs as root.
# Usage: bash -c "$(cat then.sh)" ldapcheck TOKEN FACTS_SCRIPT [HOST PORT]...
# After each part, `\n@@part TOKEN RC\n` on stdout and on stderr (ExecChannel in ldapcheck/adapters/docker.py).
# The facts part runs with stdin closed. Then, if the host sends one, a follow-up request on stdin:
# `@@then USER NARGS NENV\n`, NARGS argv strings, NENV `KEY=VALUE` strings, each `<byte length>\n<bytes>`;
# whatever follows is the follow-up's own stdin. USER is a name or uid, taken as `docker exec --user` takes it
# (uid, gid and HOME from /etc/passwd, supplementary groups from /etc/group); util-linux's setpriv switches.
token=$1 facts=$2
shift 2
part() {
  printf '\n@@part %s %d\n' "$token" "$1"
  printf '\n@@part %s %d\n' "$token" "$1" >&2
}
(eval "$facts") </dev/null
part $?
fail() {
  printf 'ldapcheck follow-up: %s\n' "$2" >&2
  part "$1"
  exit "$1"
}
counted() {
  local LC_ALL=C len
  IFS= read -r -t 60 len && [[ $len =~ ^[0-9]+$ ]] || return 1
  REPLY=
  ((len == 0)) || IFS= read -r -t 60 -N "$len" REPLY
}
IFS=' ' read -r -t 60 tag who nargs nenv || exit 0 # no follow-up: the host hung up
[[ $tag == @@then && $nargs =~ ^[1-9][0-9]*$ && $nenv =~ ^[0-9]+$ ]] || fail 2 "bad request header"
args=()
for ((i = 0; i < nargs; i++)); do
  counted || fail 2 "bad argument $i"
  args+=("$REPLY")
done
for ((i = 0; i < nenv; i++)); do
  counted && [[ $REPLY == [A-Za-z_]*=* ]] || fail 2 "bad environment entry $i"
  export "$REPLY"
done
uid='' gid='' home=/ groups=--init-groups
while IFS=: read -r name _ u g _ h _; do
  if [[ $name == "$who" || $u == "$who" ]]; then
    uid=$u gid=$g home=${h:-/}
    break
  fi
done </etc/passwd
if [[ -z $uid ]]; then
  [[ $who =~ ^[0-9]+$ ]] || fail 126 "no user $who in /etc/passwd"
  uid=$who gid=0 groups=--clear-groups # as docker exec --user UID does for a uid /etc/passwd does not list
fi
command -v setpriv >/dev/null || fail 127 "setpriv (util-linux) not found"
HOME=$home setpriv --reuid="$uid" --regid="$gid" "$groups" -- "${args[@]}"
part $?
