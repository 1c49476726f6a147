"""Dispatch throughput: our engine against the documentation's one-request-per-phone loop.

Starts the Onurix sandbox as its own process with a fixed latency per request, seeds a
campaign of N phones in a fresh SQLite database, and measures, in the same run:

- our dispatch (batches of ONURIX_BATCH_SIZE phones, ONURIX_CONCURRENCY requests in
  flight): phones per second and peak Python memory (tracemalloc);
- the documentation's approach, `requests.post` per phone one after another, on a sample;
- the limit that batch size, concurrency and latency allow: batch * concurrency / latency.

With --workers N (N >= 2), it measures the account's shared limit instead: N real
`campaigns_worker` processes send N campaigns at once under ONURIX_MAX_REQUESTS_PER_SECOND
(--rate) and ONURIX_CONCURRENCY (--concurrency, account-wide), and the sandbox's record of
every request's arrival gives the busiest second, the most requests in flight, the
throughput against the ceiling, and every phone's number of calls.

Usage: .venv/bin/python bench/dispatch.py [--phones 10000] [--latency 0.2] [--sample 25]
       .venv/bin/python bench/dispatch.py --workers 3 --rate 20 --concurrency 8
           --database-url postgres://...
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox(port: int, latency: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onurix_sandbox",
            "--port",
            str(port),
            "--latency",
            str(latency),
            "--balance",
            "100000000",
            "--log-level",
            "WARNING",
        ],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the sandbox did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--sample", type=int, default=25, help="phones sent one by one")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3, help="runs of our dispatch (median)")
    parser.add_argument(
        "--database-url", default="", help="postgres://... to run on (emptied); SQLite if unset"
    )
    parser.add_argument("--workers", type=int, default=0, help="worker processes sharing a limit")
    parser.add_argument("--rate", type=float, default=20, help="with --workers: requests/s")
    args = parser.parse_args()

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "onurix_site.settings",
            "DJANGO_DEBUG": "true",
            "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "DJANGO_LOG_LEVEL": "WARNING",
            "ONURIX_BASE_URL": f"http://127.0.0.1:{port}/api/v1",
            "ONURIX_CLIENT_ID": "1000",
            "ONURIX_KEY": "sandbox-key",
            "ONURIX_BATCH_SIZE": str(args.batch_size),
            "ONURIX_CONCURRENCY": str(args.concurrency),
            "CAMPAIGN_CALLING_HOURS": "always",
            "CAMPAIGN_CONTACT_FREQUENCY_DAYS": "0",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", verbosity=0, interactive=False)

    import requests
    from django.contrib.auth import get_user_model

    from campaigns import services
    from campaigns.models import CallResult, Contact, ContactGroup

    if args.workers:
        shared_limit(args, port, workdir)
        return

    sandbox = start_sandbox(port, args.latency)
    try:
        user = get_user_model().objects.create_user("bench")
        group = ContactGroup.objects.create(name="Bench")
        contacts = Contact.objects.bulk_create(
            [Contact(phone=f"57300{n:07d}") for n in range(args.phones)], batch_size=5000
        )
        Contact.groups.through.objects.bulk_create(
            [Contact.groups.through(contact_id=c.pk, contactgroup_id=group.pk) for c in contacts],
            batch_size=5000,
        )

        def dispatch_once(name: str) -> float:
            """Launch and send a campaign to every phone; its phones per second."""
            campaign = services.campaign_save(
                user=user,
                groups=[group],
                name=name,
                voice="Mariana",
                message="Hola, le recordamos su cita de mañana.",
                audio_code=None,
                retries=1,
                leave_voicemail=True,
            )
            services.campaign_launch(campaign=campaign, user=user)
            started = time.perf_counter()
            outcome = services.campaign_dispatch(campaign_id=campaign.pk)
            elapsed = time.perf_counter() - started
            sent = campaign.results.filter(state=CallResult.State.SENT).count()
            assert outcome == "finished" and sent == args.phones, (outcome, sent)
            return args.phones / elapsed

        ours = [dispatch_once(f"Bench {run}") for run in range(args.runs)]
        # Memory in a run of its own: tracemalloc slows Python (and so the timed runs).
        tracemalloc.start()
        dispatch_once("Bench traced")
        peaks = [tracemalloc.get_traced_memory()[1]]
        tracemalloc.stop()

        url = f"http://127.0.0.1:{port}/api/v1/call/send"
        started = time.perf_counter()
        for n in range(args.sample):
            response = requests.post(
                url,
                data={
                    "client": "1000",
                    "key": "sandbox-key",
                    "phone": f"57311{n:07d}",
                    "message": "Hola, le recordamos su cita de mañana.",
                    "voice": "Mariana",
                },
                timeout=10,
            )
            response.raise_for_status()
        one_by_one = args.sample / (time.perf_counter() - started)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    limit = args.batch_size * args.concurrency / args.latency
    median = statistics.median(ours)
    from django.db import connection

    print(
        f"database: {connection.vendor}; phones: {args.phones}, "
        f"latency per request: {args.latency * 1000:.0f} ms"
    )
    print(f"batch size: {args.batch_size}, concurrency: {args.concurrency}")
    print(
        f"our dispatch: {median:,.0f} phones/s (median of {args.runs}: "
        f"{', '.join(f'{value:,.0f}' for value in ours)})"
    )
    print(f"our dispatch peak Python memory: {max(peaks) / 1e6:.1f} MB")
    print(
        f"one request per phone (documentation), {args.sample} phones: {one_by_one:,.1f} phones/s"
    )
    print(f"limit allowed by batch x concurrency / latency: {limit:,.0f} phones/s")
    print(f"ratio ours / one-by-one: {median / one_by_one:,.0f}x (target >= 100x)")
    print(f"limit / ours: {limit / median:.2f} (target <= 1.5)")


def shared_limit(args, port: int, workdir: Path) -> None:
    """N worker processes, N campaigns at once, one limit for the account."""
    from collections import Counter

    import requests
    from django.contrib.auth import get_user_model

    from campaigns import services
    from campaigns.models import CallResult, Contact, ContactGroup, OnurixRequest, WorkerHeartbeat

    user = get_user_model().objects.create_user("bench")
    per_campaign = args.phones // args.workers
    campaigns = []
    for n in range(args.workers):
        group = ContactGroup.objects.create(name=f"Bench {n}")
        contacts = Contact.objects.bulk_create(
            [Contact(phone=f"5730{n}{m:07d}") for m in range(per_campaign)], batch_size=5000
        )
        Contact.groups.through.objects.bulk_create(
            [Contact.groups.through(contact_id=c.pk, contactgroup_id=group.pk) for c in contacts],
            batch_size=5000,
        )
        campaigns.append(
            services.campaign_save(
                user=user,
                groups=[group],
                name=f"Bench {n}",
                voice="Mariana",
                message="Hola, le recordamos su cita de mañana.",
                audio_code=None,
                retries=1,
                leave_voicemail=True,
            )
        )
    env = {**os.environ, "ONURIX_MAX_REQUESTS_PER_SECOND": str(args.rate)}
    sandbox = start_sandbox(port, args.latency)
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "campaigns_worker", "--interval", "0.1"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / f"worker{n}.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        for n in range(args.workers)
    ]
    try:
        deadline = time.monotonic() + 60
        while WorkerHeartbeat.objects.count() < args.workers:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        for campaign in campaigns:
            services.campaign_launch(campaign=campaign, user=user)
        busy = CallResult.objects.filter(
            state__in=[CallResult.State.QUEUED, CallResult.State.SENDING]
        )
        while busy.exists():
            time.sleep(0.5)
        base = f"http://127.0.0.1:{port}/_sandbox"
        traffic = requests.get(f"{base}/traffic", timeout=30).json()
        calls = requests.get(f"{base}/calls", timeout=60).json()["calls"]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        sandbox.terminate()
        sandbox.wait(timeout=10)

    from onurix_sandbox.api import busiest_second

    sends = sorted(r["arrived"] for r in traffic["requests"] if r["path"] == "/call/send")
    elapsed = sends[-1] - sends[0]
    achieved = (len(sends) - 1) / elapsed if elapsed else float("inf")
    per_phone = Counter(call["phone"] for call in calls)
    doubled = sum(1 for count in per_phone.values() if count > 1)
    sent = CallResult.objects.filter(state=CallResult.State.SENT).count()
    from django.db import connection

    print(
        f"database: {connection.vendor}; workers: {args.workers}; phones: {args.phones}; "
        f"latency per request: {args.latency * 1000:.0f} ms"
    )
    print(
        f"account limit: {args.rate:g} requests/s, {args.concurrency} in flight; "
        f"batch size {args.batch_size}"
    )
    print(f"requests: {len(sends)} in {elapsed:.1f} s: {achieved:.2f} requests/s")
    print(f"busiest second at the sandbox: {busiest_second(sends)} (ceiling {args.rate:g})")
    print(f"most in flight at the sandbox: {traffic['max_in_flight']} (ceiling {args.concurrency})")
    print(f"ceiling / achieved: {args.rate / achieved:.2f} (target <= 1.5)")
    workers_used = OnurixRequest.objects.values_list("worker", flat=True).distinct().count()
    print(f"workers that sent: {workers_used} of {args.workers}")
    print(
        f"phones called: {len(per_phone)} of {args.phones}; called twice: {doubled}; "
        f"sent: {sent}; lost: {args.phones - sent}"
    )


if __name__ == "__main__":
    main()
