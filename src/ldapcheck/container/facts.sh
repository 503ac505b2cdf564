# ldapcheck in-container facts: ONE exec that prints every file and state the container steps judge.
# Usage: bash -c "$(cat facts.sh)" facts [HOST PORT]...   (the hosts/ports to probe for DNS and TCP)
# Output: one record a line, `@@<kind> <fields...>`; file contents and free text are base64 (exact bytes).
b64() { base64 -w0; }
file() { if [ -e "$1" ]; then printf '@@file %s %s\n' "$1" "$(b64 <"$1" 2>/dev/null)"; else printf '@@missing %s\n' "$1"; fi; }
dir() { [ -d "$1" ] && printf '@@dir %s %s\n' "$1" "$(ls -1 "$1" 2>/dev/null | b64)"; }
st() { [ -e "$1" ] && printf '@@stat %s %s\n' "$1" "$(stat -L -c '%a %U %G %F' "$1" 2>/dev/null | tr ' ' '_' | sed 's/_/ /;s/_/ /;s/_/ /')"; }
conf_paths=""
run_dirs="/var/run/saslauthd"
for p in /proc/[0-9]*; do
  [ -r "$p/cmdline" ] || continue
  cmd=$(tr '\0' '\n' <"$p/cmdline" 2>/dev/null)
  [ -n "$cmd" ] || continue
  argv0=$(printf '%s\n' "$cmd" | sed -n 1p)
  argv0=${argv0##*/}
  argv1=$(printf '%s\n' "$cmd" | sed -n 2p)
  argv1=${argv1##*/}
  case "$argv0 $argv1" in saslauthd* | prosody* | lua*prosody* | *" prosody") ;; *) continue ;; esac
  uid=$(awk '/^Uid:/ {print $2}' "$p/status" 2>/dev/null)
  printf '@@proc %s %s %s\n' "${p#/proc/}" "$uid" "$(printf '%s' "$cmd" | b64)"
  case "$argv0" in
    saslauthd)
      conf_paths="$conf_paths $(printf '%s\n' "$cmd" | grep -A1 -x -- '-O' | tail -n1)"
      run_dirs="$run_dirs $(printf '%s\n' "$cmd" | grep -A1 -x -- '-m' | tail -n1)" ;;
  esac
done
conf_paths=$(printf '%s\n' $conf_paths | sort -u)
run_dirs=$(printf '%s\n' $run_dirs | sed 's:/*$::' | sort -u)
for f in /run/saslauthd.conf /etc/saslauthd.conf /config/saslauthd.conf $conf_paths \
  /run/prosody/config/prosody.cfg.lua /config/prosody.cfg.lua /etc/ldap/ldap.conf \
  /etc/sasl2/xmpp.conf /etc/sasl/xmpp.conf /usr/lib/x86_64-linux-gnu/sasl2/xmpp.conf /usr/lib/sasl2/xmpp.conf; do
  file "$f"
done
for d in /run/prosody/config/certs /config/certs /run/prosody/certs; do dir "$d"; done
for d in $run_dirs; do st "$d"; st "$d/mux"; done
for u in prosody s6; do
  id "$u" >/dev/null 2>&1 && printf '@@user %s %s %s %s\n' "$u" "$(id -u "$u")" "$(id -g "$u")" "$(id -Gn "$u" | tr ' ' ',')"
done
for b in testsaslauthd lua5.4 getent timeout saslauthd; do printf '@@bin %s %s\n' "$b" "$(command -v "$b" || echo -)"; done
# DNS and TCP from inside, in parallel (each probe is bounded by `timeout 5`).
shift 0
while [ $# -ge 2 ]; do
  host=$1 port=$2
  shift 2
  (out=$(timeout 5 getent hosts "$host" 2>&1); printf '@@dns %s %s %s\n' "$host" "$?" "$(printf '%s' "$out" | b64)") &
  (timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; printf '@@tcp %s %s %s\n' "$host" "$port" "$?") &
done
wait
printf '@@done\n'
