"""`snmp://` URIs: what parses, what is refused (naming the part), and where keys come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from printd.drivers.snmp import KeySource, SnmpTarget, parse_snmp_uri
from printd.errors import ConfigError


def test_v2c_with_defaults() -> None:
    t = parse_snmp_uri("snmp://printer-1")
    assert t == SnmpTarget(host="printer-1", port=161, version="2c", community="public")


def test_v2c_with_port_and_community() -> None:
    t = parse_snmp_uri("snmp://10.0.0.5:1161?version=2c&community=loket")
    assert (t.host, t.port, t.version, t.community) == ("10.0.0.5", 1161, "2c", "loket")
    assert t.address == "10.0.0.5:1161"


def test_community_is_not_in_repr() -> None:
    assert "s3cret" not in repr(parse_snmp_uri("snmp://h?community=s3cret"))


def test_v1_is_accepted() -> None:
    assert parse_snmp_uri("snmp://h?version=1").version == "1"


def test_v3_with_key_file_and_env() -> None:
    t = parse_snmp_uri(
        "snmp://h?version=3&user=printd&auth=sha&auth_key_file=/etc/printd/auth.key"
        "&priv=aes&priv_key_env=PRINTD_SNMP_PRIV"
    )
    assert t.user == "printd"
    assert t.auth_key == KeySource("file", "/etc/printd/auth.key")
    assert t.priv_key == KeySource("env", "PRINTD_SNMP_PRIV")
    assert t.security_level == "authPriv"


def test_v3_protocols_default_from_the_keys_given() -> None:
    t = parse_snmp_uri("snmp://h?version=3&user=u&auth_key_env=A")
    assert (t.auth_protocol, t.priv_protocol, t.security_level) == ("sha", "none", "authNoPriv")


def test_ipv6_host() -> None:
    t = parse_snmp_uri("snmp://[::1]:1161")
    assert (t.host, t.port, t.address) == ("::1", 1161, "[::1]:1161")


@pytest.mark.parametrize(
    ("uri", "names"),
    [
        ("http://h", "scheme"),
        ("snmp://?community=x", "host"),
        ("snmp://h:99999", "port"),
        ("snmp://h:abc", "port"),
        ("snmp://h/path", "path"),
        ("snmp://user:pw@h", "authority"),
        ("snmp://h?version=4", "version"),
        ("snmp://h?colour=red", "'colour'"),
        ("snmp://h?community=a&community=b", "given twice"),
        ("snmp://h?community=", "community"),
        ("snmp://h?version=2c&user=u", "'user'"),
        ("snmp://h?version=3&community=x", "'community'"),
        ("snmp://h?version=3", "user"),
        ("snmp://h?version=3&user=u&auth_key=plaintext", "must not be written"),
        ("snmp://h?version=3&user=u&priv_key=plaintext", "must not be written"),
        ("snmp://h?version=3&user=u&auth=sha", "needs a key"),
        ("snmp://h?version=3&user=u&auth=whirlpool&auth_key_env=A", "unknown protocol"),
        ("snmp://h?version=3&user=u&auth_key_env=A&priv=rot13&priv_key_env=B", "unknown"),
        ("snmp://h?version=3&user=u&priv=aes&priv_key_env=B", "needs authentication"),
        ("snmp://h?version=3&user=u&auth_key_env=A&auth_key_file=/k", "both"),
        ("snmp://h?version=3&user=u&auth_key_env=A&priv=aes", "priv=aes"),
        ("snmp://h?version=3&user=u&auth=none&auth_key_env=A", "auth=none"),
        ("snmp://h?hopper_input=0", "hopper_input='0'"),
        ("snmp://h?hopper_input=tray3", "not a prtInputIndex"),
        ("snmp://h?hopper_input=-1", "hopper_input='-1'"),
    ],
)
def test_bad_uris_name_the_part(uri: str, names: str) -> None:
    with pytest.raises(ConfigError, match="snmp status URI") as info:
        parse_snmp_uri(uri)
    assert names in str(info.value)


def test_key_never_appears_in_errors_about_uri() -> None:
    with pytest.raises(ConfigError) as info:
        parse_snmp_uri("snmp://h?version=3&user=u&auth_key=hunter2hunter2")
    assert "hunter2" not in str(info.value)


def test_key_file_is_read_and_stripped(tmp_path: Path) -> None:
    key = tmp_path / "auth.key"
    key.write_text("correct horse battery\n")
    assert KeySource("file", str(key)).read("auth") == "correct horse battery"


def test_key_env_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTD_TEST_KEY", "0123456789")
    assert KeySource("env", "PRINTD_TEST_KEY").read("priv") == "0123456789"


def test_missing_key_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="auth key file") as info:
        KeySource("file", str(tmp_path / "nope.key")).read("auth")
    assert "nope.key" in str(info.value)


def test_unset_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRINTD_TEST_KEY", raising=False)
    with pytest.raises(ConfigError, match="PRINTD_TEST_KEY"):
        KeySource("env", "PRINTD_TEST_KEY").read("priv")


def test_short_key_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRINTD_TEST_KEY", "short")
    with pytest.raises(ConfigError, match="shorter than 8") as info:
        KeySource("env", "PRINTD_TEST_KEY").read("auth")
    assert "'short'" not in str(info.value)


def test_hopper_input_names_the_hopper_row_in_every_version() -> None:
    assert parse_snmp_uri("snmp://h").hopper_input is None
    assert parse_snmp_uri("snmp://h?hopper_input=7").hopper_input == 7
    v3 = parse_snmp_uri("snmp://h?version=3&user=u&hopper_input=3")
    assert (v3.version, v3.hopper_input) == ("3", 3)
