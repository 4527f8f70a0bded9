"""The container image: the Dockerfile's promises, and the package installing with runtime dependencies only.

No container engine is available to the tests, so the image itself is not built here. Instead the exact build
context the Dockerfile copies (pyproject.toml, README.md, exporter/) is installed with `pip install .` into a
clean virtual environment, as the Dockerfile's build stage does, and `kafka-detective serve --help` must run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helm_chart_support import CHART, REPO

DOCKERFILE = REPO / "Dockerfile"
EXTRAS_ONLY = {"numpy", "scipy", "matplotlib", "jsonnet", "pytest", "ruff", "kubernetes-validate", "confluent-kafka"}


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def test_dockerfile_builds_a_slim_non_root_runtime_image():
    instructions = _instructions()
    args = dict(rest.split("=", 1) for word, rest in instructions if word == "ARG" and "=" in rest)
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?(@sha256:[0-9a-f]{64})?", args["PYTHON_IMAGE"])
    stages = [rest for word, rest in instructions if word == "FROM"]
    assert len(stages) == 2 and stages[0].endswith(" AS build") and " AS " not in stages[1]
    final = instructions[max(i for i, (w, _) in enumerate(instructions) if w == "FROM"):]
    final_words = dict(final)
    assert final_words["USER"] == "65532:65532"
    assert final_words["EXPOSE"] == "9308"
    assert final_words["ENTRYPOINT"] == '["kafka-detective"]'
    assert final_words["CMD"] == '["serve"]'
    # Only the virtual environment crosses from the build stage; nothing is compiled or apt-installed in the image.
    copies = [rest for word, rest in final if word == "COPY"]
    assert copies == ["--from=build /opt/kafka-detective /opt/kafka-detective"]
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "apt-get" not in runs and "gcc" not in runs
    installs = re.findall(r"pip install[^&]*", runs)
    assert installs and all(re.search(r"\s\.\s*$", i) for i in installs), installs  # `pip install .`, no [extras]


def test_dockerignore_keeps_the_context_to_the_package():
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for word, rest in _instructions():
        if word == "COPY" and not rest.startswith("--from"):
            copied |= {p.rstrip("/").removeprefix("./") for p in rest.split()[:-1]}
    assert copied <= allowed, f"the Dockerfile copies {copied - allowed}, which .dockerignore excludes"


def test_chart_image_defaults_to_the_app_version():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert chart["appVersion"] == "0.1.0"
    assert values["image"]["tag"] == ""  # the Deployment falls back to appVersion
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert chart["appVersion"] == version
    assert f'org.opencontainers.image.version="{version}"' in DOCKERFILE.read_text()


def test_package_installs_with_runtime_dependencies_only(tmp_path, helm_runner, defaults_values):
    """`pip install .` of the image's build context into a clean venv; `kafka-detective serve --help` runs, and
    `serve --check-config` accepts the config file the chart renders."""
    context = tmp_path / "context"
    context.mkdir()
    for word, rest in _instructions():
        if word == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                path = REPO / source.removeprefix("./")
                assert path.exists(), f"the Dockerfile copies {source}, which does not exist"
                if path.is_dir():
                    shutil.copytree(path, context / path.name,
                                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
                else:
                    shutil.copy2(path, context / path.name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
                              "--quiet", "."], cwd=context, capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True)
    installed = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.splitlines()}
    assert {"kafka-detective", "kafka-python", "prometheus-client", "pyyaml", "requests"} <= installed
    assert not installed & EXTRAS_ONLY, f"extras leaked into the runtime install: {installed & EXTRAS_ONLY}"
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    cli = env_dir / "bin" / "kafka-detective"
    serve_help = subprocess.run([str(cli), "serve", "--help"], capture_output=True, text=True, timeout=60,
                                cwd=tmp_path)
    assert serve_help.returncode == 0, serve_help.stdout + serve_help.stderr
    assert "--config" in serve_help.stdout
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert "0.1.0" in version.stdout + version.stderr
    configmap = next(d for d in helm_runner.template([defaults_values]) if d["kind"] == "ConfigMap")
    config = tmp_path / "config.yaml"
    config.write_text(configmap["data"]["config.yaml"])
    checked = subprocess.run([str(cli), "serve", "--config", str(config), "--check-config"], capture_output=True,
                             text=True, timeout=60, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
