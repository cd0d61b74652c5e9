"""The container's entrypoint, run the way the image runs it (no Docker engine here): the
Dockerfile's ENV, USER, VOLUME and ENTRYPOINT/CMD are read from the Dockerfile itself, the
process gets those and nothing else (no .env), as uid 10001 when the test runs as root.

Differences: HTTP_HOST is 127.0.0.1 instead of the image's 0.0.0.0, because tests bind the
loopback only; the code is this checkout's installed package, not a wheel in /usr/local. When the
virtualenv's interpreter is out of the unprivileged user's reach (pyenv under /root), a throwaway
venv of the system's Python of the same minor version runs the same site-packages.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import app
from app.demo.simulator import FlinksSimulator

pytestmark = pytest.mark.e2e

DOCKERFILE = Path(__file__).parents[2] / "Dockerfile"
IMAGE_UID = 10001
PACKAGE = Path(app.__file__).parent
DEADLINE = 30.0


@dataclass
class Image:
    """What the final stage of the Dockerfile says about the running container."""

    env: dict[str, str] = field(default_factory=dict)
    user: str = "root"
    workdir: str = "/"
    volumes: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)


def instructions(text: str) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        if logical.strip():
            keyword, _, rest = logical.strip().partition(" ")
            yield keyword.upper(), rest.strip()
        logical = ""


def read_image(path: Path = DOCKERFILE) -> Image:
    image = Image()
    for keyword, rest in instructions(path.read_text()):
        if keyword == "FROM":
            image = Image()  # only the last stage is the image
        elif keyword == "ENV":
            image.env.update(word.split("=", 1) for word in shlex.split(rest))  # type: ignore[misc]
        elif keyword == "USER":
            image.user = rest
        elif keyword == "WORKDIR":
            image.workdir = rest
        elif keyword == "VOLUME":
            image.volumes += json.loads(rest)
        elif keyword in ("ENTRYPOINT", "CMD"):
            setattr(image, keyword.lower(), json.loads(rest))
        elif keyword == "HEALTHCHECK":
            image.healthcheck = json.loads(rest.split(" CMD ", 1)[1])
    return image


def test_the_dockerfile_describes_a_non_root_exec_form_image() -> None:
    image = read_image()
    assert image.user.split(":")[0] == str(IMAGE_UID)
    assert image.entrypoint == ["flinkswatch"]
    assert image.cmd == ["run"]
    assert image.volumes == ["/data"]
    assert image.env["DATABASE_URL"] == "sqlite:////data/flinkswatch.db"
    assert image.env["HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - the image listens for probes
    assert image.healthcheck[:3] == ["python", "-m", "app.web"]


# ---- running it ------------------------------------------------------------------------------


def _traversable_by_others(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _runtime_bin(root: Path) -> Path:
    """A bin directory whose `python` and `flinkswatch` uid 10001 can execute."""
    venv_bin = Path(sys.executable).parent
    interpreter = Path(os.path.realpath(sys.executable))
    if os.geteuid() != 0 or _traversable_by_others(interpreter):
        return venv_bin
    base = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    site_packages = Path(sysconfig.get_paths()["purelib"])
    reachable = _traversable_by_others(site_packages) and _traversable_by_others(PACKAGE)
    if not base.exists() or not reachable:
        pytest.fail(f"uid {IMAGE_UID} can reach neither {interpreter} nor {base}")
    subprocess.run([base, "-m", "venv", "--without-pip", root], check=True)
    own = Path(sysconfig.get_paths(vars={"base": str(root)})["purelib"])
    # addsitedir, not a plain path: the editable install of app is itself a .pth file there.
    (own / "flinkswatch-under-test.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n"
    )
    script = root / "bin" / "flinkswatch"
    script.write_text(
        f"#!{root}/bin/python\nfrom app.cli.commands import main\nraise SystemExit(main())\n"
    )
    script.chmod(0o755)
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
    return root / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our server
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError:
        return 0, ""


@dataclass
class Container:
    """The entrypoint process with the image's env, user and /data-like directory."""

    image: Image
    data: Path
    env: dict[str, str]
    logs: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['HTTP_PORT']}"

    def _user(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}  # already unprivileged
        return {"user": IMAGE_UID, "group": IMAGE_UID, "extra_groups": []}

    def start(self, workdir: Path) -> None:
        argv = self.image.entrypoint + self.image.cmd
        exe = shutil.which(argv[0], path=self.env["PATH"])
        assert exe, f"{argv[0]} not on PATH"
        with self.logs.open("wb") as err:
            self.proc = subprocess.Popen(  # type: ignore[call-overload]
                [exe, *argv[1:]],
                cwd=workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                **self._user(),
            )

    def healthcheck(self) -> int:
        """The HEALTHCHECK command, as Docker runs it: same env, same user."""
        argv = list(self.image.healthcheck)
        argv[0] = shutil.which(argv[0], path=self.env["PATH"]) or argv[0]
        done = subprocess.run(  # type: ignore[call-overload]
            argv, env=self.env, capture_output=True, timeout=20, check=False, **self._user()
        )
        return int(done.returncode)

    def output(self) -> str:
        return self.logs.read_text(errors="replace")

    def wait_until(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if check():
                return
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"exited {self.proc.returncode} before {what}:\n{self.output()}")
            time.sleep(0.1)  # polling interval of a poll-until, not synchronisation
        pytest.fail(f"no {what} within {DEADLINE} s:\n{self.output()}")


@pytest.fixture
def container(tmp_path: Path, flinks: FlinksSimulator) -> Iterator[Container]:
    image = read_image()
    # mkdtemp under /tmp, not tmp_path: pytest's base directory is private to the test's user.
    data = Path(tempfile.mkdtemp(prefix="fw-data-"))
    workdir = Path(tempfile.mkdtemp(prefix="fw-app-"))
    workdir.chmod(0o755)  # like the image's /app: readable, not writable, no .env in it
    bin_dir = _runtime_bin(workdir / "venv")
    if os.geteuid() == 0:
        os.chown(data, IMAGE_UID, IMAGE_UID)
    env = {key: _on_volume(value, image.volumes, data) for key, value in image.env.items()}
    env |= {
        "PATH": f"{bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(data),  # the image user's home directory is /data
        "FLINKS_CLIENT_ID": flinks.client_id,
        "FLINKS_CLIENT_SECRET": flinks.client_secret,
        "FLINKS_BASE_URL": flinks.base_url,
        "FLINKS_TOKEN_URL": flinks.token_url,
        "FLINKS_TIMEOUT_SECONDS": "5",
        "POLL_INTERVAL_SECONDS": "1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(_free_port()),
    }
    box = Container(image=image, data=data, env=env, logs=tmp_path / "container.log")
    box.start(workdir)
    try:
        yield box
    finally:
        if box.proc is not None and box.proc.poll() is None:
            box.proc.kill()
            box.proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


def _on_volume(value: str, volumes: list[str], data: Path) -> str:
    for volume in volumes:
        value = value.replace(volume.rstrip("/") + "/", f"{data}/")
    return value


def _metric(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_entrypoint_serves_health_and_metrics_and_stops_cleanly_on_sigterm(
    container: Container, flinks: FlinksSimulator
) -> None:
    base = container.base
    container.wait_until("/metrics", lambda: _get(base + "/metrics")[0] == 200)
    container.wait_until("a healthy /healthz", lambda: _get(base + "/healthz")[0] == 200)
    assert json.loads(_get(base + "/healthz")[1])["status"] == "ok"
    assert _get(base + "/readyz") == (200, '{"ready": true}')
    assert container.healthcheck() == 0

    metrics = _get(base + "/metrics")[1]
    assert _metric(metrics, 'flinkswatch_polls_total{outcome="ok"}') >= 1
    assert _metric(metrics, 'flinkswatch_registrations{status="PENDING_APPROVAL"}') == 2
    assert _metric(metrics, "flinkswatch_token_renewals_total") >= 1
    assert _metric(metrics, "flinkswatch_poll_interval_seconds") == 1
    database = container.data / "flinkswatch.db"
    assert database.exists(), "DATABASE_URL of the image must point into the volume"
    if os.geteuid() == 0:
        assert database.stat().st_uid == IMAGE_UID

    flinks.fail_next(100_000, 503)  # Flinks keeps failing from now on
    container.wait_until("an unhealthy /healthz", lambda: _get(base + "/healthz")[0] == 503)
    assert "over three intervals" in json.loads(_get(base + "/healthz")[1])["reason"]
    assert container.healthcheck() == 1
    failed = 'flinkswatch_poll_failures_total{kind="flinks_unavailable"}'
    container.wait_until(
        "a counted failure", lambda: _metric(_get(base + "/metrics")[1], failed) >= 1
    )

    assert container.proc is not None
    container.proc.send_signal(signal.SIGTERM)
    assert container.proc.wait(timeout=DEADLINE) == 0
    output = container.output()
    assert "Traceback" not in output
    assert "service.stopped" in output
    assert flinks.client_secret not in output
