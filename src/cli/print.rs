//! The plan and the ranking as a coordinator reads them in a terminal.

use crate::services::ranking;

/// `ikd 107, kia 17` with the Indonesian indicator names a coordinator reads.
fn people_line(people: &std::collections::BTreeMap<String, f64>) -> String {
    people
        .iter()
        .filter(|(_, n)| **n >= 0.5)
        .map(|(k, n)| format!("{} {}", indicator_short(k), n.round()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn indicator_short(code: &str) -> &str {
    match code {
        "ktp_el" => "KTP-el",
        "kia" => "KIA",
        "akta_lahir" => "akta",
        "ikd" => "IKD",
        other => other,
    }
}

pub fn print_plan(v: &crate::services::planning::PlanView) {
    let t = &v.totals;
    println!(
        "Rencana #{} {} minggu {} (versi {}, {}): {} kunjungan, prioritas {:.1} dari batas atas {:.1} ({:.0}%), perjalanan {:.1} jam",
        v.id,
        v.region,
        v.week,
        v.version,
        v.status,
        t.visits,
        t.priority_served,
        t.upper_bound,
        t.share_of_bound * 100.0,
        t.travel_s as f64 / 3600.0
    );
    let total: f64 = t.people.values().sum();
    let pct = |n: f64| if total > 0.0 { 100.0 * n / total } else { 0.0 };
    println!(
        "Perkiraan orang terlayani: {}",
        t.people
            .iter()
            .map(|(k, n)| format!("{} {:.0} ({:.0}%)", indicator_short(k), n, pct(*n)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Kunjungan per jenis situs: {}",
        t.visits_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Waktu tim di lokasi per layanan: {}{}",
        t.share_by_indicator
            .iter()
            .map(|(k, p)| format!("{} {:.0}%", indicator_short(k), p))
            .collect::<Vec<_>>()
            .join(", "),
        if t.target_shares.is_empty() {
            String::new()
        } else {
            format!(
                " (target: {})",
                t.target_shares
                    .iter()
                    .map(|(k, p)| format!("{} {:.0}%", indicator_short(k), p))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for n in &v.notes {
        println!("Catatan: {}", n.text_id);
    }
    let mut team = String::new();
    for r in &v.routes {
        if r.team != team {
            println!("\n{} (markas: {})", r.team, r.base.name);
            team = r.team.clone();
        }
        println!(
            "  {}  kembali {}  perjalanan {} menit",
            r.day,
            r.back_at,
            r.travel_s / 60
        );
        let mut break_shown = false;
        for s in &r.stops {
            // The break between stops (or inside a visit) where it falls.
            if let Some(b) = &r.break_at
                && !break_shown
                && s.end.as_str() > b.start.as_str()
            {
                let inside = s.start.as_str() < b.start.as_str();
                if !inside {
                    println!("    {}-{}  ishoma", b.start, b.end);
                    break_shown = true;
                }
            }
            let part = if s.parts > 1 {
                format!(" (bagian {}/{})", s.part, s.parts)
            } else {
                String::new()
            };
            let mut marks = Vec::new();
            if s.synthetic {
                marks.push("situs sintetis");
            }
            if s.coord_quality == "centroid" {
                marks.push("lokasi perkiraan");
            }
            if let Some(b) = &r.break_at
                && s.start.as_str() < b.start.as_str()
                && s.end.as_str() > b.start.as_str()
            {
                marks.push("termasuk ishoma");
                break_shown = true;
            }
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!(" ({})", marks.join(", "))
            };
            println!(
                "    {}-{}  {:<10} {}{}{}  [{}{}]",
                crate::email::hhmm(&s.start),
                crate::email::hhmm(&s.end),
                s.kind,
                s.name,
                part,
                marks,
                if s.estimated { "perkiraan: " } else { "" },
                people_line(&s.people)
            );
        }
    }
    if !v.remainders.is_empty() {
        println!("\nSisa (situs yang dikunjungi tetapi belum selesai minggu ini):");
        for r in &v.remainders {
            println!(
                "  {:<40} {} — {}",
                r.name,
                people_line(&r.people),
                r.text_id
            );
        }
    }
    if !v.unscheduled.is_empty() {
        println!("\nTidak terjadwal (prioritas tertinggi):");
        for u in v.unscheduled.iter().take(5) {
            println!("  {:<40} {}", u.name, u.text_id);
        }
    }
}

pub fn print_ranking(r: &ranking::Ranking, lang: crate::priority::Language) {
    let (title, of) = match lang {
        crate::priority::Language::Id => ("Prioritas", "situs dinilai"),
        crate::priority::Language::En => ("Priorities", "sites scored"),
    };
    println!(
        "{title} {} ({}), minggu {} (mulai {}); {} {of}",
        r.region_name, r.region, r.week, r.week_start, r.sites_ranked
    );
    for item in &r.items {
        let sentence = match lang {
            crate::priority::Language::Id => &item.explanation.id,
            crate::priority::Language::En => &item.explanation.en,
        };
        println!(
            "{:>4}. [{:>8.1}] {:<10} {sentence}",
            item.rank, item.score, item.site.kind
        );
    }
}
