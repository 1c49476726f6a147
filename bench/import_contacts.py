"""Rows per second and peak memory of the contact import, against the naive way.

Generates semicolon-separated Windows-1252 CSV files (mixed phone formats, accents, about
1% invalid phones, some duplicates), then on a fresh temporary SQLite database each time:

* our import (`import_file` with a group) at 20,000 and 100,000 rows (or --rows), to
  show memory does not grow with the file, --runs times each (median), with the CPU
  seconds of this process and, on a PostgreSQL server on this machine, of its server
  process (wall time on a shared machine varies; CPU seconds much less);
* a re-import of the largest file (every phone known: fetch, compare, add to a group);
* the naive way (one `get_or_create` and one `groups.add` per row) on --naive-rows rows,
  extrapolated to rows per second;
* with --profile, cProfile's top entries of one import of the largest file.

    .venv/bin/python bench/import_contacts.py
    .venv/bin/python bench/import_contacts.py --rows 20000 100000 --naive-rows 5000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_NAMES = ["José", "María", "Ana María", "Luis", "Andrés", "Sofía", "Camilo", "Valentina"]
LAST_NAMES = ["Muñoz", "Peñalosa", "Gómez", "Rodríguez", "Ibáñez", "Castaño", "Nariño", "Díaz"]
CITIES = ["Bogotá", "Medellín", "Cali", "Barranquilla", "Cúcuta", "Popayán"]
MOBILE_PREFIXES = ["300", "301", "304", "310", "311", "313", "315", "318", "320", "350"]


def phone_as_typed(rng: random.Random, n: int) -> str:
    """A Colombian phone in one of the ways people write it, or an invalid one (~1%)."""
    roll = rng.random()
    if roll < 0.005:
        return rng.choice(["3.00123457E+09", "abc", "12345", "300-ABC-4567"])
    if roll < 0.01:
        return f"39{n:08d}"  # ten digits, not a Colombian prefix
    prefix = MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]
    rest = f"{n % 10_000_000:07d}"
    style = rng.randrange(8)
    if style == 0:
        return f"{prefix} {rest[:3]} {rest[3:]}"
    if style == 1:
        return f"+57 {prefix}-{rest[:3]}-{rest[3:]}"
    if style == 2:
        return f"(+57) {prefix} {rest[:3]} {rest[3:]}"
    if style == 3:
        return f"57{prefix}{rest}.0"
    if style == 4:
        return f"0057 {prefix} {rest}"
    if style == 5:
        return f"601 {rest[:3]} {rest[3:]}"  # a Bogotá landline
    return f"57{prefix}{rest}"


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    lines = ["Teléfono;Nombres;Apellidos;Correo;Ciudad"]
    for n in range(rows):
        # About 2% repeat an earlier contact (in another format, so they normalise equal).
        number = rng.randrange(n) if n and rng.random() < 0.02 else n
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"contacto{number}@example.com" if number % 3 else ""
        lines.append(f"{phone_as_typed(rng, number)};{first};{last};{email};{rng.choice(CITIES)}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def fresh_database(directory: Path, name: str) -> None:
    """A new SQLite file, or the PostgreSQL database of --database-url emptied."""
    from django.core.management import call_command
    from django.db import connection, connections

    if connection.vendor == "postgresql":
        call_command("migrate", verbosity=0, interactive=False)
        call_command("flush", verbosity=0, interactive=False)
        return
    connections.close_all()
    path = directory / f"{name}.sqlite3"
    for database in connections.all():
        database.settings_dict["NAME"] = str(path)
    call_command("migrate", verbosity=0, interactive=False)


def timed(function):
    """Run `function`; return (its result, seconds)."""
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def traced(function) -> float:
    """Run `function` under tracemalloc (which slows it: not timed); return the peak in MB."""
    tracemalloc.start()
    function()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def server_pid() -> int | None:
    """The PostgreSQL server process of our connection, if it runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user and system) of process `pid` so far; 0 if unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(function):
    """Run `function`; return (its result, wall seconds, our CPU seconds, server CPU)."""
    pid = server_pid()
    ours_before, server_before = time.process_time(), process_cpu(pid)
    result, seconds = timed(function)
    return (
        result,
        seconds,
        time.process_time() - ours_before,
        process_cpu(pid) - server_before,
    )


def profiled(function, top: int) -> str:
    """Run `function` under cProfile; return its `top` entries by own time."""
    profile = cProfile.Profile()
    profile.runcall(function)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(path: Path, group_name: str):
    from campaigns.contact_import import guess_mapping, import_file, open_table
    from campaigns.models import ContactGroup

    group = ContactGroup.objects.create(name=group_name)
    mapping = guess_mapping(open_table(path, filename=path.name).headers)
    return import_file(path=path, filename=path.name, mapping=mapping, group=group)


def naive(path: Path, rows: int) -> int:
    """What a first version does: one query or two per row, inside one transaction."""
    import csv

    from django.db import transaction

    from campaigns.models import Contact, ContactGroup
    from campaigns.phones import InvalidPhone, normalize_phone

    group = ContactGroup.objects.create(name="naive")
    done = 0
    with path.open(encoding="cp1252", newline="") as file, transaction.atomic():
        reader = csv.reader(file, delimiter=";")
        next(reader)
        for phone, first, last, email, city in reader:
            if done >= rows:
                break
            done += 1
            try:
                phone = normalize_phone(phone)
            except InvalidPhone:
                continue
            contact, _created = Contact.objects.get_or_create(
                phone=phone,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": email,
                    "custom_fields": {"Ciudad": city},
                },
            )
            contact.groups.add(group)
    return done


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (median)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print cProfile's top N entries"
    )
    parser.add_argument(
        "--database-url", default="", help="postgres://... to run on (emptied); SQLite if unset"
    )
    options = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "onurix_site.settings"
    os.environ["DJANGO_DEBUG"] = "true"  # no secret key needed; queries are not kept
    os.environ["DATABASE_URL"] = options.database_url or f"sqlite:///{directory / 'bench.sqlite3'}"
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # DEBUG keeps every query in memory: not what production does

    from django.db import connection

    print(f"Machine: {machine()}; database: {connection.vendor}")
    results = {}
    for rows in sorted(options.rows):
        path = directory / f"contacts-{rows}.csv"
        write_csv(path, rows)
        fresh_database(directory, f"ours-{rows}-traced")
        peak = traced(lambda path=path: ours(path, "bench"))
        runs = []
        for run in range(options.runs):
            fresh_database(directory, f"ours-{rows}-{run}")
            report, seconds, cpu, server_cpu = measured(lambda path=path: ours(path, "bench"))
            runs.append(seconds)
            print(
                f"ours, {rows:>7,} rows ({path.stat().st_size / 1e6:.1f} MB), run {run + 1}: "
                f"{seconds:6.2f} s, {rows / seconds:>9,.0f} rows/s; CPU seconds: ours "
                f"{cpu:.2f}, server {server_cpu:.2f}; created {report.created:,}, skipped "
                f"{report.skipped:,} (invalid and duplicates), added to group "
                f"{report.added_to_group:,}"
            )
        results[rows] = rows / statistics.median(runs)
        print(
            f"ours, {rows:>7,} rows: median of {len(runs)} {results[rows]:,.0f} rows/s, "
            f"tracemalloc peak {peak:.1f} MB"
        )

    largest = max(options.rows)
    path = directory / f"contacts-{largest}.csv"
    report, seconds, cpu, server_cpu = measured(lambda: ours(path, "bench again"))
    print(
        f"ours, re-import of {largest:,} known rows: {seconds:6.2f} s, "
        f"{largest / seconds:>9,.0f} rows/s; CPU seconds: ours {cpu:.2f}, server "
        f"{server_cpu:.2f}; unchanged {report.unchanged:,}, added to group "
        f"{report.added_to_group:,}"
    )

    if options.profile:
        fresh_database(directory, "profiled")
        print(f"profile of one import of {largest:,} rows (cProfile slows Python):")
        print(profiled(lambda: ours(path, "bench"), options.profile))

    fresh_database(directory, "naive")
    done, seconds = timed(lambda: naive(path, options.naive_rows))
    naive_rate = done / seconds
    print(
        f"naive (get_or_create + groups.add per row), {done:,} rows: {seconds:6.2f} s, "
        f"{naive_rate:>9,.0f} rows/s"
    )
    print(f"ours / naive at {largest:,} rows: {results[largest] / naive_rate:.1f}x")
    print(f"process max RSS: {maxrss_mb():.0f} MB")
    from django.db import connections

    connections.close_all()
    shutil.rmtree(directory)


if __name__ == "__main__":
    main()
