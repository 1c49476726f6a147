"""Server time and query count of the main pages with 100,000 contacts and 100,000 results.

Seeds a fresh database (SQLite by default; PostgreSQL with --database-url) with N contacts
in 20 groups and one finished campaign with N results in mixed states, then requests each
page repeatedly through Django's test client (no network, no browser: server time only)
and prints the median and 95th percentile time and the query count. Also streams the
results CSV export and reports its time and peak Python memory (tracemalloc).

With --report-results N (and --report-campaigns C), also seeds N more results across C
finished campaigns (sent over the last 30 days, in the legal hours, some audio, some
without voicemail, in the 20 groups) and times the reports page and its exports.

Usage: .venv/bin/python bench/pages.py [--rows 100000] [--repeat 30]
       [--report-results 1000000 --report-campaigns 200] [--database-url postgres://...]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seed(rows: int) -> int:
    """Contacts in 20 groups and one campaign with a result per contact; the campaign id."""
    import random

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from campaigns.models import CallResult, Campaign, Contact, ContactGroup

    rng = random.Random(7)
    names = ["Ana", "Luis", "Eva", "José", "María", "Andrés", "Camila", "Laura", "Jorge"]
    last = ["Muñoz", "Peñalosa", "Gómez", "Núñez", "Rodríguez", "Pérez", "Díaz", "Torres"]
    groups = ContactGroup.objects.bulk_create(
        [ContactGroup(name=f"Sede {n:02d}") for n in range(20)]
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                phone=f"5730{n:08d}",
                first_name=rng.choice(names),
                last_name=rng.choice(last),
                email=f"persona{n}@example.com" if n % 3 else "",
                do_not_call=n % 97 == 0,
            )
            for n in range(rows)
        ],
        batch_size=5000,
    )
    through = Contact.groups.through
    through.objects.bulk_create(
        [
            through(contact_id=c.pk, contactgroup_id=groups[i % 20].pk)
            for i, c in enumerate(contacts)
        ],
        batch_size=5000,
    )
    user = get_user_model().objects.create_superuser("bench", password="bench-password")
    campaign = Campaign.objects.create(
        name="Recordatorio",
        voice="Mariana",
        message="Hola {nombre}, le recordamos su cita de mañana.",
        state=Campaign.State.FINISHED,
        created_by=user,
        launched_at=timezone.now(),
        finished_at=timezone.now(),
    )
    states = ["answered"] * 6 + ["sent"] * 2 + ["failed", "unknown"]
    now = timezone.now()
    CallResult.objects.bulk_create(
        [
            CallResult(
                campaign=campaign,
                phone=c.phone,
                contact_id=c.pk,
                state=rng.choice(states),
                onurix_state="Entregado",
                call_id=f"c{i}",
                dispatch_id=f"d{i // 50}",
                credits=1,
                sent_at=now,
            )
            for i, c in enumerate(contacts)
        ],
        batch_size=5000,
    )
    return campaign.pk


def seed_reports(results: int, campaigns: int) -> None:
    """`results` results across `campaigns` finished campaigns, in bulk (the triggers keep
    the campaign totals and the report cells as the rows go in)."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.models import AudioCode, CallResult, Campaign, ContactGroup

    rng = random.Random(11)
    groups = list(ContactGroup.objects.order_by("pk"))
    audio = AudioCode.objects.create(code="bench-audio", name="Bench")
    now = timezone.localtime()
    states = ["answered"] * 5 + ["failed"] * 2 + ["unknown", "sent"]
    per_campaign = results // campaigns
    for number in range(campaigns):
        uses_audio = number % 4 == 0
        campaign = Campaign.objects.create(
            name=f"Campaña {number:03d}",
            voice="" if uses_audio else "Mariana",
            message="" if uses_audio else "Hola {nombre}, le recordamos su cita.",
            audio_code=audio if uses_audio else None,
            leave_voicemail=number % 3 != 0,
            state=Campaign.State.FINISHED,
        )
        campaign.groups.add(groups[number % len(groups)])
        day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=number % 30)
        rows = []
        for index in range(per_campaign):
            state = rng.choice(states)
            rows.append(
                CallResult(
                    campaign=campaign,
                    phone=f"5731{number:03d}{index:06d}",
                    state=state,
                    call_id=f"r{number}-{index}",
                    dispatch_id=f"r{number}-{index // 50}",
                    credits=1,
                    credits_refunded=1 if state == "failed" and index % 2 else 0,
                    onurix_state="Rechazado" if state == "failed" else "",
                    sent_at=day + timedelta(hours=7 + index % 12, minutes=index % 60),
                )
            )
            if len(rows) == 10_000:
                CallResult.objects.bulk_create(rows)
                rows = []
        CallResult.objects.bulk_create(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--report-results", type=int, default=0)
    parser.add_argument("--report-campaigns", type=int, default=200)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "onurix_site.settings",
            "DJANGO_DEBUG": "false",
            # The benchmark runs against the sandbox on loopback: not a production server.
            "DJANGO_ENFORCE_PRODUCTION_CHECKS": "false",
            "DJANGO_SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "DJANGO_LOG_LEVEL": "WARNING",
            # Pages must not wait on Onurix: nothing listens here.
            "ONURIX_BASE_URL": "http://127.0.0.1:9/api/v1",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    campaign_id = seed(args.rows)
    print(
        f"seeded {args.rows:,} contacts and {args.rows:,} results "
        f"in {time.perf_counter() - started:.1f} s on {connection.vendor}"
    )

    if args.report_results:
        started = time.perf_counter()
        seed_reports(args.report_results, args.report_campaigns)
        print(
            f"seeded {args.report_results:,} more results across {args.report_campaigns} "
            f"campaigns in {time.perf_counter() - started:.1f} s"
        )

    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    from campaigns.models import ContactGroup

    group_id = ContactGroup.objects.order_by("pk").values_list("pk", flat=True).first()
    pages = [
        ("dashboard", "/", {}),
        ("contacts, page 1", "/contacts/", {}),
        ("contacts, search", "/contacts/", {"q": "Peñalosa"}),
        ("contacts, phone search", "/contacts/", {"q": "300 001 23"}),
        ("contacts, group filter", "/contacts/", {"group": group_id}),
        ("contacts, page 500", "/contacts/", {"page": 500}),
        ("campaigns list", "/campaigns/", {}),
        ("campaign page", f"/campaigns/{campaign_id}/", {}),
        ("results, page 1", f"/campaigns/{campaign_id}/results/", {"htmx": 1}),
        (
            "results, state filter",
            f"/campaigns/{campaign_id}/results/",
            {"state": "failed", "htmx": 1},
        ),
        ("results, search", f"/campaigns/{campaign_id}/results/", {"q": "Núñez", "htmx": 1}),
    ]
    if args.report_results:
        from campaigns.models import Campaign

        some = list(Campaign.objects.order_by("pk").values_list("pk", flat=True)[1:11])
        pages += [
            ("reports, 30 days", "/reports/", {}),
            ("reports, 1 group", "/reports/", {"groups": group_id}),
            ("reports, 10 campaigns", "/reports/", {"campaigns": some}),
            ("reports, sorted by cost", "/reports/", {"sort": "-cost_per_answered"}),
            ("reports, 1 year", "/reports/", {"from": "2026-01-01", "to": "2026-12-31"}),
            ("reports, campaigns csv", "/reports/export.csv", {"table": "campaigns"}),
            ("reports, hours xlsx", "/reports/export.xlsx", {"table": "hours"}),
        ]
    print(f"\n{'page':<26}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
    for label, url, params in pages:
        timings = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                query = {k: v for k, v in params.items() if k != "htmx"}
                headers = {"HX-Request": "true"} if "htmx" in params else {}
                response = client.get(url, query, headers=headers)
                timings.append((time.perf_counter() - begin) * 1000)
            if response.streaming:
                b"".join(response.streaming_content)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"{label:<26}{statistics.median(timings):>10.1f}{percentile(timings, 0.95):>9.1f}"
            f"{len(queries):>9}"
        )

    def export() -> int:
        response = client.get(f"/campaigns/{campaign_id}/results.csv")
        return sum(len(chunk) for chunk in response.streaming_content)

    begin = time.perf_counter()
    size = export()
    elapsed = time.perf_counter() - begin
    tracemalloc.start()  # a second export for the memory: tracemalloc slows Python down
    export()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"\nresults CSV export: {size / 1e6:.1f} MB, {args.rows:,} rows in {elapsed:.2f} s "
        f"({args.rows / elapsed:,.0f} rows/s), peak Python memory {peak / 1e6:.1f} MB"
    )

    if args.report_results:
        begin = time.perf_counter()
        response = client.get("/reports/reconciliation.csv")
        size = sum(len(chunk) for chunk in response.streaming_content)
        print(
            f"reconciliation CSV export (30 days): {size / 1e6:.1f} MB "
            f"in {time.perf_counter() - begin:.2f} s"
        )


if __name__ == "__main__":
    main()
