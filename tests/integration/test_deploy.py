"""The deployment files agree with the code: images pinned, probes on real endpoints, every
setting a real Settings field, ports and users consistent; validated offline by
kubernetes-validate (bundled schemas), systemd-analyze and promtool where they are installed."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.config.settings import Settings
from app.domain import CycleResult, Outcome
from app.web.health import Health, Metrics
from app.web.server import serve
from tests.e2e.test_container_e2e import IMAGE_UID, instructions, read_image

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
# Read by docker compose itself (interpolation, the postgres image), not by flinkswatch.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_USER"}
IMAGE = read_image()


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def k8s() -> dict[str, dict[str, Any]]:
    """kind -> resource, for every file of the kustomization."""
    kustomization = load(DEPLOY / "k8s" / "kustomization.yaml")
    docs = [load(DEPLOY / "k8s" / name) for name in kustomization["resources"]]
    return {doc["kind"]: doc for doc in docs}


def tool(name: str) -> str:
    """A validator on PATH (or in this venv); skipped loudly without it, required in CI."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is not installed: .ci/run installs it")
    pytest.skip(f"{name} not installed: deploy check SKIPPED")


@pytest.fixture(scope="module")
def endpoints() -> Iterator[str]:
    health = Health(interval=60, ready=True)
    health.record(CycleResult(outcome=Outcome.OK), datetime.now(UTC))
    server = serve("127.0.0.1", 0, health, Metrics(health))
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def answers(base: str, path: str) -> int:
    try:
        with urllib.request.urlopen(base + path, timeout=5) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


# ---- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_pins_its_base_and_sets_only_real_settings() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base, "the base image is one ARG, used by both stages"
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert text.count("FROM ${PYTHON_IMAGE}") == 2
    unknown = {k for k in IMAGE.env if not k.startswith("PYTHON")} - SETTINGS
    assert not unknown


def test_the_build_stage_makes_a_wheel_with_every_migration(tmp_path: Path) -> None:
    """The files the build stage COPYs suffice to build the wheel; it holds app.migrations."""
    src = tmp_path / "src"
    src.mkdir()
    stage = text_of_stage("build")
    for keyword, rest in stage:
        if keyword == "COPY":
            *sources, _ = rest.split()
            for source in sources:
                path = ROOT / source
                target = src / source
                if path.is_dir():
                    shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, target)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "w", src],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "w").glob("flinkswatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"app/migrations/versions/{p.name}" for p in (ROOT / "migrations/versions").glob("*.py")
    }
    assert shipped <= names
    assert {"app/migrations/env.py", "app/migrations/script.py.mako"} <= names


def text_of_stage(name: str) -> list[tuple[str, str]]:
    stage: list[tuple[str, str]] = []
    current = None
    for keyword, rest in instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else None
        elif current == name:
            stage.append((keyword, rest))
    return stage


def test_dockerignore_keeps_secrets_and_databases_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("*") :][0] == "*"  # deny by default, then allow the build inputs
    assert "!.env" not in lines


def test_hadolint_passes() -> None:
    done = subprocess.run(
        [tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- docker compose ---------------------------------------------------------------------------


def test_compose_pins_images_and_wires_health_and_migrations(endpoints: str) -> None:
    compose = load(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    assert re.fullmatch(r"postgres:15\.\d+-[a-z]+", services["postgres"]["image"])
    app, migrate = services["flinkswatch"], services["migrate"]
    for service in (app, migrate):
        assert re.fullmatch(r"flinkswatch:\d+\.\d+\.\d+", service["image"])
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).exists()
        assert service["environment"]["AUTO_MIGRATE"] == "false"
        assert service.get("user") in (None, str(IMAGE_UID))
        assert set(service["environment"]) <= SETTINGS
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert app["command"] == ["run"]
    assert app["restart"] == "unless-stopped"
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert app["healthcheck"]["test"] == ["CMD", *IMAGE.healthcheck]
    assert answers(endpoints, IMAGE.healthcheck[-1]) == 200
    assert app["ports"] == [f"127.0.0.1:{IMAGE.env['HTTP_PORT']}:{IMAGE.env['HTTP_PORT']}"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"


def test_compose_env_example_names_only_settings() -> None:
    names = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (DEPLOY / "compose.env.example").read_text().splitlines()
        if re.match(r"^#? ?[A-Z_]+=", line)
    }
    assert {"FLINKS_CLIENT_ID", "FLINKS_CLIENT_SECRET", "POSTGRES_PASSWORD"} <= names
    assert names - COMPOSE_ONLY <= SETTINGS


# ---- Kubernetes -------------------------------------------------------------------------------


def test_k8s_manifests_validate_against_the_bundled_schemas() -> None:
    for kind, resource in k8s().items():
        try:
            kubernetes_validate.validate(
                resource, kubernetes_validate.latest_version(), strict=True
            )
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{kind}: {exc.message}")


def test_k8s_deployment_is_single_non_root_and_probes_real_endpoints(endpoints: str) -> None:
    res = k8s()
    spec = res["Deployment"]["spec"]
    assert (spec["replicas"], spec["strategy"]["type"]) == (1, "Recreate")
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == IMAGE_UID
    (box,) = pod["containers"]
    assert box["securityContext"]["readOnlyRootFilesystem"] is True
    assert box["securityContext"]["allowPrivilegeEscalation"] is False
    assert re.fullmatch(r"flinkswatch:\d+\.\d+\.\d+", box["image"])
    assert box["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert box["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert answers(endpoints, box[probe]["httpGet"]["path"]) == 200
        assert box[probe]["httpGet"]["port"] == box["ports"][0]["name"]
    config = res["ConfigMap"]["data"]
    assert box["ports"][0]["containerPort"] == int(config["HTTP_PORT"])
    mounts = {m["mountPath"] for m in box["volumeMounts"]}
    assert set(IMAGE.volumes) <= mounts  # the only writable places besides /tmp
    claim = next(v for v in pod["volumes"] if "persistentVolumeClaim" in v)
    assert (
        claim["persistentVolumeClaim"]["claimName"]
        == res["PersistentVolumeClaim"]["metadata"]["name"]
    )
    sources = {next(iter(s.values()))["name"] for s in box["envFrom"]}
    assert sources == {res["ConfigMap"]["metadata"]["name"], res["Secret"]["metadata"]["name"]}


def test_k8s_config_and_secret_name_only_settings_and_the_service_reaches_the_pod() -> None:
    res = k8s()
    assert set(res["ConfigMap"]["data"]) <= SETTINGS
    assert set(res["Secret"]["stringData"]) <= SETTINGS
    service = res["Service"]["spec"]
    labels = res["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    (port,) = service["ports"]
    assert port["targetPort"] == "http"


# ---- systemd ----------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / "flinkswatch.service")
    return parser


def test_systemd_unit_runs_unprivileged_with_real_settings() -> None:
    service = unit()["Service"]
    assert service["User"] not in ("root", "0")
    assert service["ExecStart"].endswith("flinkswatch run")
    assert service["EnvironmentFile"].startswith("/etc/")
    names = {
        line.split("=", 2)[1]
        for line in (DEPLOY / "systemd" / "flinkswatch.service").read_text().splitlines()
        if line.startswith("Environment=")
    }
    assert names <= SETTINGS
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    # verify insists the binaries exist: the venv path of the unit is swapped for a real one.
    text = (DEPLOY / "systemd" / "flinkswatch.service").read_text()
    copy = tmp_path / "flinkswatch.service"
    copy.write_text(text.replace("/opt/flinkswatch/bin/flinkswatch", "/bin/true"))
    done = subprocess.run([analyze, "verify", copy], capture_output=True, text=True, check=False)
    # Unknown or misspelt options are only warnings: any output is a failure here.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    security = subprocess.run(
        [analyze, "security", "--offline=yes", "--threshold=20", copy],
        capture_output=True,
        text=True,
        check=False,
    )
    assert security.returncode == 0, security.stdout[-2000:]


# ---- Prometheus -------------------------------------------------------------------------------


def test_alert_rules_use_only_metrics_the_service_exports(endpoints: str) -> None:
    with urllib.request.urlopen(endpoints + "/metrics", timeout=5) as response:  # noqa: S310
        text = response.read().decode()
    # A counter's samples are <name>_total; its TYPE line names it with or without the suffix.
    families = re.findall(r"^# TYPE (\S+) (\w+)", text, re.MULTILINE)
    names = {n for n, _ in families} | {
        n.removesuffix("_total") + "_total" for n, t in families if t == "counter"
    }
    names |= {"up"}
    names |= {"flinkswatch_leader"}  # registered by app.watch.service on the same registry
    rules = [r for g in load(DEPLOY / "prometheus" / "alerts.yml")["groups"] for r in g["rules"]]
    assert rules
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        used = set(
            re.findall(r"\b((?:flinkswatch|process)_\w+|up)\b(?=\s*[{\[)<>=* ]|$)", rule["expr"])
        )
        assert used <= names, (rule["alert"], used - names)


def test_promtool_checks_and_unit_tests_the_alert_rules() -> None:
    promtool = tool("promtool")
    folder = DEPLOY / "prometheus"
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run(
            [promtool, *args], cwd=folder, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


# ---- stop grace periods ---------------------------------------------------------------------
def test_stop_grace_periods_fit_what_a_stop_needs() -> None:
    """`run` exits within 5 s of SIGTERM whatever upstream does (tests/faults/test_stop.py,
    app.watch.service.STOP_DEADLINE_SECONDS): each deploy file allows that plus a margin, not
    minutes that only delay a rollout or a restart."""
    from app.watch.service import STOP_DEADLINE_SECONDS

    compose = load(DEPLOY / "docker-compose.yml")["services"]["flinkswatch"]
    grace = {
        "compose": int(str(compose["stop_grace_period"]).removesuffix("s")),
        "k8s": k8s()["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
        "systemd": int(unit()["Service"]["TimeoutStopSec"].removesuffix("s")),
    }
    assert STOP_DEADLINE_SECONDS < 5
    assert grace == dict.fromkeys(grace, STOP_GRACE_SECONDS), grace


STOP_GRACE_SECONDS = 15  # 5 s promised, three times over: a loaded node, a slow log flush
