"""Time to load the national registry (RNE) list: a 1,000,000-number file, median of 3.

Writes a text file of --numbers numbers (a header, Colombian mobiles as ten digits, some
with 57 or +57, about 0.1% that are not phones, about 1% repeated), then loads it with
`registry_load` (what the page and `manage.py load_rne` run) --runs times on a fresh
database: SQLite, and PostgreSQL when --database-url is given (that database is migrated
and emptied first). From the second run on, a load also replaces the previous list.

    .venv/bin/python bench/registry.py
    .venv/bin/python bench/registry.py --database-url postgres://onurix:onurix@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Mobile prefixes Colombia has assigned: the registry lists numbers that exist.
MOBILE_PREFIXES = ["300", "301", "304", "310", "311", "313", "315", "318", "320", "350"]


def write_file(path: Path, numbers: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.write("numero\n")
        for n in range(numbers):
            roll = rng.random()
            if roll < 0.001:
                file.write("sin número\n")
                continue
            # About 1% repeat an earlier number.
            number = rng.randrange(n) if n and roll < 0.011 else n
            prefix = MOBILE_PREFIXES[number % len(MOBILE_PREFIXES)]
            national = f"{prefix}{(number * 7919) % 10_000_000:07d}"
            style = rng.randrange(10)
            if style == 0:
                file.write(f"57{national}\n")
            elif style == 1:
                file.write(f"+57 {national}\n")
            else:
                file.write(f"{national}\n")


def load_once(path: Path, runs: int) -> list[float]:
    """In this process, against the configured database: `runs` timed loads."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if connection.vendor == "postgresql":
        call_command("flush", verbosity=0, interactive=False)
    from datetime import date

    from campaigns.services.registry import registry_load

    seconds = []
    for _run in range(runs):
        started = time.perf_counter()
        with path.open("rb") as file:
            load = registry_load(file=file, list_date=date(2026, 11, 30), file_name=path.name)
        seconds.append(time.perf_counter() - started)
        print(
            f"  {connection.vendor}: {load.numbers:,} numbers, {load.skipped:,} skipped, "
            f"{seconds[-1]:.2f} s",
            file=sys.stderr,
        )
    return seconds


def machine() -> str:
    processor = platform.processor() or platform.machine()
    return f"{processor}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="", help="postgres://... (emptied first)")
    parser.add_argument("--one", metavar="FILE", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.one:  # a child: one database, given by DATABASE_URL
        print(json.dumps(load_once(Path(options.one), options.runs)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-rne-") as directory:
        path = Path(directory) / "rne.txt"
        write_file(path, options.numbers)
        size = path.stat().st_size / 1024 / 1024
        print(f"{options.numbers:,} numbers, {size:.1f} MB file; {machine()}")
        targets = [("SQLite", f"sqlite:///{Path(directory) / 'bench.sqlite3'}")]
        if options.database_url:
            targets.append(("PostgreSQL", options.database_url))
        for name, url in targets:
            environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "onurix_site.settings",
                "DATABASE_URL": url,
                "DJANGO_DEBUG": "true",
                "DJANGO_ENFORCE_PRODUCTION_CHECKS": "false",
            }
            child = subprocess.run(
                [sys.executable, __file__, "--one", str(path), "--runs", str(options.runs)],
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode:
                print(child.stderr, file=sys.stderr)
                raise SystemExit(f"{name}: the load failed")
            seconds = json.loads(child.stdout.strip().splitlines()[-1])
            runs = ", ".join(f"{value:.2f}" for value in seconds)
            print(f"{name}: median {statistics.median(seconds):.2f} s (runs: {runs} s)")


if __name__ == "__main__":
    main()
