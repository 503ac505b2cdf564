#!/bin/sh
# SSHD_PORT, AUTHORIZED_KEY (one public key line), HOST_KEY (a private host key file, e.g. mounted by the test so
# that it can write known_hosts; generated when absent): sshd on 127.0.0.1:SSHD_PORT for root with that key only.
set -eu
HOST_KEY=${HOST_KEY:-/etc/ssh/ssh_host_ed25519_key}
install -d -m 0700 /root/.ssh
printf '%s\n' "$AUTHORIZED_KEY" > /root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
[ -f "$HOST_KEY" ] || ssh-keygen -q -t ed25519 -N '' -f "$HOST_KEY"
exec /usr/sbin/sshd -D -e -p "$SSHD_PORT" -o ListenAddress=127.0.0.1 -o PermitRootLogin=prohibit-password \
  -o PasswordAuthentication=no -o HostKey="$HOST_KEY" -o UsePAM=no
