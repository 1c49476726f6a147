"""Load test: gunicorn with 4 workers on PostgreSQL, wrk against the dashboard and a
results page for a bounded time; requests per second and latency percentiles.

Needs `wrk` (apt-get install wrk) and a PostgreSQL database it may empty (`.ci/postgres.sh`
starts one and prints its URL). Seeds N contacts and a campaign with N results (the seed
of bench/pages.py), signs a user in by creating a session, serves the app with gunicorn on
127.0.0.1 and runs wrk on loopback only, for --seconds per page.

Usage: .venv/bin/python bench/load.py --database-url postgres://onurix:onurix@127.0.0.1:5432/onurix
       [--rows 100000] [--seconds 15] [--connections 16]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onurix_site.settings",
        "DJANGO_DEBUG": "false",
        # The benchmark runs against the sandbox on loopback: not a production server.
        "DJANGO_ENFORCE_PRODUCTION_CHECKS": "false",
        "DJANGO_SECRET_KEY": "load-test-secret-" + "x" * 40,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": args.database_url,
        "DJANGO_LOG_LEVEL": "WARNING",
        "ONURIX_BASE_URL": "http://127.0.0.1:9/api/v1",  # pages must not wait on Onurix
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    import bench.pages as pages

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    started = time.perf_counter()
    campaign_id = pages.seed(args.rows)
    print(f"seeded {args.rows:,} contacts and results in {time.perf_counter() - started:.0f} s")
    call_command("collectstatic", interactive=False, verbosity=0)

    user = get_user_model().objects.get(username="bench")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()

    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(PROJECT / ".venv" / "bin" / "gunicorn"),
            "onurix_site.wsgi",
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=PROJECT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(port)
        print(f"gunicorn, 4 workers; wrk, {args.connections} connections, {args.seconds} s a page")
        print(f"{'page':<22}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for label, path in [
            ("dashboard", "/"),
            ("results page", f"/campaigns/{campaign_id}/"),
            ("results, failed", f"/campaigns/{campaign_id}/?state=failed"),
        ]:
            result = subprocess.run(
                [
                    "wrk",
                    "--latency",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.seconds}s",
                    "-H",
                    f"Cookie: sessionid={session.session_key}",
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rate = re.search(r"Requests/sec:\s+([\d.]+)", result).group(1)
            latency = dict(re.findall(r"\s(50|90|99)%\s+([\d.]+\w+)", result))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)

            def ms(text: str) -> str:
                value = float(re.match(r"[\d.]+", text).group())
                unit = text[len(re.match(r"[\d.]+", text).group()) :]
                return f"{value * {'us': 0.001, 'ms': 1, 's': 1000}[unit]:.0f}"

            print(
                f"{label:<22}{float(rate):>9.0f}{ms(latency['50']):>9}{ms(latency['90']):>9}"
                f"{ms(latency['99']):>9}{errors.group(1) if errors else '0':>8}"
            )
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


if __name__ == "__main__":
    main()
