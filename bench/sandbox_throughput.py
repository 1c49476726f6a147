"""Requests per second the Onurix sandbox answers: median of 3 runs.

Starts ``python -m onurix_sandbox`` in its own process (so client and server do not share a
GIL) unless --url points at a running one, then fires --requests small requests (a one-phone
``call/send`` and a ``balance`` in turn) from --threads threads, each on one keep-alive
``http.client`` connection (lighter than requests, so the figure is the server's). With a
sandbox it started on Linux, it also prints the server's CPU time per request.

    .venv/bin/python bench/sandbox_throughput.py --requests 3000 --threads 4
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"client": "1000", "key": "sandbox-key"}


def run_once(url: str, total: int, threads: int) -> float:
    split = urlsplit(url)
    per_thread = total // threads
    errors: list[str] = []
    barrier = threading.Barrier(threads + 1)
    send_body = urlencode({**AUTH, "phone": "573150123456", "voice": "Mia", "message": "Hola"})
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def worker() -> None:
        connection = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
        barrier.wait()
        for n in range(per_thread):
            if n % 2:
                connection.request("GET", f"{split.path}/balance?{urlencode(AUTH)}")
            else:
                connection.request("POST", f"{split.path}/call/send", send_body, form)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {body[:100]!r}")
        connection.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    return per_thread * threads / elapsed


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--url", help="API base of a running sandbox (default: start one)")
    args = parser.parse_args()

    process = None
    url = args.url
    if url is None:
        process = subprocess.Popen(
            [sys.executable, "-m", "onurix_sandbox", "--port", "0", "--log-level", "WARNING"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = process.stdout.readline()
        match = re.search(r"(http://\S+/api/v1)", line)
        if not match:
            process.terminate()
            raise SystemExit(f"sandbox did not start: {line!r}")
        url = match.group(1)
    try:
        cpu_before = cpu_seconds(process.pid) if process else None
        rates = []
        for run in range(3):
            rate = run_once(url, args.requests, args.threads)
            rates.append(rate)
            print(f"run {run + 1}: {rate:,.0f} requests/s")
        print(
            f"median: {statistics.median(rates):,.0f} requests/s "
            f"({args.requests} requests, {args.threads} threads, keep-alive)"
        )
        cpu_after = cpu_seconds(process.pid) if process else None
        if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
            served = 3 * (args.requests // args.threads) * args.threads
            print(
                f"server CPU: {(cpu_after - cpu_before) / served * 1e6:.0f} µs per request "
                f"(~{served / (cpu_after - cpu_before):,.0f} requests per CPU-second)"
            )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
