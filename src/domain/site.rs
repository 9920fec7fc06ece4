//! Outreach sites (schools, PAUD, village offices, institutions, crowd points) and team
//! capabilities.

use std::fmt;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Result<Self, String> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!(concat!($what, " tidak dikenal {:?} (pilihan: {})"), s, known.join(", "))
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// What kind of place a site is; drives which services it can use and its default hours.
    SiteKind, "jenis situs" {
        Sma => "sma", Smk => "smk", Ma => "ma", Smp => "smp", Mts => "mts", Sd => "sd",
        Mi => "mi", Slb => "slb", Paud => "paud", Tk => "tk", Ra => "ra",
        BalaiDesa => "balai_desa", Institusi => "institusi", Keramaian => "keramaian",
        // Penduduk rentan (Permendagri 96/2019): social homes, prisons, psychiatric hospitals and
        // remote communities, beside the SLB.
        Panti => "panti", Lapas => "lapas", Rsj => "rsj", KomunitasTerpencil => "komunitas_terpencil",
        // The Disdukcapil office's own service days (Jember serves on Saturdays and Sundays).
        Kantor => "kantor",
    }
);

impl SiteKind {
    /// Penduduk rentan: the vulnerability weight applies and they keep candidate places of
    /// their own (`planner.vulnerable_candidates`).
    pub fn is_vulnerable(self) -> bool {
        matches!(
            self,
            Self::Slb
                | Self::Institusi
                | Self::Panti
                | Self::Lapas
                | Self::Rsj
                | Self::KomunitasTerpencil
        )
    }

    /// Map a Dapodik `bentuk`/`jenjang` to a site kind (SDLB, SMPLB, SMLB are SLB).
    pub fn from_dapodik(bentuk: &str) -> Result<Self, String> {
        match bentuk.trim().to_ascii_uppercase().as_str() {
            "SD" => Ok(Self::Sd),
            "SMP" => Ok(Self::Smp),
            "SMA" => Ok(Self::Sma),
            "SMK" => Ok(Self::Smk),
            "SLB" | "SDLB" | "SMPLB" | "SMLB" => Ok(Self::Slb),
            other => Err(format!("bentuk Dapodik tidak dikenal {other:?}")),
        }
    }
}

code_enum!(
    /// How far a site's coordinates can be trusted.
    CoordQuality, "kualitas koordinat" {
        // Source coordinates with 4+ decimals (about 11 m).
        Exact => "exact",
        // 3 decimals (about 110 m).
        Approx => "approx",
        // 2 or fewer decimals (1 km or more), or a point outside its stated region.
        Coarse => "coarse",
        // No usable coordinates: the centroid of the site's desa or kecamatan.
        Centroid => "centroid",
        // Placed by the synthetic demo layer.
        Synthetic => "synthetic",
    }
);

code_enum!(
    /// What a team can do in the field.
    Capability, "kemampuan tim" {
        KtpEl => "ktp_el", Kia => "kia", AktaLahir => "akta_lahir", Ikd => "ikd",
        CetakKartu => "cetak_kartu",
    }
);

/// Parse a `;`-separated capability list (`ktp_el;kia;cetak_kartu`), sorted and de-duplicated.
pub fn parse_capabilities(s: &str) -> Result<Vec<Capability>, String> {
    let mut caps = s
        .split([';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(Capability::parse)
        .collect::<Result<Vec<_>, _>>()?;
    caps.sort();
    caps.dedup();
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_kinds_list_the_choices() {
        for k in SiteKind::ALL {
            assert_eq!(SiteKind::parse(k.as_str()).unwrap(), *k);
        }
        let err = SiteKind::parse("universitas").unwrap_err();
        assert!(err.contains("balai_desa"), "{err}");
    }

    #[test]
    fn dapodik_special_schools_are_slb() {
        for b in ["SDLB", "SMPLB", "SMLB", "SLB"] {
            assert_eq!(SiteKind::from_dapodik(b).unwrap(), SiteKind::Slb);
        }
    }

    #[test]
    fn capability_lists_are_normalised() {
        let caps = parse_capabilities("kia; ktp_el;kia").unwrap();
        assert_eq!(caps, vec![Capability::KtpEl, Capability::Kia]);
        assert!(parse_capabilities("ktp_el;printer").is_err());
    }
}
