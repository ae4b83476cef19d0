"""[intake] in printd.toml: absent is today's behaviour; every mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from printd.config import parse_config
from printd.errors import ConfigError

BASE = """
[daemon]
state_dir = "state"

[[printer]]
name = "counter-1"
device = "sim://primacy"
"""

GOOD = """
[intake]
servers = ["nats://127.0.0.1:4222", "tls://office:4222"]
stream = "KTP"
subject = "ktp.jobs.kantor-1"
durable = "kantor-1"
result_subject = "ktp.results.kantor-1"
dead_letter_subject = "ktp.dead.kantor-1"
"""


def test_absent_intake_is_none(tmp_path: Path) -> None:
    assert parse_config(BASE, tmp_path / "printd.toml").intake is None


def test_good_intake_and_its_defaults(tmp_path: Path) -> None:
    intake = parse_config(BASE + GOOD, tmp_path / "printd.toml").intake
    assert intake is not None
    assert intake.servers == ("nats://127.0.0.1:4222", "tls://office:4222")
    assert (intake.stream, intake.durable) == ("KTP", "kantor-1")
    assert intake.results_carry_nik is False
    assert intake.max_held_jobs == 20


def test_the_documented_example_parses(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "config" / "printd.toml").read_text()
    before, example = text.split("# [intake]\n", 1)
    lines = [line.removeprefix("# ") for line in example.splitlines() if line.startswith("# ")]
    # The example's credential files do not exist on a test machine.
    lines = [line for line in lines if not line.startswith(("creds_file", "tls_ca_file"))]
    intake = parse_config(before + "[intake]\n" + "\n".join(lines), tmp_path / "x.toml").intake
    assert intake is not None
    assert intake.subject == "ktp.jobs.kantor-1"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ('servers = ["http://office"]', "servers"),
        ("servers = []", "servers"),
        ('stream = "has space"', "stream"),
        ('durable = "a.b"', "durable"),
        ('result_subject = "ktp.results.*"', "result_subject"),
        ('dead_letter_subject = "bad subject"', "dead_letter_subject"),
        ('subject = ""', "subject"),
        ("max_held_jobs = 0", "max_held_jobs"),
        ("max_message_bytes = 10", "max_message_bytes"),
        ("ack_wait_seconds = 0", "ack_wait_seconds"),
        ('results_carry_nik = "yes"', "results_carry_nik"),
        ('creds_file = "missing.creds"', "creds_file"),
        ('tls_ca_file = "missing.pem"', "tls_ca_file"),
        ("colour = 1", "colour"),
    ],
)
def test_every_error_names_its_key(tmp_path: Path, change: str, named: str) -> None:
    key = change.split(" = ", maxsplit=1)[0]
    lines = [line for line in GOOD.splitlines() if not line.startswith(key + " ")]
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "\n".join(lines) + "\n" + change + "\n", tmp_path / "printd.toml")
    assert f"[intake] {named}" in str(caught.value)


def test_missing_required_keys_are_each_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + "[intake]\n", tmp_path / "printd.toml")
    for key in ("servers", "stream", "subject", "durable", "result_subject", "dead_letter_subject"):
        assert f"[intake] {key}" in str(caught.value)


def test_creds_and_nkey_together_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.creds").write_text("x")
    (tmp_path / "a.nk").write_text("x")
    text = BASE + GOOD + 'creds_file = "a.creds"\nnkey_file = "a.nk"\n'
    with pytest.raises(ConfigError, match=r"\[intake\] nkey_file"):
        parse_config(text, tmp_path / "printd.toml")
