"""The spine: a real daemon process prints the examples on the simulator; printctl and
/metrics agree; promtool accepts the exposition; bad input is refused clearly."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.conftest import BIN, EXAMPLES, assert_promtool_accepts


def test_examples_print_and_show_everywhere(make_daemon, tmp_path: Path) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.stock_up(50)
    submitted = daemon.ctl("submit", str(EXAMPLES))
    assert "job example-0001 queued" in submitted.stderr + submitted.stdout
    daemon.wait_for(
        lambda: daemon.ctl_json("status")["queue"]["printed"] == 3, what="3 printed cards"
    )
    status = daemon.ctl_json("status")
    printer = status["printers"][0]
    assert printer["hopper"] == 47
    # example-0001 is one-sided, 0002 and 0003 two-sided on a YMCKO ribbon: 1 + 2 + 2 prints.
    assert printer["ribbon"]["remaining"] == 450 - 5
    assert status["today"]["printed"] == 3
    human = daemon.ctl("status").stdout
    assert "counter-1" in human and "47/100" in human

    metrics = daemon.metrics()
    assert re.search(
        r'printd_cards_printed_total\{printer="counter-1",station="test"\} 3\.0', metrics
    )
    assert re.search(r'printd_hopper_blanks\{printer="counter-1",station="test"\} 47\.0', metrics)
    assert re.search(
        r'printd_ribbon_prints_remaining\{printer="counter-1",station="test"\} 445\.0', metrics
    )
    assert_promtool_accepts(metrics)

    # Every transition is one JSON log line, and no personal data is in any of them.
    events = daemon.log_events()
    printed = [e for e in events if e.get("event") == "job_printed"]
    assert {e["job_id"] for e in printed} == {"example-0001", "example-0002", "example-0003"}
    log = daemon.log()
    for job_file in EXAMPLES.glob("*.json"):
        holder = json.loads(job_file.read_text())["holder"]
        assert holder["nik"] not in log and holder["name"] not in log
        assert holder["nik"] not in metrics and holder["name"] not in metrics
    assert daemon.stop() == 0


def test_resubmit_returns_the_same_job_and_never_prints_twice(make_daemon) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.stock_up(10)
    job = str(EXAMPLES / "example-0001.json")
    daemon.ctl("submit", "--wait", job)
    again = daemon.ctl_json("submit", job)
    assert again[0]["created"] is False and again[0]["job"]["state"] == "printed"
    assert daemon.ctl_json("status")["printers"][0]["hopper"] == 9


def test_bad_input_is_refused_clearly_and_the_daemon_stays_up(make_daemon, tmp_path: Path) -> None:
    daemon = make_daemon()
    daemon.start()
    not_json = tmp_path / "broken.json"
    not_json.write_text("{ this is not json")
    result = daemon.ctl("submit", str(not_json), check=False)
    assert result.returncode == 65
    assert "not valid JSON (line 1" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr

    small = tmp_path / "small.png"
    from PIL import Image

    Image.new("RGB", (640, 480), "white").save(small)
    wrong_size = tmp_path / "wrong-size.json"
    wrong_size.write_text(
        json.dumps(
            {
                "id": "wrong-size",
                "document": "ktp-el",
                "holder": {"nik": "9901010101900009", "name": "CONTOH"},
                "front": "small.png",
            }
        )
    )
    result = daemon.ctl("submit", str(wrong_size), check=False)
    assert result.returncode == 65
    assert "640×480" in result.stdout and "1016×648" in result.stdout

    missing = tmp_path / "missing.json"
    missing.write_text(
        json.dumps(
            {
                "id": "missing-image",
                "document": "ktp-el",
                "holder": {"nik": "9901010101900010", "name": "CONTOH"},
                "front": "nowhere.png",
            }
        )
    )
    result = daemon.ctl("submit", str(missing), check=False)
    assert result.returncode == 65
    assert "nowhere.png not found" in result.stdout

    # The API refuses the same things on its own, whatever the client checked.
    raw = daemon.ctl("--json", "jobs").stdout
    assert json.loads(raw)["jobs"] == []
    assert daemon.proc is not None and daemon.proc.poll() is None
    assert daemon.ctl_json("status")["station"] == "test"


def test_second_daemon_on_the_same_state_dir_is_refused(make_daemon) -> None:
    daemon = make_daemon()
    daemon.start()
    second = subprocess.run(
        [str(BIN / "printd"), "run", "--config", str(daemon.config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode != 0
    assert "another printd" in second.stderr and "already running" in second.stderr
    assert "Traceback" not in second.stderr
    assert daemon.ctl_json("status")["station"] == "test"


def test_misspelt_config_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "printd.toml"
    config.write_text(
        '[daemon]\nstate_dri = "x"\n[[printer]]\nname = "a"\ndevice = "usb://0f49:*"\n'
        "[queue]\nmax_atempts = 3\n"
    )
    for argv in (["check-config", str(config)], ["run", "--config", str(config)]):
        result = subprocess.run([str(BIN / "printd"), *argv], capture_output=True, text=True)
        assert result.returncode == 78
        assert "[daemon] state_dri: unknown key" in result.stderr
        assert "[queue] max_atempts: unknown key" in result.stderr  # all problems at once
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_socket_path_that_cannot_exist_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "printd.toml"
    config.write_text(
        '[daemon]\nstate_dir = "state"\nsocket = "/proc/no-such-dir/printd.sock"\n'
        '[metrics]\nlisten = "127.0.0.1:0"\n[[printer]]\nname = "a"\ndevice = "sim://primacy"\n'
    )
    result = subprocess.run(
        [str(BIN / "printd"), "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 74
    assert "cannot start" in result.stderr and "/proc/no-such-dir" in result.stderr
    assert "Traceback" not in result.stderr
