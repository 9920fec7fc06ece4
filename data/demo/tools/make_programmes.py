#!/usr/bin/env python3
"""Writes the demo's programme layer (issue 17): the office's weekend service days, penduduk
rentan sites, the weekly car-free day as dated events, and the blangko stock.

Everything here is an assumption for the demo, not public data: the vulnerable sites are made up
("contoh" in their names, `synthetic = true`) and placed at the centroid of a real desa; the
office (Jl. Jawa No. 47) is real, its weekend counts are assumed; the car-free day on the
alun-alun is real, its place approximate and its visitors assumed. Standard library only;
byte-identical output on every run:

    python3 data/demo/tools/make_programmes.py
"""

import csv
import datetime
import io
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-30"


def desa():
    with open(OUT / "wilayah_desa_kelurahan.csv", encoding="utf-8", newline="") as f:
        return {r["kode"]: r for r in csv.DictReader(f)}


def write(name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    (OUT / name).write_bytes(buf.getvalue().encode("utf-8"))
    print(f"{name}: {len(rows)} rows")


SITE_HEADER = ["kind", "external_id", "name", "address", "region_code", "lat", "lon",
               "coord_quality", "opening_hours", "contact_name", "contact_email",
               "contact_phone", "active", "synthetic", "unrecorded_ktp_el", "unrecorded_kia",
               "unrecorded_akta_lahir", "unrecorded_ikd", "counts_as_of"]

# kind, id, name, desa code, contact, email, (ktp_el, kia, akta_lahir, ikd)
VULNERABLE = [
    ("lapas", "RENTAN-0001", "Lapas (contoh) Kaliwates", "35.09.19.1002", "Kasi Binadik",
     "binadik@lapas-kaliwates.contoh.example.org", (60, 0, 5, 80)),
    ("panti", "RENTAN-0002", "Panti Werdha (contoh) Kasiyan Timur", "35.09.08.2008",
     "Ibu Kepala Panti", "info@werdha-kasiyan.contoh.example.org", (25, 0, 10, 5)),
    ("panti", "RENTAN-0003", "Panti Asuhan (contoh) Patrang", "35.09.20.1007",
     "Bapak Pengasuh", "info@asuhan-patrang.contoh.example.org", (8, 35, 20, 0)),
    ("panti", "RENTAN-0004", "Panti Asuhan (contoh) Mangli", "35.09.19.1001",
     "Ibu Pengasuh", "", (6, 28, 12, 0)),
    ("rsj", "RENTAN-0005", "Bangsal Jiwa RS (contoh) Kepatihan", "35.09.19.1006",
     "Kepala Ruangan", "ruang.jiwa@rs-kepatihan.contoh.example.org", (18, 0, 4, 0)),
    ("komunitas_terpencil", "RENTAN-0006", "Dusun terpencil (contoh) Andongrejo",
     "35.09.18.2003", "Kepala Dusun", "", (45, 60, 30, 15)),
    ("komunitas_terpencil", "RENTAN-0007", "Dusun terpencil (contoh) Curahnongko",
     "35.09.18.2006", "Kepala Dusun", "", (30, 40, 25, 10)),
]

OFFICE = ("35.09.21.1002", "-8.162900", "113.716700")


def main():
    d = desa()
    rows = []
    for day, label in (("sat", "Sabtu"), ("sun", "Minggu")):
        code, lat, lon = OFFICE
        rows.append(["kantor", f"KANTOR-35.09-{day.upper()}",
                     f"Layanan {label} Dispendukcapil Jember", "Jl. Jawa No. 47, Sumbersari",
                     code, lat, lon, "approx", f"{day} 08:00-12:00",
                     "Koordinator jemput bola", "", "0331-000000", "true", "false",
                     40, 30, 20, 60, AS_OF])
    for kind, ext, name, code, contact, email, (ktp, kia, akta, ikd) in VULNERABLE:
        r = d[code]
        kec = r["kec_kode"]
        address = f"{'Kel.' if r['jenis'] == 'kelurahan' else 'Desa'} {r['nama']}"
        rows.append([kind, ext, name, address, code, f"{float(r['lat']):.6f}",
                     f"{float(r['lng']):.6f}", "centroid", "", contact, email, "", "true",
                     "true", ktp, kia, akta, ikd, AS_OF])
    write("situs_program_jember.csv", SITE_HEADER, rows)

    # The car-free day on the alun-alun, every Sunday for a year from the first demo week.
    events = []
    day = datetime.date(2026, 12, 6)
    while day <= datetime.date(2027, 12, 26):
        events.append([f"CFD-JEMBER-{day:%Y%m%d}", "Car Free Day Alun-alun Jember",
                       "keramaian", "Alun-alun Jember, Jl. Sudarman", "35.09.19.1006",
                       "-8.169700", "113.702200", "approx", day.isoformat(), "06:00", "10:00",
                       10, 120])
        day += datetime.timedelta(days=7)
    write("acara_jember.csv",
          ["external_id", "name", "kind", "address", "region_code", "lat", "lon",
           "coord_quality", "date", "start", "end", "expected_ktp_el", "expected_ikd"], events)

    write("stok_blangko_jember.csv", ["region_code", "as_of", "blangko_ktp_el", "blangko_kia"],
          [["35.09", AS_OF, 2000, 1500]])


if __name__ == "__main__":
    main()
