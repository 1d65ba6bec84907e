"""A Docker daemon of the test's own, a registry on loopback and a Python 3.11 base image.

What the Docker deployment needs, made on this machine without Docker Hub: `dockerd` (Debian's
`docker.io`) in a temporary directory, with no bridge network (containers use the host's
network: traffic stays on loopback), `docker-registry` on a loopback port for the push step, and
a Debian bookworm image with Python 3.11 made by `debootstrap` from the machine's own apt mirror.
The base image carries this machine's CA bundle and pip index settings, so pip in the image build
reaches the package index the way pip here does. Its root file system is kept as a tarball in
`~/.cache/billing-sync/docker/` (named after its recipe), so only the first run pays for
debootstrap.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import httpx
from operator_env import _stop as stop_process
from operator_env import free_port

TOOLS = {"dockerd": "docker.io", "debootstrap": "debootstrap", "docker-registry": "docker-registry"}
SUITE = "bookworm"  # Debian's release with Python 3.11
PACKAGES = "python3.11,python3.11-venv,python3-pip,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PIP_SETTINGS = ("index-url", "extra-index-url", "trusted-host", "default-timeout")
START_TIMEOUT = 60.0


def why_no_docker() -> str | None:
    """Why a Docker daemon cannot be started here, or None if it can."""
    if os.geteuid() != 0:
        return "dockerd needs root (CI runs the tests as root)"
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        packages = " ".join(TOOLS[tool] for tool in missing)
        return f"no {', '.join(missing)} here (apt-get install -y {packages})"
    return None


@contextmanager
def docker_daemon(workdir: Path) -> Iterator[str]:
    """`dockerd` on a socket in `workdir`; yields its DOCKER_HOST. Everything goes at the end."""
    root = workdir / "docker"
    root.mkdir()
    host = f"unix://{root / 'docker.sock'}"
    command = [
        "dockerd",
        "--host",
        host,
        "--data-root",
        str(root / "data"),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "docker.pid"),
        "--bridge=none",
        "--iptables=false",
        "--ip-masq=false",
    ]
    log_path = root / "dockerd.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait(lambda: docker.DockerClient(base_url=host).close(), process, log_path)
            yield host
        finally:
            stop_process(process)
            _unmount_under(root)  # dockerd leaves its network namespace mounted
            shutil.rmtree(root, ignore_errors=True)


@contextmanager
def loopback_registry(workdir: Path) -> Iterator[str]:
    """Debian's `docker-registry` on a loopback port; yields its address (host:port)."""
    address = f"127.0.0.1:{free_port()}"
    config = workdir / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'registry'}\n"
        f"http:\n  addr: {address}\n"
    )
    log_path = workdir / "registry.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait(lambda: httpx.get(f"http://{address}/v2/").raise_for_status(), process, log_path)
            yield address
        finally:
            stop_process(process)


def base_image(client: docker.DockerClient, registry: str, workdir: Path) -> str:
    """This machine's Python 3.11 image, pushed to `registry`; its name."""
    settings = pip_settings()
    recipe = "\n".join([SUITE, PACKAGES, apt_mirror(), CA_BUNDLE.read_text()])
    tag = f"3.11-{SUITE}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}"
    tarball = Path.home() / ".cache" / "billing-sync" / "docker" / f"python-{tag}.tar"
    if not tarball.exists():
        _debootstrap(tarball, workdir / "rootfs")
    repository = f"{registry}/python"
    changes = [f"ENV PIP_CERT={CA_BUNDLE}"] + [f'ENV {k}="{v}"' for k, v in settings.items()]
    client.api.import_image(src=str(tarball), repository=repository, tag=tag, changes=changes)
    for line in client.images.push(repository, tag=tag, stream=True, decode=True):
        assert "error" not in line, line
    return f"{repository}:{tag}"


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses for the base image's release."""
    for source in sorted(Path("/etc/apt").glob("sources.list*")) + sorted(
        Path("/etc/apt/sources.list.d").glob("*")
    ):
        if not source.is_file():
            continue
        text = source.read_text()
        for uris, suites in re.findall(r"^URIs:\s*(\S+)[^\n]*\nSuites:\s*([^\n]+)", text, re.M):
            if SUITE in suites.split():
                return uris
        for uri in re.findall(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+{SUITE}\s", text, re.M):
            return uri
    return "http://deb.debian.org/debian"


def pip_settings() -> dict[str, str]:
    """pip's index settings here (files and environment) as PIP_* variables; local paths and
    file:// indexes are left out (the image build cannot see this machine's disk)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, str] = {}
    for scope_key, value in re.findall(r"^\S*\.([a-z-]+)='(.*)'$", listed, re.M):
        if scope_key in PIP_SETTINGS:
            found[scope_key] = value  # later lines (the environment) win
    settings = {}
    for key, value in found.items():
        kept = " ".join(part for part in value.split() if not part.startswith(("file:", "/")))
        if kept:
            settings[f"PIP_{key.upper().replace('-', '_')}"] = kept
    return settings


def _debootstrap(tarball: Path, rootfs: Path) -> None:
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={PACKAGES}",
            SUITE,
            str(rootfs),
            apt_mirror(),
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    shutil.copyfile(CA_BUNDLE, rootfs / CA_BUNDLE.relative_to("/"))
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(rootfs), "-c", "-f", str(partial), "."], check=True)
    partial.rename(tarball)
    shutil.rmtree(rootfs)


def _unmount_under(root: Path) -> None:
    mounted = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mountpoint in sorted(m for m in mounted if m.startswith(f"{root}/")):
        subprocess.run(["umount", mountpoint], check=False)


def _wait(ready: Callable[[], object], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited:\n{log.read_text()[-3000:]}")
        try:
            ready()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
