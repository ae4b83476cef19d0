"""Real SNMP agents on 127.0.0.1 for the poller tests.

- `sim_agent`: the simulator's in-process pysnmp agent on a kernel-chosen port, showing a
  `MibView` the test can change between polls.
- `snmpsim`: snmpsim-command-responder as a separate process replaying `tests/data/*.snmprec`
  (the file name is the community), on a free port, health-checked by a real GET.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from snmp_support import DATA, SNMPSIM, V3, RunningSim, Snmpsim, ViewHolder, answers, free_udp_port

from printd.sim.snmp_agent import SimSnmpAgent
from tests.conftest import require_python_tool


@pytest.fixture
def sim_agent() -> Iterator[Callable[..., RunningSim]]:
    started: list[SimSnmpAgent] = []

    def factory(**kwargs: Any) -> RunningSim:
        holder = ViewHolder()
        agent = SimSnmpAgent(holder, v3_user=V3, **kwargs).start()
        started.append(agent)
        return RunningSim(agent, holder)

    yield factory
    for agent in started:
        agent.close()


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpsim]:
    require_python_tool(SNMPSIM.name, "snmpsim")
    root = tmp_path_factory.mktemp("snmpsim")
    data = root / "data"
    data.mkdir()
    for rec in DATA.glob("*.snmprec"):
        shutil.copy(rec, data / rec.name)
    for attempt in range(3):
        port = free_udp_port()
        log = (root / f"snmpsim-{attempt}.log").open("wb")
        proc = subprocess.Popen(
            [
                str(SNMPSIM),
                f"--data-dir={data}",
                f"--cache-dir={root / 'cache'}",
                f"--agent-udpv4-endpoint=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"},
        )
        deadline = time.monotonic() + 20
        # snmpsim keeps running silently when its port is taken: only an answer proves it.
        while time.monotonic() < deadline and proc.poll() is None:
            if answers(port, "card-printer"):
                yield Snmpsim(port, proc)
                proc.terminate()
                proc.wait(10)
                return
            time.sleep(0.2)
        proc.kill()
        proc.wait(10)
    pytest.fail(f"snmpsim did not answer; see logs in {root}")
