//! What a team brings to a visit, and the blank cards (blangko) a day takes: from the services
//! planned there, the cards the plan lets it print, and the kind of place.

use super::words::{people_count, thousands};
use super::{Lang, Visit};

/// Schools and PAUD gather their pupils' documents before the team comes; elsewhere residents
/// bring their own.
pub(super) fn gathers_documents(kind: &str) -> bool {
    matches!(
        kind,
        "sma" | "smk" | "ma" | "smp" | "mts" | "sd" | "mi" | "slb" | "paud" | "tk" | "ra"
    )
}

/// What a team brings to a visit: for the services planned there, and as the kind of site needs.
pub(super) fn to_bring(lang: Lang, v: &Visit, kits: i32, prints_cards: bool) -> Vec<String> {
    // A PAUD pair's first visit processes nothing: it leaves the forms and the list with the
    // teachers and tells the parents why KIA matters.
    if v.task == "antar" {
        return vec![match lang {
            Lang::Id => "formulir permohonan KIA dan daftar berkas untuk guru: fotokopi KK, fotokopi akta kelahiran, pas foto berwarna 2×3 untuk anak 5 tahun ke atas; selebaran untuk orang tua tentang manfaat KIA".to_string(),
            Lang::En => "KIA application forms and the list for the teachers: copies of the KK and the birth certificate, a 2×3 colour photo for children aged 5 or over; a leaflet for the parents on why KIA matters".to_string(),
        }];
    }
    let n = |code: &str| v.people.get(code).copied().map(people_count).unwrap_or(0);
    let mut out = Vec::new();
    let (ktp, kia, akta, ikd) = (n("ktp_el"), n("kia"), n("akta_lahir"), n("ikd"));
    let school = gathers_documents(&v.kind);
    if ktp > 0 {
        out.push(match lang {
            Lang::Id => format!("{kits} set alat rekam KTP-el (laptop, kamera, pemindai sidik jari dan iris, pad tanda tangan)"),
            Lang::En => format!("{kits} KTP-el recording kit(s) (laptop, camera, fingerprint and iris scanners, signature pad)"),
        });
        // Only a record already cleared centrally (PRR) of someone aged 17 can be printed, and
        // the printer needs a cool room: the plan's cards are an upper bound (printer-day and
        // stock), never one card per person recorded.
        let cards = v.cards.get("ktp_el").copied().unwrap_or(0);
        if prints_cards && cards > 0 {
            let n = thousands(lang, i64::from(cards));
            out.push(match lang {
                Lang::Id => format!("printer kartu dan paling banyak {n} blangko KTP-el, untuk warga 17 tahun ke atas yang datanya sudah siap cetak (PRR); perlu ruangan sejuk"),
                Lang::En => format!("card printer and at most {n} blank KTP-el cards, for people aged 17 and over whose record is print-ready (PRR); needs a cool room"),
            });
        }
    }
    // A KIA is issued on the spot: one blank card per child the plan promises.
    let kia_cards = v.cards.get("kia").copied().map_or(kia, i64::from).min(kia);
    if kia_cards > 0 {
        let count = thousands(lang, kia_cards);
        out.push(match (lang, school) {
            (Lang::Id, true) => format!("{count} blangko KIA; kamera untuk anak usia 5 tahun ke atas; salinan KK dan akta yang dikumpulkan sekolah"),
            (Lang::En, true) => format!("{count} blank KIA cards; a camera for children aged 5 and over; the KK and birth-certificate copies collected by the school"),
            (Lang::Id, false) => format!("{count} blangko KIA; kamera untuk anak usia 5 tahun ke atas; orang tua membawa KK dan akta anak"),
            (Lang::En, false) => format!("{count} blank KIA cards; a camera for children aged 5 and over; parents bring the KK and the child's birth certificate"),
        });
    }
    if akta > 0 {
        let count = thousands(lang, akta);
        out.push(match lang {
            Lang::Id => format!("±{count} formulir F-2.01 (pencatatan kelahiran)"),
            Lang::En => format!("about {count} F-2.01 forms (birth registration)"),
        });
    }
    if ikd > 0 {
        out.push(match lang {
            Lang::Id => "ponsel atau tablet untuk aktivasi IKD dan kuota data".to_string(),
            Lang::En => "a phone or tablet for IKD activation, with mobile data".to_string(),
        });
    }
    if v.task == "ambil" {
        out.push(match lang {
            Lang::Id => "ambil berkas yang dikumpulkan guru sejak kunjungan antar; periksa kelengkapan per anak".to_string(),
            Lang::En => "collect the documents the teachers gathered since the drop-off; check them child by child".to_string(),
        });
    }
    if let Some(line) = for_the_place(lang, &v.kind) {
        out.push(line.to_string());
    }
    out.push(match lang {
        Lang::Id => "formulir F-1.01 (biodata/perubahan KK) dan daftar hadir".to_string(),
        Lang::En => "F-1.01 forms (family card updates) and an attendance list".to_string(),
    });
    out
}

/// What the kind of place asks of the team beyond the services: residents come to a service day
/// or a crowd point; the vulnerable need their keepers and a companion.
fn for_the_place(lang: Lang, kind: &str) -> Option<&'static str> {
    Some(match (lang, kind) {
        (Lang::Id, "kantor") => {
            "layanan di kantor: warga datang sendiri; siapkan nomor antrean dan meja informasi"
        }
        (Lang::En, "kantor") => {
            "service at the office: residents come by themselves; prepare queue numbers and an information desk"
        }
        (Lang::Id, "keramaian") => {
            "stan di keramaian: tenda, meja, kursi, spanduk layanan, genset atau sambungan listrik; warga datang sendiri"
        }
        (Lang::En, "keramaian") => {
            "a stand at a crowd point: tent, tables, chairs, a service banner, a generator or power line; residents walk in"
        }
        (Lang::Id, "lapas") => {
            "penduduk rentan: surat izin masuk dan kartu identitas petugas; daftar warga binaan tanpa KTP-el dari petugas lapas"
        }
        (Lang::En, "lapas") => {
            "vulnerable residents: the entry permit and staff ID cards; the prison's list of inmates without a KTP-el"
        }
        (Lang::Id, "panti" | "rsj" | "institusi") => {
            "penduduk rentan: daftar penghuni tanpa dokumen dari pengelola; pendamping bagi yang sakit atau lanjut usia; rekam di kamar bagi yang tidak bisa berpindah"
        }
        (Lang::En, "panti" | "rsj" | "institusi") => {
            "vulnerable residents: the keepers' list of residents without documents; a companion for the sick or elderly; recording at the bedside for those who cannot move"
        }
        (Lang::Id, "komunitas_terpencil") => {
            "komunitas terpencil: kepala dusun mengumpulkan warga; jalan mungkin sulit, bawa daya cadangan (power bank, genset)"
        }
        (Lang::En, "komunitas_terpencil") => {
            "remote community: the hamlet head gathers the residents; roads may be hard, bring spare power (power bank, generator)"
        }
        (Lang::Id, "slb") => {
            "penduduk rentan: pendamping atau guru untuk siswa berkebutuhan khusus; waktu lebih panjang per siswa"
        }
        (Lang::En, "slb") => {
            "vulnerable residents: a companion or teacher for pupils with special needs; more time per pupil"
        }
        _ => return None,
    })
}

/// The blank cards a day takes, from its visits' cards ("Blangko dibawa: 150 KTP-el, 80 KIA").
pub(super) fn blangko_line(lang: Lang, visits: &[Visit]) -> Option<String> {
    let sum = |k: &str| -> u32 { visits.iter().filter_map(|v| v.cards.get(k)).sum() };
    let (ktp, kia) = (sum("ktp_el"), sum("kia"));
    if ktp + kia == 0 {
        return None;
    }
    let n = |x: u32| thousands(lang, i64::from(x));
    let parts: Vec<String> = [(ktp, "KTP-el"), (kia, "KIA")]
        .into_iter()
        .filter(|(x, _)| *x > 0)
        .map(|(x, label)| format!("{} {label}", n(x)))
        .collect();
    Some(match lang {
        Lang::Id => format!("Blangko dibawa hari ini: {}", parts.join(", ")),
        Lang::En => format!("Blank cards to take today: {}", parts.join(", ")),
    })
}
