#!/usr/bin/env bash
# Remove printd from a print station. Safe to run again.
#
#   sudo scripts/uninstall.sh          (or: sudo make uninstall)
#       stops and disables the service, removes the program, unit, udev rule and snippets.
#       KEEPS /etc/printd (the config) and /var/lib/printd (the queue and the blanks/ribbon
#       ledger that offices reconcile and audit) and the printd user that owns them.
#   sudo scripts/uninstall.sh --purge
#       also deletes the config, the queue, the ledger and the spool, and the printd user and
#       printd-operators group. Export the ledger first (printctl report) if it may be needed.
#
# Environment: DESTDIR and PRINTD_VENV as for install.sh.
set -euo pipefail

DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
PRINTD_VENV="${PRINTD_VENV:-/opt/printd/venv}"

readonly UNIT_DIR=/usr/local/lib/systemd/system
readonly SYSUSERS_DIR=/usr/local/lib/sysusers.d
readonly TMPFILES_DIR=/usr/local/lib/tmpfiles.d
readonly UDEV_DIR=/usr/local/lib/udev/rules.d
readonly CONF_DIR=/etc/printd
readonly STATE_DIR=/var/lib/printd
readonly RUNTIME_DIR=/run/printd
readonly OPT_DIR=/opt/printd

log() { printf 'uninstall.sh: %s\n' "$*"; }
die() {
    printf 'uninstall.sh: error: %s\n' "$*" >&2
    exit 1
}

purge=0
for arg in "$@"; do
    case "$arg" in
    --purge) purge=1 ;;
    *) die "unknown argument '$arg' (the only option is --purge)" ;;
    esac
done

if [[ -z "$DESTDIR" && "$(id -u)" -ne 0 ]]; then
    die "run as root (sudo scripts/uninstall.sh), or set DESTDIR= for a staged tree"
fi

systemd_running() {
    local state
    state="$(systemctl is-system-running 2>/dev/null || true)"
    case "$state" in
    running | degraded | starting | initializing | maintenance) return 0 ;;
    *) return 1 ;;
    esac
}

if [[ -z "$DESTDIR" ]] && systemd_running; then
    # stop first: SIGTERM lets the card in the printer finish.
    systemctl disable --now printd 2>/dev/null || true
fi

rm -f "$DESTDIR$UNIT_DIR/printd.service" \
    "$DESTDIR$SYSUSERS_DIR/printd.conf" \
    "$DESTDIR$TMPFILES_DIR/printd.conf" \
    "$DESTDIR$UDEV_DIR/70-printd-card-printers.rules" \
    "$DESTDIR$CONF_DIR/printd.toml.example"
# The printctl link install.sh made; a printctl there that is not ours is left alone.
if [[ -L "$DESTDIR/usr/local/bin/printctl" &&
    "$(readlink "$DESTDIR/usr/local/bin/printctl")" == "$PRINTD_VENV/bin/printctl" ]]; then
    rm -f "$DESTDIR/usr/local/bin/printctl"
fi
rm -rf "$DESTDIR$OPT_DIR/share"
# Only the default venv is removed; a venv elsewhere was set up by hand.
if [[ "$PRINTD_VENV" == "$OPT_DIR/venv" ]]; then
    rm -rf "$DESTDIR$OPT_DIR/venv"
fi
rmdir "$DESTDIR$OPT_DIR" 2>/dev/null || true
log "removed the program, unit, udev rule and snippets"

if [[ -z "$DESTDIR" ]]; then
    if systemd_running; then
        systemctl daemon-reload
    fi
    if command -v udevadm >/dev/null && udevadm control --ping 2>/dev/null; then
        udevadm control --reload
    fi
fi

if [[ "$purge" == 1 ]]; then
    rm -rf "$DESTDIR$CONF_DIR" "$DESTDIR$STATE_DIR" "$DESTDIR$RUNTIME_DIR"
    if [[ -z "$DESTDIR" ]]; then
        if getent passwd printd >/dev/null; then userdel printd; fi
        if getent group printd >/dev/null; then groupdel printd; fi
        if getent group printd-operators >/dev/null; then groupdel printd-operators; fi
    fi
    log "purged the config, queue, ledger and spool, and the printd user"
else
    log "kept $CONF_DIR (config) and $STATE_DIR (queue and ledger); --purge deletes them"
fi
