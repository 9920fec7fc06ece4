//! Blangko and printers on a stored plan: each visit's cards within its team-day's printer
//! capacity and the week's stock (`planner::cards`); a KIA a visit cannot issue is taken off its
//! promise, and the plan's notes say how many and where.

use chrono::NaiveDate;
use serde_json::json;

use super::*;
use crate::domain::site::Capability;
use crate::planner::cards::{CardVisit, Stock, limit_cards};

/// Set `cards` on every stop (and lower a KIA promise that no card backs); the figures for the
/// plan's stats.
pub(super) fn apply_cards(
    stops: &mut [plans::NewStop],
    teams: &[TeamInput],
    settings: &WeekSettings,
    stock: Option<(NaiveDate, u32, u32)>,
) -> serde_json::Value {
    let count =
        |p: &BTreeMap<String, f64>, k: &str| p.get(k).map_or(0, |n| n.max(0.0).round() as u32);
    let visits: Vec<CardVisit> = stops
        .iter()
        .map(|s| CardVisit {
            team_id: s.team_id,
            day: s.day,
            seq: s.seq,
            ktp_el: count(&s.people, "ktp_el"),
            kia: count(&s.people, "kia"),
            prints_ktp_el: teams
                .iter()
                .any(|t| t.id == s.team_id && t.capabilities.contains(&Capability::CetakKartu)),
        })
        .collect();
    let printers: BTreeMap<i64, u32> = teams
        .iter()
        .map(|t| (t.id, t.resources.get("printer").copied().unwrap_or(1)))
        .collect();
    let limits = Stock {
        ktp_el: stock.map(|s| s.1),
        kia: stock.map(|s| s.2),
    };
    let promises = limit_cards(&visits, &printers, settings.cards_per_printer_day, limits);
    let (mut used_ktp, mut used_kia, mut kia_short, mut unprinted) = (0, 0, 0, 0);
    let mut short_sites = Vec::new();
    for (stop, p) in stops.iter_mut().zip(&promises) {
        stop.cards = [("ktp_el", p.ktp_el), ("kia", p.kia)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        if p.kia_short > 0 {
            stop.people.insert("kia".into(), f64::from(p.kia));
            short_sites.push(
                json!({ "site_id": stop.site_id, "day": stop.day, "kia_short": p.kia_short }),
            );
        }
        used_ktp += p.ktp_el;
        used_kia += p.kia;
        kia_short += p.kia_short;
        unprinted += p.ktp_el_unprinted;
    }
    json!({
        "stock": stock.map(|(as_of, ktp_el, kia)| json!({ "as_of": as_of, "ktp_el": ktp_el, "kia": kia })),
        "per_printer_day": settings.cards_per_printer_day,
        "printed": { "ktp_el": used_ktp, "kia": used_kia },
        "kia_short": kia_short,
        "ktp_el_unprinted": unprinted,
        "short_sites": short_sites,
    })
}
