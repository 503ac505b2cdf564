#!/usr/bin/env bash
# Make sure a Docker engine answers and the local Debian base image exists.
# Safe to run repeatedly: an engine that already answers is left alone, an existing image is kept.
# Why a local base: these machines reach no container registry (see README, "Lab").
set -euo pipefail

BASE_IMAGE="${LDAPCHECK_BASE_IMAGE:-ldapcheck/debian-base:bookworm}"
SUITE="${LDAPCHECK_BASE_SUITE:-bookworm}"

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
}

debian_mirror() {
  # The mirror apt already uses here; debootstrap must use the same one.
  local m
  # Only live entries: "URIs:" in deb822 files, "deb URL" in one-line files; comments may name other mirrors.
  m=$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
         grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'; } \
       | grep -E '/debian/?$' | head -n1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

start_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  log "starting dockerd (bridge off, host networking only)"
  ip link del docker0 >/dev/null 2>&1 || true
  nohup dockerd --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && { log "engine up"; return 0; }
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; see /var/log/dockerd.log"
  return 1
}

build_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  local rootfs
  rootfs=$(mktemp -d /tmp/ldapcheck-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' RETURN
  log "debootstrap $SUITE into $rootfs (about a minute)"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$(debian_mirror)" >/tmp/ldapcheck-debootstrap.log 2>&1 \
    || { log "debootstrap failed; see /tmp/ldapcheck-debootstrap.log"; return 1; }
  # Keep images small and apt quiet, as the official slim images do.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$rootfs/etc/apt/apt.conf.d/90ldapcheck"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE"
}

command -v docker >/dev/null 2>&1 || apt_install docker.io
# docker-compose v1 (Debian's; v2 is not packaged here): the lab's compose file is tested with it.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
start_engine
build_base
