# ldapcheck in-container facts: ONE exec that prints every file and state the container steps judge.
# Usage: bash -c "$(cat facts.sh)" facts [HOST PORT]...   (the hosts/ports to probe for DNS and TCP)
# Output: records `@@<kind> <fields...>\n`; kinds with a payload end in its byte length, then the raw
# bytes and a newline follow. Bash builtins only where possible: every fork is slow in sandboxed engines.
export LC_ALL=C
printf '@@clock %s\n' "${EPOCHREALTIME:-}" # bash 5 builtin: the container's clock, no fork
payload() { printf '%s %d\n%s\n' "$1" "${#2}" "$2"; }
file() {
  local content
  if [[ -r $1 ]]; then
    IFS= read -r -d '' content <"$1"
    payload "@@file $1" "$content"
  elif [[ -e $1 ]]; then
    printf '@@unreadable %s\n' "$1"
  else
    printf '@@missing %s\n' "$1"
  fi
}
dir() {
  [[ -d $1 ]] || return 0
  local names=("$1"/*) IFS=$'\n'
  [[ -e ${names[0]} ]] || names=()
  payload "@@dir $1" "${names[*]##*/}"
}
conf_paths=() run_dirs=(/var/run/saslauthd)
for p in /proc/[0-9]*; do
  args=()
  mapfile -d '' -t args <"$p/cmdline" 2>/dev/null || continue
  ((${#args[@]})) || continue # zombies and kernel threads have no command line
  a0=${args[0]##*/} a1=${args[1]:-}
  a1=${a1##*/}
  case "$a0 $a1" in saslauthd* | prosody* | lua*" prosody"*) ;; *) continue ;; esac
  uid=-1
  while read -r key value _; do [[ $key == Uid: ]] && uid=$value && break; done <"$p/status"
  IFS=$'\n'
  payload "@@proc ${p#/proc/} $uid" "${args[*]}"
  unset IFS
  if [[ $a0 == saslauthd ]]; then
    for ((i = 1; i < ${#args[@]}; i++)); do
      [[ ${args[i]} == -O ]] && conf_paths+=("${args[i + 1]}")
      [[ ${args[i]} == -m ]] && run_dirs+=("${args[i + 1]%/}")
    done
  fi
done
declare -A seen=()
for f in /run/saslauthd.conf /etc/saslauthd.conf /config/saslauthd.conf "${conf_paths[@]}" \
  /run/prosody/config/prosody.cfg.lua /config/prosody.cfg.lua /etc/ldap/ldap.conf \
  /etc/sasl2/xmpp.conf /etc/sasl/xmpp.conf /usr/lib/x86_64-linux-gnu/sasl2/xmpp.conf /usr/lib/sasl2/xmpp.conf; do
  [[ -n ${seen[$f]:-} ]] && continue
  seen[$f]=1
  file "$f"
done
# Upstream renders the VirtualHosts into conf.d/jitsi-meet.cfg.lua, which prosody.cfg.lua Includes.
for f in /run/prosody/config/conf.d/*.cfg.lua /config/conf.d/*.cfg.lua; do [[ -e $f ]] && file "$f"; done
# The TLS files saslauthd.conf names must exist inside the container (TLS-CA-PATH).
for f in /run/saslauthd.conf /etc/saslauthd.conf "${conf_paths[@]}"; do
  [[ -r $f ]] || continue
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*(ldap_tls_cacert_file|ldap_tls_cacert_dir|ldap_tls_cert|ldap_tls_key):[[:space:]]*(.+)$ ]]; then
      path=${BASH_REMATCH[2]}
      if [[ -e $path ]]; then printf '@@exists 1 %s\n' "$path"; else printf '@@exists 0 %s\n' "$path"; fi
    fi
  done <"$f"
done
for d in /run/prosody/config/certs /config/certs /run/prosody/certs; do dir "$d"; done
stat_paths=()
for d in "${run_dirs[@]}"; do
  [[ -n ${seen[$d]:-} ]] && continue
  seen[$d]=1
  [[ -e $d ]] && stat_paths+=("$d")
  [[ -e $d/mux ]] && stat_paths+=("$d/mux")
done
# saslauthd.conf holds ldap_bind_pw: who may read it (SA-CONF-PERMS).
for f in /run/saslauthd.conf /etc/saslauthd.conf "${conf_paths[@]}"; do
  [[ -n ${seen[stat:$f]:-} ]] && continue
  seen[stat:$f]=1
  [[ -e $f ]] && stat_paths+=("$f")
done
((${#stat_paths[@]})) && stat -L -c '@@stat %n %a %U %G %F' "${stat_paths[@]}" 2>/dev/null
# Users prosody may run as, from /etc/passwd and /etc/group (no `id` forks).
declare -A uids=() gids=()
while IFS=: read -r name _ uid gid _; do
  [[ $name == prosody || $name == s6 ]] && uids[$name]=$uid gids[$name]=$gid
done </etc/passwd
for name in "${!uids[@]}"; do
  groups=""
  while IFS=: read -r group _ gid members; do
    if [[ $gid == "${gids[$name]}" || ,$members, == *",$name,"* ]]; then groups+="${groups:+,}$group"; fi
  done </etc/group
  printf '@@user %s %s %s %s\n' "$name" "${uids[$name]}" "${gids[$name]}" "$groups"
done
for b in testsaslauthd lua5.4 getent timeout saslauthd prosody setpriv; do
  where=-
  for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do [[ -x $d/$b ]] && where=$d/$b && break; done
  printf '@@bin %s %s\n' "$b" "$where"
done
# DNS and TCP from inside: one job per server, all in parallel (each probe bounded by ldapcheck's --timeout, passed
# as LDAPCHECK_NET_TIMEOUT, 5 s when unset); each job's
# output is read from its own process substitution, in order, so records never interleave.
# The tcp record ends with the milliseconds DNS + TCP took (bash 5's EPOCHREALTIME; empty without it).
probe_target() {
  local out rc t0=${EPOCHREALTIME/[.,]/} ms=
  out=$(timeout "${LDAPCHECK_NET_TIMEOUT:-5}" getent hosts "$1" 2>&1)
  rc=$?
  payload "@@dns $1 $rc" "$out"
  timeout "${LDAPCHECK_NET_TIMEOUT:-5}" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
  rc=$?
  [[ -n $t0 ]] && ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
  printf '@@tcp %s %s %s %s\n' "$1" "$2" "$rc" "$ms"
}
jobs_fds=()
while (($# >= 2)); do
  exec {fd}< <(probe_target "$1" "$2")
  jobs_fds+=("$fd")
  shift 2
done
for fd in "${jobs_fds[@]}"; do
  while IFS= read -r line || [[ -n $line ]]; do printf '%s\n' "$line"; done <&"$fd"
  exec {fd}<&-
done
printf '@@done\n'
