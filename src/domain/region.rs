//! Kemendagri region codes (`35`, `35.09`, `35.09.01`, `35.09.01.2001`) and their levels.

use std::fmt;

/// A dotted Kemendagri region code. Segments are 2, 2, 2 and 4 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// How deep a code is; desa and kelurahan share depth 4 (kelurahan numbers start with 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Provinsi,
    KabupatenKota,
    Kecamatan,
    DesaKelurahan,
}

impl RegionCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('.').collect();
        let widths = [2usize, 2, 2, 4];
        if parts.is_empty() || parts.len() > 4 {
            return Err(format!(
                "kode wilayah tidak sah {s:?} (contoh: 35.09.01.2001)"
            ));
        }
        for (part, width) in parts.iter().zip(widths) {
            if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "kode wilayah tidak sah {s:?} (contoh: 35.09.01.2001)"
                ));
            }
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn depth(&self) -> Depth {
        match self.0.split('.').count() {
            1 => Depth::Provinsi,
            2 => Depth::KabupatenKota,
            3 => Depth::Kecamatan,
            _ => Depth::DesaKelurahan,
        }
    }

    pub fn parent(&self) -> Option<RegionCode> {
        self.0
            .rfind('.')
            .map(|i| RegionCode(self.0[..i].to_string()))
    }

    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// The code and all its ancestors, finest first: `35.09.01` → [`35.09.01`, `35.09`, `35`].
    pub fn lineage(&self) -> Vec<RegionCode> {
        let mut out = vec![self.clone()];
        let mut cur = self.clone();
        while let Some(p) = cur.parent() {
            out.push(p.clone());
            cur = p;
        }
        out
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn is_within(&self, other: &RegionCode) -> bool {
        self.0 == other.0 || self.0.starts_with(&format!("{}.", other.0))
    }

    /// The level implied by the code alone. Kabupaten (01–69) and kota (71–99) are told apart by
    /// the number; desa (2xxx) and kelurahan (1xxx) likewise.
    pub fn implied_level(&self) -> RegionLevel {
        let last = self.0.rsplit('.').next().unwrap_or_default();
        match self.depth() {
            Depth::Provinsi => RegionLevel::Provinsi,
            Depth::KabupatenKota if last >= "71" => RegionLevel::Kota,
            Depth::KabupatenKota => RegionLevel::Kabupaten,
            Depth::Kecamatan => RegionLevel::Kecamatan,
            Depth::DesaKelurahan if last.starts_with('1') => RegionLevel::Kelurahan,
            Depth::DesaKelurahan => RegionLevel::Desa,
        }
    }

    /// The IANA time zone of the province: WIB, WITA or WIT (Permendagri time-zone division).
    pub fn time_zone(&self) -> &'static str {
        time_zone_of_province(self.province())
    }

    /// The date on the region's own clock at `now` (a Monday starts at 00:00 WIB, WITA or WIT,
    /// not at 00:00 UTC).
    pub fn local_date(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        let tz: chrono_tz::Tz = self.time_zone().parse().unwrap_or(chrono_tz::Asia::Jakarta);
        now.with_timezone(&tz).date_naive()
    }

    /// The ISO week after the region's current one.
    pub fn next_week(&self, now: chrono::DateTime<chrono::Utc>) -> super::Week {
        super::Week::after(self.local_date(now))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Province code → IANA zone. Sumatra, Java, West and Central Kalimantan are WIB
/// (`Asia/Jakarta`); Bali, Nusa Tenggara, South/East/North Kalimantan and Sulawesi are WITA
/// (`Asia/Makassar`); Maluku and Papua are WIT (`Asia/Jayapura`).
pub fn time_zone_of_province(code: &str) -> &'static str {
    match code {
        "51" | "52" | "53" | "63" | "64" | "65" | "71" | "72" | "73" | "74" | "75" | "76" => {
            "Asia/Makassar"
        }
        "81" | "82" | "91" | "92" | "93" | "94" | "95" | "96" | "97" => "Asia/Jayapura",
        _ => "Asia/Jakarta",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionLevel {
    Provinsi,
    Kabupaten,
    Kota,
    Kecamatan,
    Desa,
    Kelurahan,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 6] = [
        Self::Provinsi,
        Self::Kabupaten,
        Self::Kota,
        Self::Kecamatan,
        Self::Desa,
        Self::Kelurahan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provinsi => "provinsi",
            Self::Kabupaten => "kabupaten",
            Self::Kota => "kota",
            Self::Kecamatan => "kecamatan",
            Self::Desa => "desa",
            Self::Kelurahan => "kelurahan",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| format!("tingkat wilayah tidak dikenal {s:?}"))
    }

    /// Whether a code of this depth may carry this level.
    pub fn fits(self, depth: Depth) -> bool {
        matches!(
            (self, depth),
            (Self::Provinsi, Depth::Provinsi)
                | (Self::Kabupaten | Self::Kota, Depth::KabupatenKota)
                | (Self::Kecamatan, Depth::Kecamatan)
                | (Self::Desa | Self::Kelurahan, Depth::DesaKelurahan)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_at_every_level() {
        for (code, level) in [
            ("35", RegionLevel::Provinsi),
            ("35.09", RegionLevel::Kabupaten),
            ("35.78", RegionLevel::Kota),
            ("35.09.01", RegionLevel::Kecamatan),
            ("35.09.01.2001", RegionLevel::Desa),
            ("35.09.22.1001", RegionLevel::Kelurahan),
        ] {
            assert_eq!(
                RegionCode::parse(code).unwrap().implied_level(),
                level,
                "{code}"
            );
        }
    }

    #[test]
    fn malformed_codes_are_rejected() {
        for bad in [
            "",
            "3",
            "35.9",
            "35.09.01.201",
            "35.09.01.2001.1",
            "3a.09",
            "35-09",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn lineage_walks_to_the_province() {
        let c = RegionCode::parse("35.09.01.2001").unwrap();
        let l: Vec<_> = c.lineage().iter().map(|c| c.to_string()).collect();
        assert_eq!(l, ["35.09.01.2001", "35.09.01", "35.09", "35"]);
        assert!(c.is_within(&RegionCode::parse("35.09").unwrap()));
        assert!(RegionCode::parse("35.091").is_err());
    }

    #[test]
    fn east_java_and_east_kalimantan_zones() {
        assert_eq!(
            RegionCode::parse("35.09").unwrap().time_zone(),
            "Asia/Jakarta"
        );
        assert_eq!(
            RegionCode::parse("64.72").unwrap().time_zone(),
            "Asia/Makassar"
        );
        assert_eq!(time_zone_of_province("94"), "Asia/Jayapura");
    }

    #[test]
    fn next_week_turns_at_local_midnight_on_monday() {
        use chrono::TimeZone;
        let jember = RegionCode::parse("35.09").unwrap();
        let kutai = RegionCode::parse("64.02").unwrap();
        // Monday 7 December 2026, 01:00 in Jember (WIB) is still Sunday in UTC: the week that
        // has begun there is W50, so next week is W51.
        let monday_1am_wib = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 18, 0, 0).unwrap();
        assert_eq!(jember.next_week(monday_1am_wib).to_string(), "2026-W51");
        // 23:30 Sunday in Jember is 00:30 Monday in Kutai (WITA).
        let sunday_late_wib = chrono::Utc
            .with_ymd_and_hms(2026, 12, 6, 16, 30, 0)
            .unwrap();
        assert_eq!(jember.next_week(sunday_late_wib).to_string(), "2026-W50");
        assert_eq!(kutai.next_week(sunday_late_wib).to_string(), "2026-W51");
    }
}
