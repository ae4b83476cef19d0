#!/usr/bin/env bash
# Install printd on a print station (Debian 12, Ubuntu 24.04; Ubuntu 22.04 only with Python 3.11
# from the deadsnakes PPA, see docs/install.md). Safe to run again:
# an upgrade is the same command from a newer checkout.
#
#   sudo scripts/install.sh            (or: sudo make install)
#
# Environment:
#   DESTDIR=/tmp/stage           staged install into a directory (packaging, tests): files only;
#                                no users, no directories under /var or /run, no udev, no systemd.
#   PRINTD_PYTHON=/usr/bin/python3   interpreter for the venv (3.11 or newer).
#   PRINTD_PIP_ARGS="--no-index --find-links /media/usb/wheels"   extra pip arguments, e.g. for
#                                an offline station installing from a wheelhouse.
#   PRINTD_VENV=/opt/printd/venv where the daemon's virtualenv lives (the unit's ExecStart).
#   PRINTD_INSTALL_SKIP_VENV=1   do not create or pip-install the venv; use the existing one at
#                                $PRINTD_VENV as is (tests and development only: a venv under a
#                                home directory is hidden from the service by ProtectHome=).
set -euo pipefail
umask 022

readonly DEFAULT_VENV=/opt/printd/venv
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SRC_DIR
DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
PRINTD_PYTHON="${PRINTD_PYTHON:-/usr/bin/python3}"
PRINTD_PIP_ARGS="${PRINTD_PIP_ARGS:-}"
PRINTD_VENV="${PRINTD_VENV:-$DEFAULT_VENV}"
PRINTD_INSTALL_SKIP_VENV="${PRINTD_INSTALL_SKIP_VENV:-0}"

readonly UNIT_DIR=/usr/local/lib/systemd/system
readonly SYSUSERS_DIR=/usr/local/lib/sysusers.d
readonly TMPFILES_DIR=/usr/local/lib/tmpfiles.d
readonly UDEV_DIR=/usr/local/lib/udev/rules.d
readonly CONF_DIR=/etc/printd
readonly DOC_DIR=/opt/printd/share/doc
# printctl on every login's PATH: the runbooks say `printctl …`, not the venv's full path.
readonly BIN_DIR=/usr/local/bin
# The platforms printd supports, said the same way in README.md and docs/install.md.
readonly SUPPORTED="supported: Debian 12 or Ubuntu 24.04 (Python 3.11 or newer); Ubuntu 22.04 only with python3.11 from the deadsnakes PPA (apt-get install python3.11 python3.11-venv, then PRINTD_PYTHON=/usr/bin/python3.11)"

log() { printf 'install.sh: %s\n' "$*"; }
die() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

preflight() {
    if [[ -z "$DESTDIR" && "$(id -u)" -ne 0 ]]; then
        die "run as root (sudo scripts/install.sh), or set DESTDIR= for a staged install"
    fi
    [[ -f "$SRC_DIR/pyproject.toml" ]] || die "no pyproject.toml in $SRC_DIR: run the script from a printd checkout"
    [[ -f "$SRC_DIR/config/printd.toml" ]] || die "missing $SRC_DIR/config/printd.toml (the default station config)"
}

venv_bin() {
    # The venv the installed unit will run. A skipped venv is used where it is, unstaged.
    if [[ "$PRINTD_INSTALL_SKIP_VENV" == 1 ]]; then
        printf '%s/bin' "$PRINTD_VENV"
    else
        printf '%s%s/bin' "$DESTDIR" "$PRINTD_VENV"
    fi
}

install_venv() {
    if [[ "$PRINTD_INSTALL_SKIP_VENV" == 1 ]]; then
        log "PRINTD_INSTALL_SKIP_VENV=1: using the existing venv $PRINTD_VENV"
        return
    fi
    [[ -x "$PRINTD_PYTHON" ]] || die "$PRINTD_PYTHON not found: apt-get install python3 python3-venv (or set PRINTD_PYTHON)"
    "$PRINTD_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PRINTD_PYTHON is older than Python 3.11; $SUPPORTED"
    "$PRINTD_PYTHON" -c 'import ensurepip, venv' 2>/dev/null ||
        die "$PRINTD_PYTHON cannot create virtualenvs: apt-get install python3-venv"
    local venv="$DESTDIR$PRINTD_VENV"
    if [[ ! -x "$venv/bin/python" ]]; then
        log "creating the virtualenv $venv"
        "$PRINTD_PYTHON" -m venv "$venv"
    fi
    local wheels
    wheels="$(mktemp -d)"
    # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
    trap "rm -rf '$wheels'" EXIT
    log "building printd from $SRC_DIR"
    # shellcheck disable=SC2086  # PRINTD_PIP_ARGS is a list of pip options on purpose
    "$venv/bin/pip" wheel --quiet --no-deps $PRINTD_PIP_ARGS --wheel-dir "$wheels" "$SRC_DIR"
    log "installing printd and its dependencies into $venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --upgrade $PRINTD_PIP_ARGS "$wheels"/printd-*.whl
    # Same version number, newer code (an upgrade from a checkout): replace printd itself.
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --force-reinstall --no-deps $PRINTD_PIP_ARGS "$wheels"/printd-*.whl
}

install_files() {
    local unit="$DESTDIR$UNIT_DIR/printd.service"
    install -d -m 0755 "$DESTDIR$UNIT_DIR" "$DESTDIR$SYSUSERS_DIR" "$DESTDIR$TMPFILES_DIR" \
        "$DESTDIR$UDEV_DIR" "$DESTDIR$CONF_DIR" "$DESTDIR$DOC_DIR"
    # The unit names the venv's printd; follow PRINTD_VENV when it is not the default.
    sed "s#$DEFAULT_VENV/bin/printd#$PRINTD_VENV/bin/printd#g" \
        "$SRC_DIR/systemd/printd.service" >"$unit.tmp"
    chmod 0644 "$unit.tmp"
    mv -f "$unit.tmp" "$unit"
    install -m 0644 "$SRC_DIR/systemd/printd.sysusers.conf" "$DESTDIR$SYSUSERS_DIR/printd.conf"
    install -m 0644 "$SRC_DIR/systemd/printd.tmpfiles.conf" "$DESTDIR$TMPFILES_DIR/printd.conf"
    install -m 0644 "$SRC_DIR/systemd/70-printd-card-printers.rules" "$DESTDIR$UDEV_DIR/"
    install -m 0644 "$SRC_DIR/docs/install.md" "$DESTDIR$DOC_DIR/install.md"
    install -m 0644 "$SRC_DIR/config/printd.toml" "$DESTDIR$CONF_DIR/printd.toml.example"
    install -d -m 0755 "$DESTDIR$BIN_DIR"
    ln -sfn "$PRINTD_VENV/bin/printctl" "$DESTDIR$BIN_DIR/printctl"
    log "installed the unit, udev rule, sysusers and tmpfiles snippets, and $BIN_DIR/printctl"
}

create_user_and_dirs() {
    if [[ -n "$DESTDIR" ]]; then
        log "DESTDIR set: not creating the printd user or /var/lib/printd, /run/printd"
        log "  (on the station: systemd-sysusers $SYSUSERS_DIR/printd.conf && systemd-tmpfiles --create $TMPFILES_DIR/printd.conf)"
        return
    fi
    systemd-sysusers "$SYSUSERS_DIR/printd.conf"
    systemd-tmpfiles --create "$TMPFILES_DIR/printd.conf"
    log "user printd, group printd-operators, /var/lib/printd and /run/printd are in place"
}

install_config() {
    local conf="$DESTDIR$CONF_DIR/printd.toml"
    if [[ -e "$conf" ]]; then
        log "keeping the existing $CONF_DIR/printd.toml (the shipped default is printd.toml.example)"
        return
    fi
    install -m 0640 "$SRC_DIR/config/printd.toml" "$conf"
    if [[ -z "$DESTDIR" ]]; then
        # Readable by the daemon, not by everyone: it may name SNMPv3 key files.
        chgrp printd "$conf"
    fi
    log "installed the default config $CONF_DIR/printd.toml: edit it for this station"
}

check_config() {
    local printd
    printd="$(venv_bin)/printd"
    [[ -x "$printd" ]] || die "$printd is missing: the venv has no printd console script"
    if ! "$printd" check-config "$DESTDIR$CONF_DIR/printd.toml"; then
        die "$CONF_DIR/printd.toml is not valid (see above). Fix it, then run this script again; the service was not (re)started"
    fi
    log "config $CONF_DIR/printd.toml is valid"
}

reload_udev() {
    if [[ -n "$DESTDIR" ]]; then
        return
    fi
    if command -v udevadm >/dev/null && udevadm control --ping 2>/dev/null; then
        udevadm control --reload
        # Apply the rule to printers that are already plugged in.
        udevadm trigger --action=change --subsystem-match=usb
        log "udev rules reloaded"
    else
        log "udev is not running: the printer rule applies from the next boot (or run: udevadm control --reload && udevadm trigger --action=change --subsystem-match=usb)"
    fi
}

start_service() {
    if [[ -n "$DESTDIR" ]]; then
        log "staged into $DESTDIR; on the station run: systemctl daemon-reload && systemctl enable --now printd"
        return
    fi
    local state
    state="$(systemctl is-system-running 2>/dev/null || true)"
    case "$state" in
    running | degraded | starting | initializing | maintenance)
        systemctl daemon-reload
        systemctl enable printd
        # restart, not start: after an upgrade the new code must run (SIGTERM lets a card finish).
        systemctl restart printd
        log "printd is enabled and (re)started; check it with: systemctl status printd"
        ;;
    *)
        log "systemd is not running here (state: ${state:-unknown}); once it is, run:"
        log "  systemctl daemon-reload && systemctl enable --now printd"
        ;;
    esac
}

main() {
    preflight
    install_venv
    install_files
    create_user_and_dirs
    install_config
    check_config
    reload_udev
    start_service
    if [[ -z "$DESTDIR" ]]; then
        log "to let someone run printctl: usermod -aG printd-operators NAME (they must log in again)"
    fi
}

main "$@"
