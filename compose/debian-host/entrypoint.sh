#!/bin/bash
# ldapcheck lab Debian-package Jitsi host: what happens when such a host boots, without systemd.
#   1. first start only: unpack /ldapcheck-lab/stage.tar, the files `ldapcheck lab up --deployment host` wrote for this
#      lab (/etc/prosody, /etc/jitsi, /etc/nginx, /etc/default/saslauthd, /etc/saslauthd.conf …; owners by name, so
#      GNU tar maps prosody/jicofo/sasl to this image's ids), and install /ldapcheck-lab/*.whl into /opt/ldapcheck
#      (its dependencies are already there), run /ldapcheck-lab/setup.sh (the guides' other steps, e.g.
#      `adduser prosody sasl`); then delete them (the stage holds passwords);
#   2. start the services the way a host without systemd does, with the packages' init scripts: saslauthd's honours
#      /etc/default/saslauthd (START=yes, MECHANISMS, OPTIONS; START=no: it does not run), prosody's runs `prosody -D`
#      as user prosody, nginx's reads /etc/nginx/sites-enabled;
#   3. stay up and show the services' logs on the container output (`docker logs`).
# A test that changes a file and wants a service to see it runs the init script itself, as an admin would
# (`/etc/init.d/prosody restart`, `/etc/init.d/saslauthd restart`).
set -uo pipefail

log() { echo "ldapcheck-debian-host: $*" >&2; }

stage=/ldapcheck-lab/stage.tar
if [[ -f $stage ]]; then
  tar -x -p --same-owner -C / -f "$stage" || {
    log "cannot unpack $stage"
    exit 1
  }
  rm -f "$stage"
  if [[ -f /ldapcheck-lab/setup.sh ]]; then
    sh /ldapcheck-lab/setup.sh || {
      log "/ldapcheck-lab/setup.sh failed"
      exit 1
    }
    rm -f /ldapcheck-lab/setup.sh
  fi
  for wheel in /ldapcheck-lab/*.whl; do
    [[ -f $wheel ]] || continue
    /opt/ldapcheck/bin/pip install -q --no-deps --no-index --disable-pip-version-check --no-cache-dir "$wheel" || {
      log "cannot install $wheel"
      exit 1
    }
    rm -f "$wheel"
    ln -sf /opt/ldapcheck/bin/ldapcheck /usr/local/bin/ldapcheck
  done
  log "lab files unpacked$(command -v ldapcheck >/dev/null && echo ", $(ldapcheck --version 2>&1 | head -1) installed")"
fi

# A host boots with an empty /run (tmpfs): a container started again from a committed one has its old pid files.
rm -rf /run/prosody /run/saslauthd /run/nginx.pid
mkdir -p /var/log/prosody /var/log/nginx
chown prosody:adm /var/log/prosody
touch /var/log/prosody/prosody.log /var/log/prosody/prosody.err
chown prosody:adm /var/log/prosody/prosody.log /var/log/prosody/prosody.err

/etc/init.d/saslauthd start >&2
/etc/init.d/prosody start >&2
/etc/init.d/nginx start >&2

exec tail -n +1 -q -F /var/log/prosody/prosody.log /var/log/prosody/prosody.err /var/log/nginx/error.log 2>/dev/null
