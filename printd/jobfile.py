"""The job file (DESIGN §6): parse and validate, with errors that name the field.

Used by printctl (validate locally before sending) and by the API (never trust the client).
Only the PNG header is read here; the driver's raster step decodes the pixels.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pybase64

from printd.errors import JobError
from printd.queue.store import JobSpec

CARD_SIZE = (1016, 648)  # CR-80 at 300 dpi, landscape
MAX_IMAGE_BYTES = 50 * 1024 * 1024  # a printer-ready file: the vendor decides its size
# A card side is 1016×648 pixels. Stored without any compression at 16 bits per channel with
# alpha (the most PNG can spend on it) that is 5.3 MB, plus zlib's per-block bytes. Anything
# larger carries data that is not the card (padding, chunks after IEND) and would sit in the
# spool for spool_retention_days: refused, with the reason.
MAX_PNG_BYTES = 8 * 1024 * 1024
MAX_PNG_MB = MAX_PNG_BYTES // 2**20
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
NIK_PATTERN = re.compile(r"[0-9]{16}")  # \d would also take Arabic-Indic digits
DATA_URL_PREFIX = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KNOWN_FIELDS = {
    "id",
    "document",
    "holder",
    "front",
    "back",
    "batch",
    "priority",
    "ribbon_type",
    "printer_ready",
    "sides",
}
RAW_URL_PREFIX = "data:application/octet-stream;base64,"


@dataclass(frozen=True, slots=True)
class ParsedJob:
    spec: JobSpec
    images: tuple[bytes, ...]  # front, then back when present


def png_size(data: bytes, field: str) -> tuple[int, int]:
    if len(data) > MAX_PNG_BYTES:
        raise JobError(
            f"{field}: image is {len(data) // 2**20} MB; a card side is never more than "
            f"{MAX_PNG_MB} MB, so this file holds something else"
        )
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 33:
        raise JobError(f"{field}: not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    if (width, height) != CARD_SIZE:
        raise JobError(
            f"{field}: image is {width}×{height} pixels; a card side must be "
            f"{CARD_SIZE[0]}×{CARD_SIZE[1]} (CR-80 at 300 dpi, landscape)"
        )
    return width, height


def _image(value: Any, field: str, base: Path | None) -> bytes:
    if not isinstance(value, str) or not value:
        raise JobError(f"{field}: must be a PNG file path or a '{DATA_URL_PREFIX}…' string")
    if value.startswith(DATA_URL_PREFIX):
        try:
            # pybase64 (SIMD) decodes a card side ten times faster than the standard library:
            # at the office's batch rate decoding cost as much as storing.
            data = pybase64.b64decode(value[len(DATA_URL_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise JobError(f"{field}: the inline base64 image is not valid base64") from None
    else:
        if base is None:
            raise JobError(f"{field}: send the image inline (the daemon does not read paths)")
        path = (base / value).resolve()
        try:
            size = path.stat().st_size
            if size > MAX_PNG_BYTES:
                raise JobError(
                    f"{field}: {path} is {size // 2**20} MB; a card side is never more than "
                    f"{MAX_PNG_MB} MB, so this file holds something else"
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise JobError(f"{field}: image file {path} not found") from None
        except IsADirectoryError:
            raise JobError(f"{field}: {path} is a folder, not an image") from None
        except OSError as error:
            raise JobError(f"{field}: cannot read {path}: {error.strerror}") from None
    png_size(data, field)
    return data


def parse_job(raw: Any, *, base: Path | None = None) -> ParsedJob:
    """Validate a decoded job document. `base` resolves relative image paths (printctl)."""
    if not isinstance(raw, dict):
        raise JobError("a job must be a JSON object")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise JobError(f"{unknown[0]}: unknown field (known: {', '.join(sorted(KNOWN_FIELDS))})")
    job_id = raw.get("id")
    if not isinstance(job_id, str) or not ID_PATTERN.fullmatch(job_id):
        raise JobError(
            "id: required; 1–64 letters, digits, '.', '_', ':' or '-' (your own unique key)"
        )
    document = raw.get("document")
    if not isinstance(document, str) or not document or len(document) > 32:
        raise JobError("document: required, e.g. 'ktp-el'")
    holder = raw.get("holder")
    if not isinstance(holder, dict):
        raise JobError("holder: required object with 'nik' and 'name'")
    nik, name = holder.get("nik"), holder.get("name")
    if not isinstance(nik, str) or not NIK_PATTERN.fullmatch(nik):
        raise JobError("holder.nik: must be 16 digits")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise JobError("holder.name: required, at most 120 characters")
    extra = sorted(set(holder) - {"nik", "name"})
    if extra:
        raise JobError(f"holder.{extra[0]}: unknown field (only nik and name)")
    priority = raw.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -100 <= priority <= 100:
        raise JobError("priority: a whole number from -100 to 100 (higher prints first)")
    batch = raw.get("batch")
    if batch is not None and (not isinstance(batch, str) or not 0 < len(batch) <= 64):
        raise JobError("batch: a name of 1–64 characters")
    ribbon_type = raw.get("ribbon_type")
    if ribbon_type is not None and not isinstance(ribbon_type, str):
        raise JobError("ribbon_type: a ribbon code such as 'ymcko'")
    if raw.get("printer_ready") is not None:
        if "front" in raw or "back" in raw:
            raise JobError(
                "printer_ready: give either card images (front/back) or a printer-ready file"
            )
        sides = raw.get("sides")
        if sides not in (1, 2) or isinstance(sides, bool):
            raise JobError("sides: 1 or 2, the sides the printer-ready file prints (ribbon use)")
        data = _printer_ready(raw["printer_ready"], base)
        spec = JobSpec(
            id=job_id,
            document=document,
            holder={"nik": nik, "name": name},
            sides=sides,
            priority=priority,
            batch=batch,
            ribbon_type=ribbon_type,
            printer_ready=True,
        )
        return ParsedJob(spec, (data,))
    if "sides" in raw:
        raise JobError("sides: only with printer_ready (card images say how many sides)")
    if "front" not in raw:
        raise JobError("front: required (PNG path or inline base64)")
    images = [_image(raw["front"], "front", base)]
    if raw.get("back") is not None:
        images.append(_image(raw["back"], "back", base))
    spec = JobSpec(
        id=job_id,
        document=document,
        holder={"nik": nik, "name": name},
        sides=len(images),
        priority=priority,
        batch=batch,
        ribbon_type=ribbon_type,
    )
    return ParsedJob(spec, tuple(images))


def _printer_ready(value: Any, base: Path | None) -> bytes:
    """A vendor-rendered print file for a raw printer, sent to it untouched."""
    field = "printer_ready"
    if not isinstance(value, str) or not value:
        raise JobError(f"{field}: a file path or a '{RAW_URL_PREFIX}…' string")
    if value.startswith(RAW_URL_PREFIX):
        try:
            data = pybase64.b64decode(value[len(RAW_URL_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise JobError(f"{field}: the inline file is not valid base64") from None
    else:
        if base is None:
            raise JobError(f"{field}: send the file inline (the daemon does not read paths)")
        path = (base / value).resolve()
        try:
            if path.stat().st_size > MAX_IMAGE_BYTES:
                raise JobError(f"{field}: {path} is over the 50 MB limit")
            data = path.read_bytes()
        except FileNotFoundError:
            raise JobError(f"{field}: file {path} not found") from None
        except OSError as error:
            raise JobError(f"{field}: cannot read {path}: {error.strerror}") from None
    if not data:
        raise JobError(f"{field}: the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise JobError(f"{field}: the file is over the 50 MB limit")
    return data


def load_job_file(path: Path) -> ParsedJob:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JobError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise JobError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        # The system's reason, not Python's exception text: an operator reads this.
        raise JobError(f"{path}: cannot read: {error.strerror}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        # Where, not the parser's English words: the place is what an operator needs to fix.
        raise JobError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    try:
        return parse_job(raw, base=path.parent)
    except JobError as error:
        raise JobError(f"{path}: {error}") from None


def inline(parsed: ParsedJob) -> dict[str, Any]:
    """The job as the API receives it: images inline, so the daemon never reads user paths."""
    body: dict[str, Any] = {
        "id": parsed.spec.id,
        "document": parsed.spec.document,
        "holder": parsed.spec.holder,
        "priority": parsed.spec.priority,
    }
    if parsed.spec.printer_ready:
        body["printer_ready"] = RAW_URL_PREFIX + base64.b64encode(parsed.images[0]).decode()
        body["sides"] = parsed.spec.sides
    else:
        body["front"] = DATA_URL_PREFIX + base64.b64encode(parsed.images[0]).decode()
    if len(parsed.images) > 1:
        body["back"] = DATA_URL_PREFIX + base64.b64encode(parsed.images[1]).decode()
    if parsed.spec.batch:
        body["batch"] = parsed.spec.batch
    if parsed.spec.ribbon_type:
        body["ribbon_type"] = parsed.spec.ribbon_type
    return body
