#!/usr/bin/env python3
"""Deterministic generator for jemput's Kabupaten Jember demo data set.

Usage (from the repository root):

    python3 data/demo/tools/make_demo.py /work/shared

Reads the read-only inputs in <shared>/data/wilayah/ and <shared>/data/sekolah/ and
(re)writes every file in data/demo/ (this script's parent folder's parent). Output is
byte-identical on every run: fixed seeds, sorted rows, UTF-8, "\\n" line endings.
Python 3.11 standard library only.
"""

import csv
import io
import json
import math
import random
import re
import sys
import unicodedata
from fractions import Fraction
from pathlib import Path

SEED = 3509  # base seed; each stream below uses SEED * 100 + k
KAB = "35.09"
PROV = "35"
AS_OF = "2024-09-30"
COVERAGE_SOURCE = "sintetis (DP3AK Jatim Sept 2024, dibagi per kecamatan)"
URBAN_KEC = ("Kaliwates", "Patrang", "Sumbersari")

# Kabupaten totals (Jember, Sept 2024; see README / shared/design/domain.md section 2).
# indicator: (eligible, holders, noise amplitude in points, urban bonus in points)
KAB_TOTALS = {
    "ktp_el": (2018069, 1989816, 0.6, 0.3),
    "kia": (589976, 292982, 6.0, 4.0),
    "akta_lahir": (665000, 653695, 1.2, 0.6),
    "ikd": (2018069, 96867, 2.0, 1.5),
}
INDICATORS = ("ktp_el", "kia", "akta_lahir", "ikd")

# Synthetic unit totals (shared/data/sekolah/README.md, "Guidance for a realistic synthetic complement").
N_PAUD = 1800
PAUD_MIX = (("tk", 720), ("kb", 540), ("ra", 360), ("sps", 180))  # 40/30/20/10 %
N_MI = 300
N_MTS = 200  # 14 kecamatan x 7 + 17 x 6
N_MA = 90  # 6 kecamatan x 4 (3 urban + 3 drawn) + 16 x 3 + 9 x 2

# Enrolment per unit type: every unit gets its type's mean (no per-school source exists, and a
# random draw would present noise as a difference between schools).
ENROL_MEAN = {"tk": 39.0, "kb": 29.0, "ra": 35.0, "sps": 25.0,
              "mi": 0.8 * 160, "mts": 0.8 * 235, "ma": 0.8 * 370}
MA_ADULT_SHARE = 0.45  # grade XII plus part of XI

UNIT_KIND = {"tk": "tk", "kb": "paud", "ra": "ra", "sps": "paud",
             "mi": "mi", "mts": "mts", "ma": "ma"}
UNIT_ORDER = {"tk": 0, "kb": 1, "ra": 2, "sps": 3, "mi": 4, "mts": 5, "ma": 6}

NAME_BASES = {
    "tk": ["TK Dharma Wanita", "TK Muslimat NU", "TK Aisyiyah Bustanul Athfal", "TK PGRI",
           "TK Al-Hidayah", "TK Tunas Harapan"],
    "kb": ["KB Melati", "KB Mawar", "KB Al-Ikhlas", "KB Tunas Bangsa", "KB Permata Hati",
           "KB Harapan Bunda"],
    "ra": ["RA Al-Hidayah", "RA Muslimat NU", "RA Nurul Islam", "RA Al-Falah",
           "RA Miftahul Huda", "RA Perwanida"],
    "sps": ["SPS Posyandu Melati", "SPS Kartini", "TPA Bina Balita", "TPA Al-Ikhlas",
            "SPS Pos PAUD Mawar"],
    "mi": ["MI Miftahul Ulum", "MI Nurul Islam", "MI Darul Ulum", "MI Al-Ma'arif",
           "MI Salafiyah", "MI Bustanul Ulum", "MI Nurul Huda", "MI Raudlatul Ulum"],
    "mts": ["MTs Nurul Huda", "MTs Miftahul Ulum", "MTs Darul Ulum", "MTs Nurul Islam",
            "MTs Al-Ma'arif", "MTs Bustanul Ulum", "MTs Raudlatul Ulum", "MTs Nurul Jadid",
            "MTs Al-Hidayah", "MTs Darussalam"],
    "ma": ["MA Darussalam", "MA Nurul Jadid", "MA Al-Amien", "MA Miftahul Ulum",
           "MA Darul Falah", "MA Bahrul Ulum", "MA Nurul Qarnain", "MA Al-Falah"],
}

CONTACT_NAMES = [
    "Ibu Siti Aminah", "Ibu Nur Hasanah", "Ibu Sri Wahyuni", "Ibu Dewi Kartika",
    "Ibu Umi Kulsum", "Ibu Lilik Suryani", "Ibu Yuni Astutik", "Ibu Endang Susilowati",
    "Ibu Khotimah", "Ibu Rina Marlina", "Bapak Ahmad Syaiful", "Bapak Moh. Hasan",
    "Bapak Abdul Rohman", "Bapak Slamet Riyadi", "Bapak Imam Syafii", "Bapak Hadi Purnomo",
    "Bapak Sugeng Hariyanto", "Bapak Muhammad Zainuri", "Bapak Agus Salim", "Bapak Suparman",
]

SITE_HEADER = ["kind", "external_id", "name", "address", "region_code", "lat", "lon",
               "coord_quality", "eligible_ktp_el", "eligible_kia", "eligible_akta_lahir",
               "eligible_ikd", "opening_hours", "contact_name", "contact_email",
               "contact_phone", "active", "synthetic"]

# School calendar of Jawa Timur for the demo weeks. Assumed: the 2026/2027 calendar is not
# published yet; the dates follow the pattern of earlier years (end-of-semester assessment in the
# first full week of December, semester holiday from the week before Christmas).
CALENDAR = [
    ("35", "Penilaian Akhir Semester ganjil 2026/2027", "2026-12-07", "2026-12-12",
     "sd;mi;smp;mts;sma;smk;ma;slb"),
    ("35", "Libur semester ganjil 2026/2027", "2026-12-21", "2027-01-02", ""),
]

TEAMS = [
    # team, base_name, base (lat, lon) or kecamatan name, kits, capabilities, working hours, members
    ("Tim 1", "Dispendukcapil Jember, Jl. Jawa No. 47, Sumbersari", ("-8.1629", "113.7167"), 3,
     "ktp_el;kia;akta_lahir;ikd;cetak_kartu", "mon-thu 07:30-15:30; fri 07:30-11:00; sun 06:00-12:00",
     [("Rina Wulandari", "id"), ("Agus Setiawan", "id"), ("Dewi Lestari", "id")]),
    ("Tim 2", "Dispendukcapil Jember, Jl. Jawa No. 47, Sumbersari", ("-8.1629", "113.7167"), 2,
     "ktp_el;kia;akta_lahir;ikd", "mon-thu 07:30-15:30; fri 07:30-11:00; sat 07:00-12:00",
     [("Budi Santoso", "id"), ("Maya Anggraini", "en"), ("Hendra Kurniawan", "id")]),
    ("Tim 3", "Kantor Kecamatan Kencong", "Kencong", 2,
     "ktp_el;kia;ikd", "mon-thu 07:30-15:30; fri 07:30-11:00",
     [("Ahmad Fauzi", "id"), ("Nur Hidayati", "id"), ("Eko Prasetyo", "id")]),
    ("Tim 4", "Kantor Kecamatan Kalisat", "Kalisat", 2,
     "ktp_el;kia;akta_lahir;ikd", "mon-thu 07:30-15:30; fri 07:30-11:00; sun 06:00-11:00",
     [("Fitri Handayani", "id"), ("Joko Susilo", "id"), ("Yusuf Hakim", "id")]),
]

TARGETS = [("ktp_el", "99.4"), ("kia", "60"), ("akta_lahir", "98"), ("ikd", "30")]
TARGET_YEARS = (2025, 2026)


# ------------------------------------------------------------------------------------------
# helpers

def rng(k):
    return random.Random(SEED * 100 + k)


def write_bytes(path, data):
    path.write_bytes(data)


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return len(rows)


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def filter_csv_lines(src, dst, keep):
    """Copy the header and the raw lines whose parsed row satisfies keep(row)."""
    text = src.read_bytes().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = next(csv.reader([lines[0]]))
    out = [lines[0]]
    for line in lines[1:]:
        row = dict(zip(header, next(csv.reader([line]))))
        if keep(row):
            out.append(line)
    dst.write_bytes(("\n".join(out) + "\n").encode("utf-8"))
    return len(out) - 1


def dump_geojson(path, obj):
    path.write_bytes(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def largest_remainder(total, weights):
    """Split integer total in proportion to weights (exact Fractions); ties by index."""
    weights = [Fraction(w) for w in weights]
    s = sum(weights)
    quotas = [Fraction(total) * w / s for w in weights]
    floors = [q.numerator // q.denominator for q in quotas]
    rest = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:rest]:
        floors[i] += 1
    return floors


def capped_allocation(total, raw, caps):
    """Integers h_i with 0 <= h_i <= caps_i, sum == total, close to raw (float) values."""
    assert 0 <= total <= sum(caps)
    vals = [min(max(r, 0.0), c) for r, c in zip(raw, caps)]
    for _ in range(100):
        free = [i for i in range(len(vals)) if vals[i] < caps[i]]
        fixed = sum(vals[i] for i in range(len(vals)) if i not in free)
        fs = sum(vals[i] for i in free)
        if fs <= 0:
            break
        f = (total - fixed) / fs
        new = [min(vals[i] * f, caps[i]) if i in free else vals[i] for i in range(len(vals))]
        if all(abs(a - b) < 1e-9 for a, b in zip(new, vals)):
            vals = new
            break
        vals = new
    ints = [min(int(math.floor(v)), c) for v, c in zip(vals, caps)]
    rest = total - sum(ints)
    order = sorted(range(len(vals)), key=lambda i: (-(vals[i] - ints[i]), i))
    while rest > 0:
        for i in order:
            if rest == 0:
                break
            if ints[i] < caps[i]:
                ints[i] += 1
                rest -= 1
    while rest < 0:
        for i in reversed(order):
            if rest == 0:
                break
            if ints[i] > 0:
                ints[i] -= 1
                rest += 1
    assert sum(ints) == total and all(0 <= h <= c for h, c in zip(ints, caps))
    return ints


def slugify(s):
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s


def point_in_ring(x, y, ring):
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y):
            xcross = (xj - xi) * (y - yi) / (yj - yi) + xi
            if x < xcross:
                inside = not inside
        j = i
    return inside


def point_in_multipolygon(x, y, mp):
    for poly in mp:
        if point_in_ring(x, y, poly[0]) and not any(point_in_ring(x, y, h) for h in poly[1:]):
            return True
    return False


def mp_bbox(mp):
    xs = [p[0] for poly in mp for ring in poly for p in ring]
    ys = [p[1] for poly in mp for ring in poly for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def random_point(r, mp, bbox):
    x0, y0, x1, y1 = bbox
    for _ in range(100000):
        x = r.uniform(x0, x1)
        y = r.uniform(y0, y1)
        if point_in_multipolygon(x, y, mp):
            return y, x  # lat, lon
    raise RuntimeError("rejection sampling failed")


def fmt6(v):
    s = f"{v:.6f}"
    return "0.000000" if s == "-0.000000" else s


def half_up(x):
    return int(math.floor(x + 0.5))


# ------------------------------------------------------------------------------------------
# main

def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_demo.py <shared dir, e.g. /work/shared>")
    shared = Path(sys.argv[1])
    wil = shared / "data" / "wilayah"
    sek = shared / "data" / "sekolah"
    out = Path(__file__).resolve().parent.parent
    out.mkdir(parents=True, exist_ok=True)
    counts = {}

    # 1. wilayah extracts ---------------------------------------------------------------
    counts["wilayah_provinsi.csv"] = filter_csv_lines(
        wil / "provinsi.csv", out / "wilayah_provinsi.csv", lambda r: r["kode"] == PROV)
    counts["wilayah_kabupaten_kota.csv"] = filter_csv_lines(
        wil / "kabupaten_kota.csv", out / "wilayah_kabupaten_kota.csv", lambda r: r["kode"] == KAB)
    counts["wilayah_kecamatan.csv"] = filter_csv_lines(
        wil / "kecamatan.csv", out / "wilayah_kecamatan.csv", lambda r: r["kab_kode"] == KAB)
    counts["wilayah_desa_kelurahan.csv"] = filter_csv_lines(
        wil / "desa_kelurahan.csv", out / "wilayah_desa_kelurahan.csv",
        lambda r: r["kab_kode"] == KAB)
    assert counts["wilayah_kecamatan.csv"] == 31 and counts["wilayah_desa_kelurahan.csv"] == 248

    kab_geo = json.loads((wil / "kabupaten_kota.geojson").read_text(encoding="utf-8"))
    kab_geo["features"] = [f for f in kab_geo["features"] if f["properties"]["kode"] == KAB]
    assert len(kab_geo["features"]) == 1
    dump_geojson(out / "batas_kabupaten.geojson", kab_geo)
    counts["batas_kabupaten.geojson"] = 1

    kec_geo = json.loads((wil / "kecamatan.geojson").read_text(encoding="utf-8"))
    kec_geo["features"] = [f for f in kec_geo["features"] if f["properties"]["kab_kode"] == KAB]
    assert len(kec_geo["features"]) == 31
    dump_geojson(out / "batas_kecamatan.geojson", kec_geo)
    counts["batas_kecamatan.geojson"] = 31

    desa_geo = json.loads((wil / "desa_kelurahan_jember_3509.geojson").read_text(encoding="utf-8"))
    dump_geojson(out / "batas_desa_kelurahan.geojson", desa_geo)
    counts["batas_desa_kelurahan.geojson"] = len(desa_geo["features"])
    shapes = {f["properties"]["kode"]: f["geometry"]["coordinates"] for f in desa_geo["features"]}

    # 2. sekolah copy + licences ---------------------------------------------------------
    src = (sek / "sekolah_jember_3509.csv").read_bytes()
    write_bytes(out / "sekolah_jember_3509.csv", src)
    counts["sekolah_jember_3509.csv"] = src.count(b"\n") - 1
    write_bytes(out / "LICENSE-wilayah.txt", (wil / "LICENSE-upstream.txt").read_bytes())
    write_bytes(out / "LICENSE-sekolah.txt", (sek / "LICENSE-upstream.txt").read_bytes())

    # regions ---------------------------------------------------------------------------
    kecs = sorted((r for r in read_csv(wil / "kecamatan.csv") if r["kab_kode"] == KAB),
                  key=lambda r: r["kode"])
    kec_by_code = {k["kode"]: k for k in kecs}
    desas = sorted((r for r in read_csv(wil / "desa_kelurahan.csv") if r["kab_kode"] == KAB),
                   key=lambda r: r["kode"])
    desa_by_kec = {k["kode"]: [d for d in desas if d["kec_kode"] == k["kode"]] for k in kecs}
    urban_codes = {k["kode"] for k in kecs if k["nama"] in URBAN_KEC}
    assert len(urban_codes) == 3
    rekap = {r["kec_kode"]: int(r["SD"]) for r in read_csv(sek / "rekap_jenjang_per_kecamatan_jember.csv")}
    assert sorted(rekap) == [k["kode"] for k in kecs]

    # 4. coverage per kecamatan -----------------------------------------------------------
    kec_codes = [k["kode"] for k in kecs]
    sd_weights = [rekap[c] for c in kec_codes]
    cov = {}  # (kec, indicator) -> (eligible, holders)
    r_cov = rng(4)
    noise = {}
    for ind in INDICATORS:  # draw noise in a fixed order
        amp = KAB_TOTALS[ind][2]
        noise[ind] = [r_cov.uniform(-amp, amp) for _ in kec_codes]
    elig_ktp = largest_remainder(KAB_TOTALS["ktp_el"][0], sd_weights)
    for ind in INDICATORS:
        el_total, h_total, _amp, bonus = KAB_TOTALS[ind]
        elig = elig_ktp if ind in ("ktp_el", "ikd") else largest_remainder(el_total, sd_weights)
        assert sum(elig) == el_total
        rate = h_total / el_total * 100
        raw = []
        for i, c in enumerate(kec_codes):
            rt = rate + noise[ind][i] + (bonus if c in urban_codes else 0.0)
            raw.append(elig[i] * rt / 100)
        holders = capped_allocation(h_total, raw, elig)
        for i, c in enumerate(kec_codes):
            cov[(c, ind)] = (elig[i], holders[i])
    cov_rows = sorted(
        ([c, ind, e, h, AS_OF, COVERAGE_SOURCE] for (c, ind), (e, h) in cov.items()),
        key=lambda r: (r[0], r[1]))
    counts["cakupan_kecamatan_jember.csv"] = write_csv(
        out / "cakupan_kecamatan_jember.csv",
        ["region_code", "indicator", "eligible", "holders", "as_of", "source"], cov_rows)

    # 5. national targets ---------------------------------------------------------------
    tgt_rows = sorted(([ind, y, "nasional", p] for y in TARGET_YEARS for ind, p in TARGETS),
                      key=lambda r: (r[1], r[0]))
    counts["target_nasional.csv"] = write_csv(
        out / "target_nasional.csv", ["indicator", "year", "scope", "percent"], tgt_rows)

    # 3. synthetic sites -------------------------------------------------------------------
    # 3a. how many units of each type in each desa
    units = []  # dicts: type, desa (row), kec (row)
    r_cnt = rng(1)
    paud_w = [Fraction(round(r_cnt.lognormvariate(0.0, 0.25), 6)) for _ in desas]
    paud_n = largest_remainder(N_PAUD, paud_w)
    paud_types = [t for t, n in PAUD_MIX for _ in range(n)]
    r_cnt.shuffle(paud_types)
    k = 0
    for d, n in zip(desas, paud_n):
        for _ in range(n):
            units.append({"type": paud_types[k], "desa": d})
            k += 1
    assert k == N_PAUD
    # MI: one per desa/kelurahan, plus a second one in N_MI - 248 rural desa
    rural_desa = [d for d in desas if d["jenis"] == "desa" and d["kec_kode"] not in urban_codes]
    extra = set(x["kode"] for x in r_cnt.sample(rural_desa, N_MI - len(desas)))
    for d in desas:
        for _ in range(2 if d["kode"] in extra else 1):
            units.append({"type": "mi", "desa": d})
    # MTs: 6 or 7 per kecamatan
    seven = set(r_cnt.sample(kec_codes, N_MTS - 6 * len(kec_codes)))
    # MA: 4 in the urban kecamatan and 3 drawn others, 2 in 9 drawn, 3 elsewhere
    rural_kec = [c for c in kec_codes if c not in urban_codes]
    ma_four = set(urban_codes) | set(r_cnt.sample(rural_kec, 3))
    ma_two = set(r_cnt.sample([c for c in rural_kec if c not in ma_four], 9))
    for c in kec_codes:
        n_mts = 7 if c in seven else 6
        n_ma = 4 if c in ma_four else (2 if c in ma_two else 3)
        for t, n in (("mts", n_mts), ("ma", n_ma)):
            for _ in range(n):
                units.append({"type": t, "desa": r_cnt.choice(desa_by_kec[c])})
    assert sum(1 for u in units if u["type"] == "mts") == N_MTS
    assert sum(1 for u in units if u["type"] == "ma") == N_MA

    # 3b. names: desa-level units use the desa name, MTs/MA the kecamatan name
    r_name = rng(2)
    for u in units:
        u["kec"] = kec_by_code[u["desa"]["kec_kode"]]
    by_group = {}
    for u in units:
        if u["type"] in ("mts", "ma"):
            key = (u["type"], u["kec"]["kode"])
        else:
            key = (u["type"], u["desa"]["kode"])
        by_group.setdefault(key, []).append(u)
    for key in sorted(by_group):
        t = key[0]
        group = by_group[key]
        if t in ("mts", "ma"):
            bases = r_name.sample(NAME_BASES[t], len(group))
            place = group[0]["kec"]["nama"]
        else:
            bases = [r_name.choice(NAME_BASES[t]) for _ in group]
            place = group[0]["desa"]["nama"]
        names = [f"{b} {place}" for b in bases]
        seen = {}
        for nm in names:
            seen[nm] = seen.get(nm, 0) + 1
        num = {}
        for u, nm in zip(group, names):
            if seen[nm] > 1:
                num[nm] = num.get(nm, 0) + 1
                nm = f"{nm} {num[nm]:02d}"
            u["name"] = nm

    # 3c. ids in sorted order, then coordinates, enrolment and contacts in id order
    units.sort(key=lambda u: (u["desa"]["kode"], UNIT_ORDER[u["type"]], u["name"]))
    names_seen = set()
    for i, u in enumerate(units, start=1):
        u["id"] = f"{99000000 + i:08d}"
        assert (u["desa"]["kode"], u["name"]) not in names_seen
        names_seen.add((u["desa"]["kode"], u["name"]))
    assert len(units) < 1000000
    r_pos = rng(3)
    bboxes = {}
    for u in units:
        code = u["desa"]["kode"]
        if code not in bboxes:
            bboxes[code] = mp_bbox(shapes[code])
        u["lat"], u["lon"] = random_point(r_pos, shapes[code], bboxes[code])
    r_contact = rng(6)
    slugs = set()
    site_rows = []

    def address(d):
        lvl = "Kel." if d["jenis"] == "kelurahan" else "Desa"
        return f"{lvl} {d['nama']}, Kec. {kec_by_code[d['kec_kode']]['nama']}"

    def unique_slug(base, alt):
        s = slugify(base)
        if s in slugs:
            s = slugify(f"{base} {alt}")
        n = 2
        root = s
        while s in slugs:
            s = f"{root}-{n}"
            n += 1
        slugs.add(s)
        return s

    type_totals = {}
    for u in units:
        t = u["type"]
        enr = half_up(ENROL_MEAN[t])
        if t == "ma":
            ktp = half_up(enr * MA_ADULT_SHARE)
            el = (ktp, enr - ktp, enr, ktp)
        else:
            el = (0, enr, enr, 0)
        contact = r_contact.choice(CONTACT_NAMES)
        if t in ("mi", "mts", "ma", "tk"):
            email = f"info@{unique_slug(u['name'], u['kec']['nama'])}.sch.example.org"
        else:
            email = ""
        # No opening hours: nobody asked these schools; the kind's configured default applies.
        site_rows.append([UNIT_KIND[t], u["id"], u["name"], address(u["desa"]), u["desa"]["kode"],
                          fmt6(u["lat"]), fmt6(u["lon"]), "synthetic", *el, "", contact, email,
                          "", "true", "true"])
        tt = type_totals.setdefault(t, [0, 0])
        tt[0] += 1
        tt[1] += enr

    # 3d. one balai desa / kantor kelurahan per desa, eligible = the desa's share of the
    # kecamatan by its number of real schools (plus one): schools follow where people live,
    # area does not (forest desa such as Andongrejo are huge and thinly settled).
    schools_in_desa = {}
    with open(sek / "sekolah_jember_3509.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["geo_check"] == "ok":
                schools_in_desa[row["desa_kode_geo"]] = schools_in_desa.get(row["desa_kode_geo"], 0) + 1
    desa_el = {}
    for c in kec_codes:
        ds = desa_by_kec[c]
        w = [Fraction(1 + schools_in_desa.get(d["kode"], 0)) for d in ds]
        for ind in INDICATORS:
            for d, v in zip(ds, largest_remainder(cov[(c, ind)][0], w)):
                desa_el[(d["kode"], ind)] = v
    for d in desas:
        kel = d["jenis"] == "kelurahan"
        name = f"{'Kantor Kelurahan' if kel else 'Balai Desa'} {d['nama']}"
        contact = r_contact.choice(CONTACT_NAMES)
        slug = unique_slug(d["nama"], kec_by_code[d["kec_kode"]]["nama"])
        email = f"info@{slug}.{'kel' if kel else 'desa'}.example.org"
        el = [desa_el[(d["kode"], ind)] for ind in INDICATORS]
        # Every desa has its office: a real place, located at the desa centroid.
        site_rows.append(["balai_desa", f"BD-{d['kode']}", name, address(d), d["kode"],
                          d["lat"], d["lng"], "centroid", *el, "", contact,
                          email, "", "true", "false"])
    site_rows.sort(key=lambda r: (r[4], r[1]))
    ids = [r[1] for r in site_rows]
    assert len(ids) == len(set(ids))
    counts["situs_sintetis_jember.csv"] = write_csv(out / "situs_sintetis_jember.csv",
                                                    SITE_HEADER, site_rows)

    # 5. school calendar ------------------------------------------------------------------
    counts["kalender_sekolah_jember.csv"] = write_csv(
        out / "kalender_sekolah_jember.csv", ["region_code", "name", "start", "end", "kinds"],
        [list(r) for r in CALENDAR])

    # 6. teams ----------------------------------------------------------------------------
    kec_by_name = {k["nama"]: k for k in kecs}
    team_rows = []
    emails = set()
    for team, base_name, base, kits, caps, hours, members in TEAMS:
        if isinstance(base, str):
            k = kec_by_name[base]
            lat, lon = f"{float(k['lat']):.4f}", f"{float(k['lng']):.4f}"
        else:
            lat, lon = base
        tslug = team.lower().replace(" ", "")
        for mname, lang in members:
            email = f"{slugify(mname.split()[0])}.{tslug}@dispendukcapil.example.org"
            assert email not in emails
            emails.add(email)
            team_rows.append([team, KAB, base_name, lat, lon, kits, caps, hours, mname, email, lang])
    counts["tim_jember.csv"] = write_csv(
        out / "tim_jember.csv",
        ["team", "kabupaten", "base_name", "base_lat", "base_lon", "kits", "capabilities",
         "working_hours", "member_name", "member_email", "member_language"], team_rows)

    # 7. README -----------------------------------------------------------------------------
    kind_counts = {}
    for r in site_rows:
        kind_counts[r[0]] = kind_counts.get(r[0], 0) + 1
    cov_sums = {}
    for ind in INDICATORS:
        e = sum(cov[(c, ind)][0] for c in kec_codes)
        h = sum(cov[(c, ind)][1] for c in kec_codes)
        cov_sums[ind] = (e, h)
    readme = render_readme(counts, kind_counts, type_totals, cov_sums, team_rows)
    (out / "README.md").write_bytes(readme.encode("utf-8"))

    # summary on stdout -------------------------------------------------------------------
    for name in sorted(counts):
        print(f"{name}: {counts[name]} {'features' if name.endswith('.geojson') else 'rows'}")
    print("sites by kind:", ", ".join(f"{k}={v}" for k, v in sorted(kind_counts.items())))
    for ind in INDICATORS:
        e, h = cov_sums[ind]
        print(f"cakupan {ind}: eligible {e}, holders {h}, {h / e * 100:.2f} %")


def render_readme(counts, kind_counts, type_totals, cov_sums, team_rows):
    def n(x):
        return f"{x:,}"

    tt = type_totals
    lines = []
    a = lines.append
    a("# Demo data: Kabupaten Jember (35.09)")
    a("")
    a("This folder is the demo and test data set for jemput. Part of it is **real public data**,")
    a("extracted unchanged from `shared/data/`. The rest is **synthetic**: made up by a fixed-seed")
    a("generator so that the planner has PAUD/madrasah sites, village offices, per-kecamatan")
    a("coverage figures and teams to work with. Synthetic figures are **not** real statistics.")
    a("")
    a("Everything here is written by `tools/make_demo.py`. Do not edit the files by hand; change")
    a("the script and regenerate (from the repository root, Python 3.11 standard library only):")
    a("")
    a("```sh")
    a("python3 data/demo/tools/make_demo.py /work/shared")
    a("```")
    a("")
    a("The argument is the folder that holds `data/wilayah/` and `data/sekolah/`. The output is")
    a("byte-identical on every run (fixed seeds, sorted rows, UTF-8, `\\n` line endings).")
    a("")
    a("## Files")
    a("")
    a("| file | rows | kind | content |")
    a("|---|---:|---|---|")
    rows = [
        ("wilayah_provinsi.csv", "real", "Jawa Timur (35) only"),
        ("wilayah_kabupaten_kota.csv", "real", "Kabupaten Jember (35.09) only"),
        ("wilayah_kecamatan.csv", "real", "the 31 kecamatan of Jember"),
        ("wilayah_desa_kelurahan.csv", "real", "the 248 desa/kelurahan of Jember (226 desa, 22 kelurahan)"),
        ("batas_kabupaten.geojson", "real", "boundary of 35.09 (from `kabupaten_kota.geojson`)"),
        ("batas_kecamatan.geojson", "real", "boundaries of the 31 kecamatan (from `kecamatan.geojson`)"),
        ("batas_desa_kelurahan.geojson", "real", "boundaries of the 248 desa/kelurahan (`desa_kelurahan_jember_3509.geojson`)"),
        ("sekolah_jember_3509.csv", "real", "1,568 Dapodik schools (SD, SMP, SMA, SMK, SLB), byte copy"),
        ("situs_sintetis_jember.csv", "**synthetic**", "PAUD/TK/KB/RA, MI, MTs, MA and one balai desa per desa"),
        ("cakupan_kecamatan_jember.csv", "**synthetic** (kabupaten totals real)", "coverage per kecamatan and indicator"),
        ("target_nasional.csv", "real (as reported)", "national targets 2025 and 2026"),
        ("kalender_sekolah_jember.csv", "**assumed**", "school calendar: end-of-semester assessment week and semester holiday 2026/2027"),
        ("tim_jember.csv", "**synthetic**", "four outreach teams, 3 members each"),
    ]
    for f, kind, content in rows:
        unit = ("feature" if counts[f] == 1 else "features") if f.endswith(".geojson") else ""
        cnt = n(counts[f]) + (f" {unit}" if unit else "")
        a(f"| `{f}` | {cnt} | {kind} | {content} |")
    # Written by hand or by tools/make_programmes.py, listed here so that the table is whole.
    a("| `target_jatim.csv` | 2 | real 2023 target, assumed for 2025–2026 | Jawa Timur's IKD target, 25 % of KTP-el holders |")
    a("| `situs_program_jember.csv` | 9 | **assumed** (vulnerable sites **synthetic**) | the office's Saturday and Sunday service, 7 penduduk rentan sites (`tools/make_programmes.py`) |")
    a("| `acara_jember.csv` | 56 | real event, **assumed** visitors | the Sunday car-free day on the alun-alun, 6 Dec 2026 – 26 Dec 2027 (`jemput import events`) |")
    a("| `stok_blangko_jember.csv` | 1 | **assumed** | blangko stock of the Jember office (`jemput import stock`) |")
    a("| `LICENSE-wilayah.txt`, `LICENSE-sekolah.txt` | | | upstream licence notices (byte copies) |")
    a("| `tools/make_demo.py`, `tools/make_programmes.py` | | | the generators |")
    a("")
    a("CSV row counts exclude the header. GeoJSON is written as compact JSON; feature properties are")
    a("unchanged from the source. The wilayah CSVs keep the source header and lines exactly; only")
    a("rows outside Jember are dropped.")
    a("")
    a("## Sources and licences of the real data")
    a("")
    a("- **Wilayah** (`wilayah_*.csv`, `batas_*.geojson`): from `shared/data/wilayah/`, derived from")
    a("  `cahyadsn/wilayah` (code list, names, population, area; commit")
    a("  `b7ad440a1322e7be3189a16a8cac35f7d4c3d7f7`, 2026-08-08), `cahyadsn/wilayah_boundaries`")
    a("  (centroids and simplified boundaries; commit `3c5a7960f4d227a38489094d84252bdbb3f978a5`,")
    a("  2026-08-20) and `cahyadsn/wilayah_kodepos` (postal codes; commit")
    a("  `4fa8c592a581bf2fc4fb0a373010000c5bac6251`, 2026-02-16). All MIT licence; notices in")
    a("  `LICENSE-wilayah.txt`. Codes follow Kepmendagri No. 300.2.2-2138 Tahun 2025. Boundaries are")
    a("  simplified and not authoritative for legal boundary questions.")
    a("- **Sekolah** (`sekolah_jember_3509.csv`): from `shared/data/sekolah/`, derived from")
    a("  `suryavip/daftar-sekolah-indonesia`, `result/052400.json`, commit")
    a("  `48596d293a82dc23a472aadb03d555e0bd895cd7` (2019-06-04), MIT licence (notice in")
    a("  `LICENSE-sekolah.txt`). The records themselves are Kemdikbud (Dapodik) public reference data")
    a("  without a separate licence: attribute them. Snapshot of **mid-2019**; madrasah and PAUD are")
    a("  not in it.")
    a("- **National targets** (`target_nasional.csv`): KTP-el 99.4 %, KIA 60 %, akta 0–18 98 %,")
    a("  IKD 30 % of wajib KTP, as reported for 2024–2025 (Dirjen Dukcapil 2023 list; Kaltim Rakorda")
    a("  Nov 2024; benuanta.co.id 2025-12-06; kaltaranetwork.co; see `shared/design/domain.md`")
    a("  section 2). The same values are assumed for 2026 (not yet published).")
    a("- **Jawa Timur's IKD target** (`target_jatim.csv`, `basis = ktp_el`): 25 % of KTP-el holders,")
    a("  the province's 2023 target (`shared/design/domain.md`, Jawa Timur section), assumed to hold")
    a("  for 2025–2026 (no later provincial figure was found). It overrides the national")
    a("  30 % of wajib KTP for every kabupaten/kota of the province, Jember included.")
    a("- **Programmes** (`situs_program_jember.csv`, `acara_jember.csv`, `stok_blangko_jember.csv`,")
    a("  written by `tools/make_programmes.py`): the office at Jl. Jawa No. 47 is real and serves on")
    a("  weekends (Disdukcapil Jember, Sept 2024), its weekend counts (40 KTP-el, 30 KIA, 20 akta,")
    a("  60 IKD a day) are assumed; the penduduk rentan sites are made up (\"contoh\" in the name,")
    a("  `synthetic = true`) and placed at the centroid of a real desa, because no open list of")
    a("  Jember's panti, lapas or RSJ with coordinates was found; the car-free day on the alun-alun")
    a("  is real, its place approximate and its visitors (10 KTP-el, 120 IKD) assumed; the blangko")
    a("  stock (2,000 KTP-el, 1,500 KIA on 30 Nov 2026) is assumed. TK rows carry an example.org")
    a("  email, so that the notices and the PAUD pairs reach a contact.")
    a("")
    a("## Synthetic files and how they were made")
    a("")
    a(f"Seeds: base `SEED = {SEED}`; each random stream uses `random.Random(SEED * 100 + k)`:")
    a("k = 1 unit counts, 2 names, 3 coordinates, 4 coverage noise, 6 contacts (5, enrolment, is no")
    a("longer drawn).")
    a("")
    a("### `cakupan_kecamatan_jember.csv`")
    a("")
    a("Header `region_code,indicator,eligible,holders,as_of,source`; 31 kecamatan × 4 indicators,")
    a(f"`as_of` {AS_OF}, `source` \"{COVERAGE_SOURCE}\". Only the kabupaten totals are real:")
    a("")
    a("| indicator | eligible | holders | % | published source |")
    a("|---|---:|---:|---:|---|")
    srcs = {
        "ktp_el": "perekaman 98.60 % (1,989,816), DP3AK Jatim rakor Sept 2024, reported by Disdukcapil Jember: https://dispendukcapil.jemberkab.go.id/optimalkan-program-inilah-capaian-perekaman-dan-kia-di-jawa-timur-dan-jember/ ; denominator ≈ 2.018 M derived",
        "kia": "KIA 49.66 % (292,982), same source; denominator ≈ 590,000 children 0–<17 derived",
        "akta_lahir": "assumed: ≈ 98.3 % of ≈ 665,000 children 0–18 (akta ≥ 98 % in Jatim; no Jember figure for Sept 2024)",
        "ikd": "assumed: ≈ 4.8 % of wajib KTP (cf. Kaltim 4.48 % mid-2024, Kaltara 5.27 % Oct 2025)",
    }
    for ind in INDICATORS:
        e, h = cov_sums[ind]
        a(f"| `{ind}` | {n(e)} | {n(h)} | {h / e * 100:.2f} | {srcs[ind]} |")
    a("")
    a("Recipe:")
    a("")
    a("1. **Eligible.** Each kabupaten total is split over the 31 kecamatan in proportion to the")
    a("   kecamatan's SD count in `shared/data/sekolah/rekap_jenjang_per_kecamatan_jember.csv`")
    a("   (a population proxy), with largest-remainder rounding so the sums are exact. IKD uses")
    a("   the same wajib-KTP denominator as KTP-el, so per kecamatan the two are identical.")
    a("2. **Holders.** Each kecamatan gets rate = kabupaten rate + uniform noise (KTP-el ±0.6,")
    a("   KIA ±6, akta ±1.2, IKD ±2 points) + an urban bonus for Kaliwates, Patrang and Sumbersari")
    a("   (+0.3, +4, +0.6, +1.5 points). Holders = eligible × rate, capped at eligible, then rescaled")
    a("   and largest-remainder rounded so the kabupaten holders are met exactly, with")
    a("   0 ≤ holders ≤ eligible in every row.")
    a("")
    a("### `situs_sintetis_jember.csv`")
    a("")
    a("jemput's generic sites format, header:")
    a("")
    a("```")
    a(",".join(SITE_HEADER))
    a("```")
    a("")
    a("Follows the \"Guidance for a realistic synthetic complement\" in `shared/data/sekolah/README.md`")
    a("(counts scaled from BPS *Kabupaten Jember dalam Angka* as quoted by Radar Jember 2019-07-02).")
    a("")
    a("| kind | what | units | enrolment per unit (the mean) | enrolment (sum) |")
    a("|---|---|---:|---:|---:|")
    what = {"tk": ("tk", "TK (40 % of PAUD)"), "kb": ("paud", "KB, kelompok bermain (30 %)"),
            "ra": ("ra", "RA, raudhatul athfal (20 %)"), "sps": ("paud", "SPS/TPA (10 %)"),
            "mi": ("mi", "MI"), "mts": ("mts", "MTs"), "ma": ("ma", "MA")}
    for t in ("tk", "kb", "ra", "sps", "mi", "mts", "ma"):
        kind, label = what[t]
        a(f"| `{kind}` | {label} | {n(tt[t][0])} | {ENROL_MEAN[t]:g} | {n(tt[t][1])} |")
    a(f"| `balai_desa` | Balai Desa / Kantor Kelurahan | {n(kind_counts['balai_desa'])} | | |")
    a("")
    a("- **Counts.** PAUD: 1,800 units split over the 248 desa/kelurahan by largest remainder on")
    a("  weights drawn log-normal(0, 0.25) (about 7 per desa), then a shuffled list of exactly")
    a("  720 TK, 540 KB, 360 RA and 180 SPS/TPA is dealt out (KB and SPS/TPA both have kind `paud`).")
    a("  MI: one per desa/kelurahan plus a second one in 52 randomly drawn rural desa (not")
    a("  kelurahan, not in Kaliwates/Patrang/Sumbersari) = 300. MTs: 6 per kecamatan, 7 in 14 drawn")
    a("  kecamatan = 200. MA: 4 in the three urban kecamatan and 3 drawn others, 2 in 9 drawn,")
    a("  3 elsewhere = 90. MTs and MA are placed in a randomly chosen desa of their kecamatan.")
    a("- **Location.** A uniformly random point inside the desa polygon of")
    a("  `batas_desa_kelurahan.geojson` (rejection sampling in the MultiPolygon's bounding box with a")
    a("  ray-casting point-in-polygon test; holes excluded), rounded to 6 decimals;")
    a("  `coord_quality` = `synthetic`; `region_code` = the desa code.")
    a("- **Ids.** `external_id` 99000001 upwards (8 digits in the reserved range 99xxxxxx, which")
    a("  cannot collide with real NPSNs 205xxxxx/69xxxxxx), assigned after sorting the units by")
    a("  (desa code, type, name). Balai desa ids are `BD-<desa code>`. Rows are sorted by")
    a("  (region_code, external_id).")
    a("- **Names.** `<base> <Desa>` for PAUD/TK/RA/MI and `<base> <Kecamatan>` for MTs/MA, the base")
    a("  drawn from a small list of common names (e.g. `TK Dharma Wanita`, `KB Melati`,")
    a("  `RA Al-Hidayah`, `MI Miftahul Ulum`, `MTs Nurul Huda`, `MA Darussalam`). When the same name")
    a("  occurs twice in a desa it is numbered `01`, `02`, …. Address: `Desa <desa>, Kec. <kecamatan>`")
    a("  (`Kel.` for kelurahan).")
    a("- **Enrolment** (an assumption; no per-school source exists): every unit gets its type's mean")
    a("  (TK 39 and KB 29 from the README; RA 35 and SPS/TPA 25 assumed; MI/MTs/MA = 0.8 × the")
    a("  SD/SMP/SMA means 160/235/370), rounded half up. A random draw would show noise as if it were")
    a("  a difference between schools; the real SD/SMP/SMA/SMK of Dapodik get their level's mean too.")
    a("- **Eligible per site.** PAUD/TK/RA/MI/MTs: `eligible_kia` = `eligible_akta_lahir` = enrolment,")
    a("  KTP-el and IKD 0. MA: `eligible_ktp_el` = `eligible_ikd` = round(enrolment × 0.45) (grade XII")
    a("  plus part of XI), `eligible_kia` = enrolment − that, `eligible_akta_lahir` = enrolment.")
    a("  These are *eligible* people, not the backlog: the planner applies coverage rates.")
    a("- **Balai desa.** One per desa/kelurahan (`Balai Desa <nama>` or `Kantor Kelurahan <nama>`) at")
    a("  the desa centroid from `wilayah_desa_kelurahan.csv`, `coord_quality` = `centroid`. Its")
    a("  eligible figures are the desa's share of the kecamatan's eligible population in")
    a("  `cakupan_kecamatan_jember.csv`, split in proportion to 1 + the desa's real schools (where")
    a("  people live; area would give thinly settled forest desa most of the people) with largest-remainder")
    a("  rounding, so the desa figures add up to the kecamatan figures exactly.")
    a("- **Hours.** None: `opening_hours` is empty, so jemput uses the kind's default from")
    a("  `config/default.toml` `[planner.default_hours]` (no weekend: nobody asked these sites).")
    a("- **Synthetic flag.** `synthetic` = `true` for the invented PAUD/TK/KB/RA and madrasah (jemput")
    a("  marks them \"situs sintetis\" in the ranking, the plan and the emails); `false` for the balai")
    a("  desa, which exist (one per desa) and are placed at the desa centroid (`coord_quality` =")
    a("  `centroid`: an approximate location).")
    a("- **Contacts.** `contact_name` drawn from a list of 20 common Indonesian names (Ibu/Bapak …);")
    a("  `contact_email` empty for PAUD units, `info@<slug>.sch.example.org` for madrasah and")
    a("  `info@<slug>.desa.example.org` / `.kel.example.org` for village offices (example.org only,")
    a("  none of these addresses exist); `contact_phone` empty; `active` = `true`.")
    a("")
    a("### `kalender_sekolah_jember.csv`")
    a("")
    a("jemput's school calendar format (`region_code,name,start,end,kinds`; empty `kinds` = every")
    a("school and PAUD kind). **Assumed**: the Jawa Timur 2026/2027 calendar is not published; the")
    a("rows follow earlier years' pattern:")
    a("")
    a("| region | name | from | to | kinds |")
    a("|---|---|---|---|---|")
    for r in CALENDAR:
        a(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4] or 'all schools and PAUD'} |")
    a("")
    a("### `tim_jember.csv`")
    a("")
    a("One row per member; team fields repeat on every member row. Invented people, example.org")
    a("addresses. Tim 1 and Tim 2 are based at Dispendukcapil Jember (Jl. Jawa No. 47, Sumbersari;")
    a("-8.1629, 113.7167); Tim 3 and Tim 4 at the Kencong and Kalisat kecamatan offices, placed at the")
    a("kecamatan centroids from `wilayah_kecamatan.csv` rounded to 4 decimals.")
    a("")
    a("| team | base | kits | capabilities | working hours |")
    a("|---|---|---:|---|---|")
    seen = set()
    for r in team_rows:
        if r[0] in seen:
            continue
        seen.add(r[0])
        a(f"| {r[0]} | {r[2]} ({r[3]}, {r[4]}) | {r[5]} | `{r[6]}` | `{r[7]}` |")
    a("")
    a("All members use language `id` except one member of Tim 2 (`en`).")
    a("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
