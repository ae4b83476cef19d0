"""`snmp://` status URIs (DESIGN §6): where the agent is and how to authenticate.

A URI names key *sources* (a file or an environment variable), never a key: URIs end up in
config dumps, logs and `printctl status`. Keys are read only when a poller is set up, and no
object here holds one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from printd.errors import ConfigError

SnmpVersion = Literal["1", "2c", "3"]

AUTH_PROTOCOLS = ("none", "md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV_PROTOCOLS = ("none", "des", "aes", "aes192", "aes256")

_COMMON_KEYS = {"version", "hopper_input"}
_V12_KEYS = {"community"}
_V3_KEYS = {
    "user",
    "auth",
    "priv",
    "auth_key_file",
    "auth_key_env",
    "priv_key_file",
    "priv_key_env",
}
_KEY_IN_URI = {"auth_key", "priv_key", "authkey", "privkey", "auth_password", "priv_password"}
_MIN_USM_KEY = 8  # RFC 3414 §11.2: pass phrases shorter than 8 octets are refused


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where a v3 key comes from: a file path or an environment variable name."""

    kind: Literal["file", "env"]
    where: str

    def read(self, what: str) -> str:
        """Read the key now; errors name the source, never the key."""
        if self.kind == "file":
            try:
                key = Path(self.where).read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(
                    f"snmp {what} key file {self.where!r} cannot be read ({e.strerror}); "
                    "create it (mode 0600) or fix the path in the status URI"
                ) from e
        else:
            key = os.environ.get(self.where, "").strip()
            if not key:
                raise ConfigError(
                    f"snmp {what} key environment variable {self.where!r} is not set or empty; "
                    "export it for the daemon or use a key file"
                )
        if len(key) < _MIN_USM_KEY:
            raise ConfigError(
                f"snmp {what} key from {self.kind} {self.where!r} is shorter than "
                f"{_MIN_USM_KEY} characters; SNMPv3 refuses it"
            )
        return key


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """A parsed `snmp://` URI. Holds no secret key material, only where to find it."""

    host: str
    port: int = 161
    version: SnmpVersion = "2c"
    community: str = field(default="public", repr=False)  # v1/v2c only; kept out of repr
    user: str | None = None
    auth_protocol: str = "none"
    priv_protocol: str = "none"
    auth_key: KeySource | None = None
    priv_key: KeySource | None = None
    # prtInputIndex of the card hopper, for an agent with several inputs none named as one.
    hopper_input: int | None = None

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def security_level(self) -> str:
        if self.version != "3":
            return "community"
        if self.auth_protocol == "none":
            return "noAuthNoPriv"
        return "authNoPriv" if self.priv_protocol == "none" else "authPriv"


def _fail(uri_part: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"snmp status URI: {uri_part}: {problem}; {fix}")


def _key_source(params: dict[str, str], which: str) -> KeySource | None:
    file_key, env_key = f"{which}_key_file", f"{which}_key_env"
    if file_key in params and env_key in params:
        raise _fail(
            f"{file_key}/{env_key}", "both are given", "name exactly one source for the key"
        )
    if params.get(file_key):
        return KeySource("file", params[file_key])
    if params.get(env_key):
        return KeySource("env", params[env_key])
    return None


def _hopper_input(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise _fail(
            f"hopper_input={raw!r}",
            "not a prtInputIndex",
            "write the card hopper's row number from `printd probe`, e.g. hopper_input=3",
        )
    return int(raw)


def parse_snmp_uri(uri: str) -> SnmpTarget:
    """Parse `snmp://HOST[:PORT]?version=2c&community=NAME` or the `version=3` form."""
    parts = urlsplit(uri)
    if parts.scheme != "snmp":
        raise _fail("scheme", f"{parts.scheme or '(none)'!r} is not 'snmp'", "write snmp://HOST")
    if parts.username or parts.password:
        raise _fail(
            "authority", "credentials before the host are not accepted", "use ?community= or ?user="
        )
    host = parts.hostname
    if not host:
        raise _fail("host", "missing", "write snmp://HOST[:PORT]?…")
    try:
        port = parts.port or 161
    except ValueError as e:
        raise _fail("port", "not a number in 1..65535", "write snmp://HOST:161") from e
    if parts.path not in ("", "/"):
        raise _fail("path", f"{parts.path!r} is not expected", "put options after '?'")

    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False)
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in _KEY_IN_URI:
            raise _fail(
                f"query key {key!r}",
                "keys must not be written in the URI",
                f"use {key.split('_')[0]}_key_file=PATH or {key.split('_')[0]}_key_env=VAR",
            )
        if key in params:
            raise _fail(f"query key {key!r}", "given twice", "keep one")
        params[key] = value

    version = params.get("version", "2c")
    if version in ("2", "v2c"):
        version = "2c"
    if version not in ("1", "2c", "3"):
        raise _fail(f"version={version!r}", "unsupported", "use version=1, 2c or 3")

    hopper_input = _hopper_input(params.get("hopper_input"))
    allowed = _COMMON_KEYS | (_V3_KEYS if version == "3" else _V12_KEYS)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise _fail(
            f"query key {unknown[0]!r}",
            f"not valid with version={version}",
            f"valid keys: {', '.join(sorted(allowed))}",
        )

    if version != "3":
        community = params.get("community", "public")
        if not community:
            raise _fail("community", "empty", "write community=NAME")
        return SnmpTarget(
            host=host,
            port=port,
            version=version,  # type: ignore[arg-type]
            community=community,
            hopper_input=hopper_input,
        )

    user = params.get("user", "")
    if not user:
        raise _fail("user", "missing for version=3", "write user=NAME")
    auth_key = _key_source(params, "auth")
    priv_key = _key_source(params, "priv")
    auth = params.get("auth", "sha" if auth_key else "none").lower()
    priv = params.get("priv", "aes" if priv_key else "none").lower()
    if auth not in AUTH_PROTOCOLS:
        raise _fail(f"auth={auth!r}", "unknown protocol", f"use one of {', '.join(AUTH_PROTOCOLS)}")
    if priv not in PRIV_PROTOCOLS:
        raise _fail(f"priv={priv!r}", "unknown protocol", f"use one of {', '.join(PRIV_PROTOCOLS)}")
    if auth != "none" and auth_key is None:
        raise _fail(f"auth={auth}", "needs a key", "add auth_key_file=PATH or auth_key_env=VAR")
    if auth == "none" and auth_key is not None:
        raise _fail("auth_key_*", "given with auth=none", "set auth=sha (or another) or drop it")
    if priv != "none" and auth == "none":
        raise _fail(f"priv={priv}", "privacy needs authentication", "set auth=sha or priv=none")
    if priv != "none" and priv_key is None:
        raise _fail(f"priv={priv}", "needs a key", "add priv_key_file=PATH or priv_key_env=VAR")
    if priv == "none" and priv_key is not None:
        raise _fail("priv_key_*", "given with priv=none", "set priv=aes (or another) or drop it")
    return SnmpTarget(
        host=host,
        port=port,
        version="3",
        community="",
        user=user,
        auth_protocol=auth,
        priv_protocol=priv,
        auth_key=auth_key,
        priv_key=priv_key,
        hopper_input=hopper_input,
    )
