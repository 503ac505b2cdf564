"""Build the lab images from `compose/` when they are missing (host network for apt, local base image)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ldapcheck.core.errors import LdapCheckError
from ldapcheck.lab.compose import compose_dir
from ldapcheck.lab.spec import DEBIAN_HOST_IMAGE, JICOFO_IMAGE, OPENLDAP_IMAGE, PROSODY_IMAGE, WEB_IMAGE

if TYPE_CHECKING:
    from docker import DockerClient

DEFAULT_BASE_IMAGE = "ldapcheck/debian-base:bookworm"
UPSTREAM_BASE_IMAGE = "debian:bookworm-slim"
LAB_IMAGES = {OPENLDAP_IMAGE: "openldap", PROSODY_IMAGE: "prosody", WEB_IMAGE: "web", JICOFO_IMAGE: "jicofo"}
# Built on demand only (the AD tests, the docker-over-ssh test; the Debian host by `lab up --deployment host`).
EXTRA_IMAGES = {
    "ldapcheck/lab-samba-ad:latest": "samba-ad",
    "ldapcheck/test-docker-ssh:latest": "docker-ssh",
    DEBIAN_HOST_IMAGE: "debian-host",
}
# Contexts whose image pre-installs ldapcheck's dependencies: their wheels are added to a copy of the context.
WHEEL_CONTEXTS = frozenset({"debian-host"})

Progress = Callable[[str], None]

# The prosody image renders saslauthd.conf at start with ldapcheck's own renderer (upstream's `tpl` stand-in), so
# its build context is the repository root narrowed by /.dockerignore to compose/prosody and these sources.
RENDERER_SOURCES = (
    "ldapcheck/__init__.py",
    "ldapcheck/auth/__init__.py",
    "ldapcheck/auth/ldap/__init__.py",
    "ldapcheck/auth/ldap/render.py",
    "ldapcheck/core/__init__.py",
    "ldapcheck/core/record.py",
    "ldapcheck/jitsi/__init__.py",
    "ldapcheck/jitsi/modes.py",
    "ldapcheck/jitsi/tpl.py",
    "templates/__init__.py",
    "templates/saslauthd.current.j2",
)
ROOT_CONTEXT = frozenset({"prosody"})  # compose/<name> built from the repository root


HASH_LABEL = "org.ldapcheck.context-hash"


def context_hash(context: Path, extra: tuple[Path, ...] = ()) -> str:
    """A digest of a build context (paths, modes and contents): an image built from other files is stale.

    `extra`: files outside `context` that the build also copies (the prosody image's renderer sources).
    """
    digest = hashlib.sha256()
    files = sorted(p for p in context.rglob("*") if p.is_file())
    for path in [*files, *extra]:
        name = path.relative_to(context) if path.is_relative_to(context) else path.relative_to(context.parents[1])
        digest.update(f"{name}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_hash(name: str) -> str:
    """context_hash of the files image `name` is built from (raises LdapCheckError without a source checkout)."""
    service = _context_name(name)
    context = compose_dir() / service
    extra = tuple(compose_dir().parent / p for p in RENDERER_SOURCES) if service in ROOT_CONTEXT else ()
    return context_hash(context, extra)


def _context_name(image: str) -> str:
    return {**LAB_IMAGES, **EXTRA_IMAGES}[image]


def _has_image(client: DockerClient, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def pinned(name: str) -> str:
    """The tag the lab runs: `<repo>:ctx-<context hash>` of this checkout's compose/<service>, else `name` itself.

    `:latest` is shared by every checkout on the engine (another worktree's `lab up` retags it), so containers are
    started from the content-addressed tag, which no other checkout's build can move.
    """
    try:
        digest = image_hash(name)
    except LdapCheckError:
        return name  # no Dockerfiles here (installed package): any image with that name will do
    return f"{name.rsplit(':', 1)[0]}:ctx-{digest}"


def _is_current(client: DockerClient, name: str) -> bool:
    """The image exists and was built from this checkout's compose/<service> files."""
    import docker.errors

    try:
        image = client.images.get(pinned(name))
    except docker.errors.ImageNotFound:
        return False
    built_from = (image.labels or {}).get(HASH_LABEL)
    try:
        wanted = image_hash(name)
    except LdapCheckError:
        return True  # no Dockerfiles here (installed package): any image with that name will do
    return built_from == wanted


def base_image(client: DockerClient) -> str:
    """The image the lab images build FROM: LDAPCHECK_BASE_IMAGE, the local debootstrap one, or Debian's slim."""
    wanted = os.environ.get("LDAPCHECK_BASE_IMAGE")
    candidates = [wanted] if wanted else [DEFAULT_BASE_IMAGE, UPSTREAM_BASE_IMAGE]
    for name in candidates:
        if _has_image(client, name):
            return name
    raise LdapCheckError(
        f"base image {candidates[0]} is missing; run scripts/ensure-docker.sh to build it "
        f"(or `docker pull {UPSTREAM_BASE_IMAGE}` where a registry is reachable)"
    )


def missing_images(client: DockerClient) -> list[str]:
    """Lab images that are absent or were built from different Dockerfiles/entrypoints than this checkout's."""
    return [name for name in LAB_IMAGES if not _is_current(client, name)]


def build_image(client: DockerClient, name: str, base: str) -> None:
    """`docker build --network host --build-arg BASE_IMAGE=<base> -t <pinned name> compose/<service>`.

    `:latest` is left alone: other checkouts on the same engine run from it (compose/lab.yml builds its own).
    """
    import docker.errors

    service = _context_name(name)
    context = compose_dir() / service
    # Built from the repository root, the Dockerfile names its files from there (/.dockerignore keeps it small).
    root = service in ROOT_CONTEXT
    try:
        with _build_context(context) as build_dir:
            client.images.build(
                path=str(compose_dir().parent if root else build_dir),
                dockerfile=f"compose/{service}/Dockerfile" if root else "Dockerfile",
                tag=pinned(name),
                buildargs={"BASE_IMAGE": base},
                labels={HASH_LABEL: image_hash(name)},
                network_mode="host",
                rm=True,
                forcerm=True,
            )
    except docker.errors.BuildError as exc:
        tail = "; ".join(str(chunk.get("stream", chunk.get("error", ""))).strip() for chunk in list(exc.build_log)[-5:])
        raise LdapCheckError(f"building {name} from {context} failed: {exc.msg} ({tail[-400:]})") from None


@contextlib.contextmanager
def _build_context(context: Path) -> Iterator[Path]:
    """`context` itself, or for WHEEL_CONTEXTS a temporary copy with wheels/ of its requirements.txt added.

    The label keeps the hash of `context` alone: the wheels are what requirements.txt pins, made by this machine.
    """
    if context.name not in WHEEL_CONTEXTS:
        yield context
        return
    from ldapcheck.lab.wheels import build_dependency_wheels

    with tempfile.TemporaryDirectory(prefix=f"ldapcheck-{context.name}-") as tmp:
        copy = Path(tmp) / context.name
        shutil.copytree(context, copy)
        build_dependency_wheels(copy / "requirements.txt", copy / "wheels")
        yield copy


def ensure_image(client: DockerClient, name: str, progress: Progress = lambda _msg: None) -> str:
    """Build one image (LAB_IMAGES or EXTRA_IMAGES) unless this checkout's build of it exists; its pinned tag."""
    if not _is_current(client, name):
        base = base_image(client)
        progress(f"building {name} from {base} (a minute or two the first time)")
        build_image(client, name, base)
    return pinned(name)


def ensure_images(client: DockerClient, progress: Progress = lambda _msg: None) -> list[str]:
    """Build whichever lab images are missing or stale; returns the ones built (the build cache keeps it quick)."""
    missing = missing_images(client)
    if not missing:
        return []
    base = base_image(client)
    for name in missing:
        progress(f"building {name} from {base} (about a minute the first time)")
        build_image(client, name, base)
    return missing
