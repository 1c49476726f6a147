"""Faults at scale: a campaign through 520s, hangs and worker kills; nothing doubled or lost.

Starts the sandbox in this process with a share of requests answered 520 and a share that
hang past the client's timeout, seeds a campaign in a fresh SQLite database, and runs two
real workers the Procfile way (`campaigns_worker`: heartbeat, no release step, no manual
sweep), killing the one sending with SIGKILL N times at random moments (half of them right
after a request reached the sandbox and before its answer was recorded) and starting a
replacement at once, as a process supervisor would, until the campaign finishes. Then
prints: phones, calls the sandbox received, phones called twice (must be 0), phones lost
(queued or sending at the end: must be 0), unknown phones, the time from each kill to the
campaign's next request at the sandbox (median and max, target <= 15 s), and the time taken.

Usage: .venv/bin/python bench/faults.py [--phones 10000] [--kills 10] [--error-rate 0.2]
       [--hang-rate 0.05]
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--hang-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    database = workdir / "faults.sqlite3"
    settings_env = {
        "DJANGO_SETTINGS_MODULE": "onurix_site.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_LOG_LEVEL": "WARNING",
        "ONURIX_CLIENT_ID": "1000",
        "ONURIX_KEY": "sandbox-key",
        "ONURIX_TIMEOUT": "1",
        "ONURIX_BATCH_SIZE": "50",
        "ONURIX_CONCURRENCY": "4",
        "ONURIX_CIRCUIT_BREAKER_THRESHOLD": "1000000",  # measure the faults, not the breaker
        "CAMPAIGN_CALLING_HOURS": "always",
        "CAMPAIGN_CONTACT_FREQUENCY_DAYS": "0",
    }
    os.environ.update(settings_env)

    from onurix_sandbox import SandboxConfig, start_sandbox

    sandbox = start_sandbox(
        SandboxConfig(
            balance=10_000_000,
            settle_seconds=3600,
            latency=0.1,
            error_520_rate=args.error_rate,
            hang_rate=args.hang_rate,
            hang_seconds=1.5,
            seed=args.seed,
        )
    )
    os.environ["ONURIX_BASE_URL"] = sandbox.url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from campaigns import services
    from campaigns.models import Campaign, Contact, ContactGroup

    call_command("migrate", verbosity=0)
    group = ContactGroup.objects.create(name="Faults")
    contacts = Contact.objects.bulk_create(
        [Contact(phone=f"57305{n:07d}") for n in range(args.phones)], batch_size=5000
    )
    Contact.groups.through.objects.bulk_create(
        [Contact.groups.through(contact_id=c.pk, contactgroup_id=group.pk) for c in contacts],
        batch_size=5000,
    )
    user = get_user_model().objects.create_user("faults")
    campaign = services.campaign_save(
        user=user,
        groups=[group],
        name="Faults",
        voice="Mariana",
        message="Hola.",
        audio_code=None,
        retries=1,
        leave_voicemail=True,
    )
    services.campaign_launch(campaign=campaign, user=user)

    env = {**os.environ, **settings_env, "ONURIX_BASE_URL": sandbox.url}
    command = [sys.executable, "manage.py", "campaigns_worker", "--no-startup-delay"]
    command += ["--interval", "0.1"]

    def start():
        return subprocess.Popen(
            command, cwd=PROJECT, env=env, start_new_session=True, stderr=subprocess.DEVNULL
        )

    def sends_after(moment: float) -> bool:
        requests = sandbox.state.traffic_summary()["requests"]
        return any(r["path"] == "/call/send" and r["arrived"] > moment for r in requests[-50:])

    rng = random.Random(args.seed)
    started = time.monotonic()
    workers = {worker.pid: worker for worker in (start(), start())}
    kills = precise = 0
    recoveries: list[float] = []
    killed_at: float | None = None
    next_kill = time.monotonic() + rng.uniform(2, 4)
    while True:
        campaign.refresh_from_db()
        if campaign.state == Campaign.State.FINISHED:
            break
        if killed_at is not None and sends_after(killed_at):
            recoveries.append(time.time() - killed_at)
            killed_at = None
            next_kill = time.monotonic() + rng.uniform(0.5, 1.5)
        if kills < args.kills and killed_at is None:
            sending = set(campaign.results.filter(state="sending").values_list("phone", flat=True))
            accepted = {call.phone for call in sandbox.state.calls()[-400:]}
            at_the_worst_moment = kills % 2 == 1 and bool(sending & accepted)
            sender = (
                campaign.requests.order_by("-started_at").values_list("worker", flat=True).first()
            )
            victim = workers.get(int(sender.rsplit(":", 1)[1])) if sender else None
            due = at_the_worst_moment or (kills % 2 == 0 and time.monotonic() > next_kill)
            if victim is not None and due:
                os.killpg(victim.pid, signal.SIGKILL)
                killed_at = time.time()
                victim.wait()
                del workers[victim.pid]
                kills += 1
                precise += at_the_worst_moment
                replacement = start()  # the supervisor restarts it; nobody runs the sweep
                workers[replacement.pid] = replacement
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    for worker in workers.values():
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers.values():
        worker.wait(timeout=30)

    calls = Counter(call.phone for call in sandbox.state.calls())
    states = Counter(campaign.results.values_list("state", flat=True))
    lost = states["queued"] + states["sending"]
    print(f"phones: {args.phones:,}; 520s: {args.error_rate:.0%}; hangs: {args.hang_rate:.0%}")
    print(f"worker kills: {kills} ({precise} right after a request left, before its answer)")
    print(f"calls the sandbox received: {sum(calls.values()):,}")
    print(f"phones called twice: {sum(1 for n in calls.values() if n > 1)} (must be 0)")
    print(f"phones lost (queued or sending at the end): {lost} (must be 0)")
    print(f"phones sent: {states['sent']:,}; unknown: {states['unknown']:,}")
    if recoveries:
        print(
            f"kill to the campaign's next request: median {statistics.median(recoveries):.1f} s, "
            f"max {max(recoveries):.1f} s over {len(recoveries)} kills (target <= 15 s)"
        )
    print(f"time: {elapsed:.1f} s")
    sandbox.shutdown()


if __name__ == "__main__":
    main()
