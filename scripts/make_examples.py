"""Make the example jobs in examples/: mock KTP-el cards with obviously fake data.

Every name and NIK here is invented (the NIKs use the 99 province code, which no province
has); the cards say SPESIMEN across the face. Run: .venv/bin/python scripts/make_examples.py
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = (1016, 648)
HOLDERS = [
    ("example-0001", "9901010101900001", "CONTOH SATU", "ktp-el", None),
    ("example-0002", "9901010202900002", "CONTOH DUA", "ktp-el", "nikah-0001"),
    ("example-0003", "9901010303900003", "CONTOH TIGA", "ktp-el", "nikah-0001"),
]


def card_front(nik: str, name: str) -> Image.Image:
    image = Image.new("RGB", SIZE, (176, 216, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SIZE[0], 90), fill=(30, 90, 160))
    draw.text((30, 20), "PROVINSI CONTOH", fill="white")
    draw.text((30, 50), "KABUPATEN SPESIMEN", fill="white")
    fields = [
        ("NIK", nik),
        ("Nama", name),
        ("Tempat/Tgl Lahir", "CONTOH, 01-01-1990"),
        ("Alamat", "JL. CONTOH NO. 1"),
        ("Agama", "-"),
        ("Pekerjaan", "CONTOH"),
    ]
    for row, (label, value) in enumerate(fields):
        y = 120 + row * 55
        draw.text((30, y), label, fill="black")
        draw.text((260, y), f": {value}", fill="black")
    draw.rectangle((760, 130, 960, 400), fill=(220, 220, 220), outline="black", width=3)
    draw.text((800, 250), "FOTO", fill="black")
    draw.text((330, 560), "SPESIMEN - BUKAN DOKUMEN RESMI", fill=(180, 0, 0))
    draw.rectangle((0, 620, SIZE[0], 648), fill=(0, 0, 0))
    return image


def card_back() -> Image.Image:
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.text((60, 60), "SPESIMEN - KARTU CONTOH UNTUK UJI CETAK", fill="black")
    draw.rectangle((60, 300, 956, 380), fill="black")
    return image


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "examples"
    out.mkdir(exist_ok=True)
    card_back().save(out / "back.png", optimize=True)
    for job_id, nik, name, document, batch in HOLDERS:
        card_front(nik, name).save(out / f"{job_id}-front.png", optimize=True)
        job = {
            "id": job_id,
            "document": document,
            "holder": {"nik": nik, "name": name},
            "front": f"{job_id}-front.png",
        }
        if batch:
            job["batch"] = batch
            job["back"] = "back.png"
        (out / f"{job_id}.json").write_text(json.dumps(job, indent=2) + "\n")


if __name__ == "__main__":
    main()
