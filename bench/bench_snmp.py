"""SNMP poll benchmark: one full status + supplies + input poll against snmpsim on loopback.

Prints medians for the poller (steady state: the changing columns of the known rows in one
request, with a full walk every 30th poll; and a full table walk on every poll), beside
net-snmp's snmpbulkwalk of the same subtrees timed as subprocesses in the same run, then runs
a soak of many polls and checks the process's open file descriptors stay flat.

    .venv/bin/python bench/bench_snmp.py [--polls 200] [--soak 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from printd.drivers.snmp import SnmpPoller, parse_snmp_uri, status_from_reading

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
COMMUNITY = "card-printer"
TARGET_MS = 15.0
SUBTREES = (
    "1.3.6.1.2.1.1",  # system: sysDescr, sysUpTime
    "1.3.6.1.2.1.25.3.2.1.5",  # hrDeviceStatus
    "1.3.6.1.2.1.25.3.5.1",  # hrPrinterTable
    "1.3.6.1.2.1.43.6.1.1",  # prtCoverTable
    "1.3.6.1.2.1.43.8.2.1",  # prtInputTable
    "1.3.6.1.2.1.43.10.2.1.4",  # prtMarkerLifeCount
    "1.3.6.1.2.1.43.11.1.1",  # prtMarkerSuppliesTable
    "1.3.6.1.2.1.43.18.1.1",  # prtAlertTable
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def start_snmpsim(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    data = root / "data"
    data.mkdir()
    for rec in DATA.glob("*.snmprec"):
        shutil.copy(rec, data / rec.name)
    port = free_udp_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "snmpsim-command-responder"),
            f"--data-dir={data}",
            f"--cache-dir={root / 'cache'}",
            f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
    )
    return proc, port


async def wait_ready(uri: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        poller = SnmpPoller(parse_snmp_uri(uri), timeout=0.3, retries=0)
        try:
            await poller.poll()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
        else:
            return
        finally:
            await poller.aclose()


async def time_polls(uri: str, n: int, *, reuse_layout: bool) -> tuple[list[float], list[float]]:
    poller = SnmpPoller(parse_snmp_uri(uri), reuse_layout=reuse_layout)
    try:
        reading = await poller.poll()  # warm-up: engine, MIB modules, first walk
        status = status_from_reading(reading)
        assert status.supplies.hopper_level.value == 57, status
        times, cpu = [], []
        for _ in range(n):
            started, cpu_started = time.perf_counter(), time.process_time()
            await poller.poll()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        return times, cpu
    finally:
        await poller.aclose()


def time_bulkwalk(port: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for subtree in SUBTREES:
            subprocess.run(
                [
                    "snmpbulkwalk",
                    "-v2c",
                    "-c",
                    COMMUNITY,
                    "-On",
                    "-Cr25",
                    f"127.0.0.1:{port}",
                    subtree,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
        times.append(time.perf_counter() - started)
    return times


async def soak(uri: str, n: int) -> tuple[int, int, int, float]:
    poller = SnmpPoller(parse_snmp_uri(uri))
    try:
        await poller.poll()
        before = open_fds()
        peak = before
        started = time.perf_counter()
        for i in range(n):
            await poller.poll()
            if i % 500 == 0:
                peak = max(peak, open_fds())
        elapsed = time.perf_counter() - started
        return before, open_fds(), peak, elapsed
    finally:
        await poller.aclose()


def ms(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10)
    return (
        f"median {statistics.median(values) * 1000:7.2f} ms   p10 {q[0] * 1000:6.2f}   "
        f"p90 {q[-1] * 1000:6.2f}   n={len(values)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--bulkwalk-runs", type=int, default=30)
    parser.add_argument("--soak", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_snmpsim(Path(tmp))
        try:
            uri = f"snmp://127.0.0.1:{port}?version=2c&community={COMMUNITY}"
            asyncio.run(wait_ready(uri))
            print(f"snmpsim on 127.0.0.1:{port}, community {COMMUNITY}")
            print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
            steady, steady_cpu = asyncio.run(time_polls(uri, args.polls, reuse_layout=True))
            print(f"poller, steady state (1 request)  {ms(steady)}")
            print(f"  poller's own CPU per poll       {ms(steady_cpu)}")
            walk, walk_cpu = asyncio.run(time_polls(uri, args.polls, reuse_layout=False))
            print(f"poller, full walk (GET+GETBULK)   {ms(walk)}")
            print(f"  poller's own CPU per poll       {ms(walk_cpu)}")
            if shutil.which("snmpbulkwalk"):
                bulk = time_bulkwalk(port, args.bulkwalk_runs)
                print(f"snmpbulkwalk x{len(SUBTREES)} subtrees (procs)  {ms(bulk)}")
            else:
                print("snmpbulkwalk: not installed (Debian package 'snmp'); skipped")
            met = statistics.median(steady) * 1000 <= TARGET_MS
            verdict = "meets" if met else "MISSES"
            print(f"target {TARGET_MS:.0f} ms per poll: steady-state poll {verdict} it")
            if args.soak:
                before, after, peak, elapsed = asyncio.run(soak(uri, args.soak))
                flat = "flat" if after == before and peak == before else "NOT flat"
                print(
                    f"soak {args.soak} polls in {elapsed:.1f} s "
                    f"({elapsed / args.soak * 1000:.2f} ms/poll): open fds {before} -> {after} "
                    f"(peak {peak}): {flat}"
                )
                if flat != "flat":
                    return 1
        finally:
            proc.terminate()
            proc.wait(10)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
