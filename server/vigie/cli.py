"""The ``vigie`` command: ``run``, ``serve``, ``demo``, ``create-admin``.

Configuration comes from the environment (``vigie.config.from_env``); options override it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from vigie.config import Config, from_env
from vigie.demo import DemoInfo, ensure_demo
from vigie.exceptions import VigieError
from vigie.live import LiveStore
from vigie.records import Records
from vigie.redis_server import resolve_url

T = TypeVar("T")


async def with_stores(config: Config, work: Callable[[Records, LiveStore], Awaitable[T]]) -> T:
    """Open both stores (migrating the records), run ``work``, close them again.

    Without ``REDIS_URL`` this starts the embedded Redis and stops it afterwards (its AOF keeps
    the data for the hub that starts next).
    """
    config.var_dir.mkdir(parents=True, exist_ok=True)
    url, embedded = resolve_url(config.redis_url, config.var_dir)
    client = aioredis.Redis.from_url(url)
    records = Records(config.sqlalchemy_url)
    try:
        await records.migrate()
        return await work(records, LiveStore(client, stream_maxlen=config.stream_maxlen))
    finally:
        await records.close()
        await client.aclose()
        if embedded is not None:
            embedded.stop()


def demo_text(info: DemoInfo, public_url: str) -> str:
    base = public_url.rstrip("/")
    local = info.starts_at.astimezone(ZoneInfo(info.timezone))
    return "\n".join([
        f"Session de démonstration n° {info.session_number}, {info.school_name}, {info.room},",
        f"  le {local:%d/%m/%Y} à {local:%H:%M} ({info.timezone}), "
        f"{info.candidate_count} candidats inscrits",
        f"  Mot de passe de session (surveillant) : {info.session_password}",
        f"  Code d'accès (candidats)              : {info.access_code}",
        f"  Administrateur : {info.admin_email} / {info.admin_password}",
        f"  Élèves         : {base}/",
        f"  Surveillant    : {base}/surveillant/",
        f"  Administration : {base}/admin/",
    ])  # fmt: skip


def demo_json(info: DemoInfo) -> str:
    body = dataclasses.asdict(info)
    body["starts_at"] = info.starts_at.isoformat()
    return json.dumps(body, ensure_ascii=False)


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    info = asyncio.run(with_stores(config, ensure_demo))
    print(demo_json(info) if args.json else demo_text(info, config.public_url))
    return 0


def cmd_create_admin(config: Config, args: argparse.Namespace) -> int:
    password = args.password or secrets.token_urlsafe(12)

    async def work(records: Records, _live: LiveStore) -> None:
        school = await records.find_school(name=args.school)
        if school is None:
            school = await records.create_school(args.school, timezone=args.timezone)
        await records.create_staff(args.email, password, "admin", school.id, name=args.name)

    asyncio.run(with_stores(config, work))
    print(f"Administrateur créé pour « {args.school} » : {args.email}")
    if not args.password:
        print(f"Mot de passe (affiché une seule fois) : {password}")
    return 0


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from vigie.hub.app import serve  # imported late: `vigie demo` needs no web stack

    serve(config)
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    info = asyncio.run(with_stores(config, ensure_demo))
    print(f"Vigie démarre sur {config.public_url} (Ctrl-C pour arrêter)\n")
    print(demo_text(info, config.public_url), flush=True)
    return cmd_serve(config, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigie", description="Vigie, le hub des sessions Pix.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("run", "migre, crée la démo si besoin, affiche ses accès et démarre le hub"),
        ("serve", "démarre le hub"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--host", help="adresse d'écoute (VIGIE_HOST)")
        command.add_argument("--port", type=int, help="port (VIGIE_PORT)")
    demo = commands.add_parser("demo", help="crée la démo une seule fois et affiche ses accès")
    demo.add_argument("--json", action="store_true", help="sortie JSON (pour les scripts)")
    admin = commands.add_parser("create-admin", help="crée un compte administrateur")
    admin.add_argument("--email", required=True)
    admin.add_argument("--school", required=True, help="nom de l'établissement (créé si absent)")
    admin.add_argument("--password", help="sinon, un mot de passe est tiré et affiché")
    admin.add_argument("--name", default="", help="nom de la personne")
    admin.add_argument(
        "--timezone", default="Europe/Paris", help="fuseau d'un nouvel établissement"
    )
    return parser


def _with_options(config: Config, args: argparse.Namespace) -> Config:
    host = getattr(args, "host", None) or config.host
    port = getattr(args, "port", None) or config.port
    if (host, port) == (config.host, config.port):
        return config
    public_url = config.public_url
    if public_url == f"http://{config.host}:{config.port}":  # derived, not set explicitly
        public_url = f"http://{host}:{port}"
    return dataclasses.replace(config, host=host, port=port, public_url=public_url)


COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "run": cmd_run, "serve": cmd_serve, "demo": cmd_demo, "create-admin": cmd_create_admin,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = _with_options(from_env(), args)
    try:
        return COMMANDS[args.command](config, args)
    except VigieError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
