"""``python -m onurix_sandbox``: serve the sandbox until Ctrl-C or SIGTERM.

Every flag can also be set with an environment variable ``ONURIX_SANDBOX_<NAME>``
(``--error-520-rate`` is ``ONURIX_SANDBOX_ERROR_520_RATE``); a flag wins over its variable.
``--dialect`` may be repeated or comma-separated (``ONURIX_SANDBOX_DIALECT=a,b``);
``--ip-blocked`` / ``--no-ip-blocked`` read ``ONURIX_SANDBOX_IP_BLOCKED=true|false``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from onurix_sandbox.config import DIALECTS, SandboxConfig
from onurix_sandbox.server import start_sandbox

ENV_PREFIX = "ONURIX_SANDBOX_"

_HELP = {
    "client_id": "account id expected in `client`",
    "key": "secret expected in `key`",
    "balance": "starting balance in credits",
    "credits_per_call": "credits charged per phone called",
    "latency": "seconds added to every API request",
    "error_520_rate": "fraction of API requests answered 520 before anything is recorded",
    "hang_rate": "fraction of API requests recorded, then answered after --hang-seconds",
    "hang_seconds": "how long a hanging request waits before answering",
    "drop_rate": "fraction of API requests recorded, then closed without an answer",
    "max_phones_per_request": "more phones in one send are refused (code 1012)",
    "seed": "seed of faults and of call outcomes",
    "answered_rate": "relative weight of the final state Entregado",
    "rejected_rate": "relative weight of the final state Rechazado (credits refunded)",
    "error_rate": "relative weight of the final state Error:1081",
    "settle_seconds": "seconds a call stays Enviado before its final state",
    "invalid_phone_suffix": "a phone ending with these digits is a number Onurix finds invalid: "
    'Rechazado, not charged ("" disables it)',
    "ip_blocked": "refuse every API request as if the server's IP were not allowed "
    "(code 1003; 1097 with spanish_refusals)",
}


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def build_parser(environ: dict[str, str] | os._Environ[str]) -> argparse.ArgumentParser:
    """Flags for host, port, log level and every SandboxConfig field, defaulting to env."""
    width = max(len(name) for name in DIALECTS)
    parser = argparse.ArgumentParser(
        prog="python -m onurix_sandbox",
        description="Local fake of the Onurix API (https://www.onurix.com/api/v1).",
        epilog="dialects (--dialect, combine them with commas or by repeating the flag):\n"
        + "\n".join(f"  {name:<{width}}  {text}" for name, text in DIALECTS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default=environ.get(_env_name("host"), "127.0.0.1"), help="bind address"
    )
    parser.add_argument(
        "--port", type=int, default=environ.get(_env_name("port"), "8765"), help="TCP port"
    )
    parser.add_argument(
        "--log-level",
        default=environ.get(_env_name("log_level"), "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        type=str.upper,
        help="INFO logs one line per request",
    )
    for field in dataclasses.fields(SandboxConfig):
        default = field.default
        env_name = _env_name(field.name)
        if field.name == "dialect":
            # Appended to None, not to a default list, so that flags replace the variable.
            parser.add_argument(
                "--dialect",
                action="append",
                metavar="NAME[,NAME...]",
                help=f"how answers are shaped, one or more of the dialects below "
                f"(env {env_name}, default {default})",
            )
            continue
        if field.name == "ip_blocked":
            parser.add_argument(
                "--ip-blocked",
                action=argparse.BooleanOptionalAction,
                default=environ.get(env_name, str(default)),
                help=f"{_HELP[field.name]} (env {env_name}=true|false, default false)",
            )
            continue
        converter = {int: int, float: float}.get(type(default), str)
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            type=converter,
            default=environ.get(env_name, str(default)),
            help=f"{_HELP.get(field.name, field.name)} (env {env_name}, "
            f"default {'***' if field.name == 'key' else default})",
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(os.environ).parse_args(argv)
    if args.dialect is None:
        args.dialect = os.environ.get(_env_name("dialect"), "standard")
    else:
        args.dialect = ",".join(args.dialect)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = SandboxConfig(
            **{field.name: getattr(args, field.name) for field in dataclasses.fields(SandboxConfig)}
        )
    except ValueError as error:
        print(f"onurix_sandbox: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = start_sandbox(config, host=args.host, port=args.port)
    print(f"Onurix sandbox listening on {server.url} (client {config.client_id})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
    print("Onurix sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
