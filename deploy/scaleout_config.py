"""Render the scale-out configuration: Synapse on PostgreSQL, Redis, one generic worker, nginx.

The main process's configuration starts from counsel's own `render_homeserver_yaml` (the same
template and settings as the embedded homeserver), and only what a split deployment needs is
replaced: the database, Redis, the replication listener and the instance map. A privacy setting
changed in config/homeserver.template.yaml therefore reaches this deployment as well.

Secrets stay in files (0600): the PostgreSQL password in a libpq passfile, Redis's password
and the replication secret through Synapse's *_path options.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from homeserver_bridge.contact_rules import write_trusted
from homeserver_bridge.paths import DataLayout, ensure_secret_file, write_private
from homeserver_bridge.settings import HomeserverSettings
from homeserver_bridge.synapse_config import LOG_CONFIG, render_homeserver_yaml

TEMPLATES = Path(__file__).resolve().parent / "templates"
WORKER_APP = "synapse.app.generic_worker"
# Marks answers that nginx took from the worker, so the smoke check can prove the routing.
UPSTREAM_HEADER = "X-Counsel-Upstream"


@dataclass(frozen=True)
class Topology:
    """Where each process listens; everything on one loopback address."""

    server_name: str = "counsel.localhost"
    host: str = "127.0.0.1"
    proxy_port: int = 18080
    main_port: int = 18008
    replication_port: int = 19093
    worker_port: int = 18083
    redis_port: int = 16379
    pg_port: int = 15432
    pg_user: str = "counsel"
    pg_database: str = "synapse"
    # The bots' store: a database of its own beside Synapse's, in the same cluster.
    pg_bot_database: str = "counsel"
    worker_name: str = "sync1"
    # Where nginx listens; in compose.yaml 0.0.0.0 inside the pod, so a port can be published.
    proxy_listen: str = "127.0.0.1"

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.proxy_port}"


@dataclass(frozen=True)
class Secrets:
    """Files the shell script created (it owns the database and Redis)."""

    pgpass: Path
    redis_password: Path
    # The PostgreSQL password alone, for the bots' [store] password_file; None = SQLite store.
    pg_password: Path | None = None


def homeserver_settings(topology: Topology) -> HomeserverSettings:
    # Clients and the bot talk to nginx; Synapse's own client port is behind it.
    return HomeserverSettings(
        server_name=topology.server_name,
        bind_address=topology.host,
        port=topology.main_port,
        public_base_url=topology.proxy_url,
    )


def _proxied(listener: dict[str, Any]) -> dict[str, Any]:
    # Behind nginx every request comes from 127.0.0.1; without X-Forwarded-For the login and
    # registration rate limits would count all youths as one address.
    return {**listener, "x_forwarded": True}


def shared_config(
    topology: Topology, layout: DataLayout, secrets: Secrets, replication_secret: Path
) -> dict[str, Any]:
    """homeserver.yaml for the main process and every worker."""
    config: dict[str, Any] = yaml.safe_load(
        render_homeserver_yaml(homeserver_settings(topology), layout)
    )
    replication = {
        "port": topology.replication_port,
        "bind_addresses": [topology.host],
        "type": "http",
        "tls": False,
        "resources": [{"names": ["replication"], "compress": False}],
    }
    config["listeners"] = [_proxied(item) for item in config["listeners"]] + [replication]
    config["database"] = {
        "name": "psycopg2",
        "args": {
            "user": topology.pg_user,
            "dbname": topology.pg_database,
            "host": topology.host,
            "port": topology.pg_port,
            # libpq reads the password from this file; it never appears in the YAML.
            "passfile": str(secrets.pgpass),
            "cp_min": 5,
            "cp_max": 10,
        },
    }
    config["redis"] = {
        "enabled": True,
        "host": topology.host,
        "port": topology.redis_port,
        "password_path": str(secrets.redis_password),
    }
    config["instance_map"] = {"main": {"host": topology.host, "port": topology.replication_port}}
    config["worker_replication_secret_path"] = str(replication_secret)
    return config


def worker_config(topology: Topology, log_config: Path) -> dict[str, Any]:
    """The generic worker: client API only (sync and reads), never federation."""
    listener = {
        "type": "http",
        "port": topology.worker_port,
        "bind_addresses": [topology.host],
        "tls": False,
        "x_forwarded": True,
        "resources": [{"names": ["client"], "compress": False}],
    }
    return {
        "worker_app": WORKER_APP,
        "worker_name": topology.worker_name,
        "worker_listeners": [listener],
        "worker_log_config": str(log_config),
    }


def nginx_config(topology: Topology, run_dir: Path, log_dir: Path) -> str:
    values = {
        "pid_file": str(run_dir / "nginx.pid"),
        "error_log": str(log_dir / "nginx-error.log"),
        "host": topology.host,
        "proxy_listen": topology.proxy_listen,
        "proxy_port": str(topology.proxy_port),
        "main_port": str(topology.main_port),
        "worker_port": str(topology.worker_port),
        "upstream_header": UPSTREAM_HEADER,
    }
    template = (TEMPLATES / "nginx.conf.template").read_text(encoding="utf-8")
    return string.Template(template).substitute(values)


def counsel_toml(
    topology: Topology, bot_localpart: str, counsellor: str, pg_password: Path | None = None
) -> str:
    """The bot's configuration: it reaches the homeserver through nginx.

    The bot derives its URL from homeserver.bind_address and homeserver.port, so here those
    name the proxy, not a Synapse listener (`counsel bot` starts no homeserver of its own).
    With `pg_password` the bots keep their store in PostgreSQL: one active, the others hot
    standbys (docs/scaling.md).
    """
    lines = [
        "# Written by deploy/scaleout.sh; the bot talks to Synapse through nginx.",
        "[homeserver]",
        f"server_name = {json.dumps(topology.server_name)}",
        f"bind_address = {json.dumps(topology.host)}",
        f"port = {topology.proxy_port}",
        f"public_base_url = {json.dumps(topology.proxy_url)}",
        "",
        "[bot]",
        f"localpart = {json.dumps(bot_localpart)}",
        "",
        "[vault]",
        'passphrase_file = "vault.passphrase"',
        "",
        "[staff]",
        f"counsellors = [{json.dumps(f'@{counsellor}:{topology.server_name}')}]",
        "",
    ]
    if pg_password is not None:
        url = (f"postgresql://{topology.pg_user}@{topology.host}:{topology.pg_port}/"
               f"{topology.pg_bot_database}")
        lines += ["[store]", f"url = {json.dumps(url)}",
                  f"password_file = {json.dumps(str(pg_password))}", ""]
    return "\n".join(lines)


def write_all(
    topology: Topology, state: Path, secrets: Secrets, bot_localpart: str, counsellor: str
) -> None:
    """Write every configuration file of the deployment (idempotent; secrets made once).

    The bot's counsel.toml too is written only when missing: it is where the administrator
    names the staff, offices and crisis texts, and compose.yaml runs this on every `up`."""
    layout = DataLayout(state / "data")
    layout.prepare()
    hs = layout.synapse_dir
    for name in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
        ensure_secret_file(hs / name)
    replication_secret = hs / "worker_replication_secret"
    ensure_secret_file(replication_secret)
    log_config = hs / "log.yaml"
    write_private(log_config, LOG_CONFIG.read_text(encoding="utf-8"))
    shared = shared_config(topology, layout, secrets, replication_secret)
    write_private(hs / "homeserver.yaml", yaml.safe_dump(shared, sort_keys=False))
    # The bot and the counsellor, whom the contact rules leave alone (as `counsel up` names
    # its bot and staff). Written once, like counsel.toml: staff the administrator names
    # there later go into this file too (README, "Youths meet only in moderated groups").
    if not layout.trusted_accounts_file.exists():
        write_trusted(layout.trusted_accounts_file,
                      [f"@{name}:{topology.server_name}" for name in (bot_localpart, counsellor)],
                      bots=[f"@{bot_localpart}:{topology.server_name}"])
    worker = worker_config(topology, log_config)
    write_private(hs / f"{topology.worker_name}.yaml", yaml.safe_dump(worker, sort_keys=False))
    nginx_dir = state / "nginx"
    nginx_dir.mkdir(mode=0o700, exist_ok=True)
    write_private(nginx_dir / "nginx.conf", nginx_config(topology, state / "run", state / "logs"))
    if not layout.config_file.exists():
        write_private(layout.config_file,
                      counsel_toml(topology, bot_localpart, counsellor, secrets.pg_password))
    ensure_secret_file(layout.root / "vault.passphrase")


def parse_args(argv: list[str]) -> tuple[Topology, Path, Secrets, str, str]:
    defaults = Topology()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--pgpass", type=Path, required=True)
    parser.add_argument("--redis-password", type=Path, required=True)
    parser.add_argument("--pg-password", type=Path, default=None,
                        help="file with the PostgreSQL password: the bots' store in PostgreSQL")
    parser.add_argument("--server-name", default=defaults.server_name)
    parser.add_argument("--bot-localpart", default="beratung")
    parser.add_argument("--counsellor", default="beraterin-1")
    parser.add_argument("--proxy-listen", default=defaults.proxy_listen)
    for name in ("proxy", "main", "replication", "worker", "redis", "pg"):
        parser.add_argument(f"--{name}-port", type=int, default=getattr(defaults, f"{name}_port"))
    args = parser.parse_args(argv)
    topology = Topology(
        server_name=args.server_name,
        proxy_port=args.proxy_port,
        main_port=args.main_port,
        replication_port=args.replication_port,
        worker_port=args.worker_port,
        redis_port=args.redis_port,
        pg_port=args.pg_port,
        proxy_listen=args.proxy_listen,
    )
    secrets = Secrets(pgpass=args.pgpass, redis_password=args.redis_password,
                      pg_password=args.pg_password)
    return topology, args.state, secrets, args.bot_localpart, args.counsellor


def main(argv: list[str]) -> int:
    topology, state, secrets, bot_localpart, counsellor = parse_args(argv)
    write_all(topology, state, secrets, bot_localpart, counsellor)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
