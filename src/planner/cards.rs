//! Blank cards and printers: how many cards a week's visits may promise to print on site.
//!
//! A KIA is issued on the spot, so every KIA a visit promises takes a blank KIA card and printer
//! time; a team with `cetak_kartu` also prints the KTP-el cards of the people it records. A
//! printer makes `cards_per_printer_day` cards a day (200–250: it overheats), and the office's
//! blangko stock bounds the week. Visits are served in plan order (day, team, sequence): KIA first
//! (without a card the child is not served at all), then KTP-el cards (without one the person is
//! still recorded; the card is printed at the office later). What a visit cannot issue is taken
//! off its promise and reported.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

/// One visit as the card limits see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CardVisit {
    pub team_id: i64,
    pub day: NaiveDate,
    pub seq: i32,
    /// People the visit records for KTP-el and serves for KIA.
    pub ktp_el: u32,
    pub kia: u32,
    /// The team prints KTP-el cards on site (`cetak_kartu`).
    pub prints_ktp_el: bool,
}

/// Blank cards in stock for the week (`None`: no stock is on record, only printers limit).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Stock {
    pub ktp_el: Option<u32>,
    pub kia: Option<u32>,
}

/// What one visit may promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CardPromise {
    pub ktp_el: u32,
    pub kia: u32,
    /// KIA the visit cannot issue (no blank card or no printer time left that day).
    pub kia_short: u32,
    /// KTP-el recorded but not printed on site (to be printed at the office).
    pub ktp_el_unprinted: u32,
}

/// The cards of every visit (same order as `visits`). `printers` is each team's printers.
pub fn limit_cards(
    visits: &[CardVisit],
    printers: &BTreeMap<i64, u32>,
    cards_per_printer_day: u32,
    stock: Stock,
) -> Vec<CardPromise> {
    let mut order: Vec<usize> = (0..visits.len()).collect();
    order.sort_by_key(|&i| (visits[i].day, visits[i].team_id, visits[i].seq, i));
    let mut day_left: BTreeMap<(i64, NaiveDate), u32> = BTreeMap::new();
    let mut ktp_left = stock.ktp_el.unwrap_or(u32::MAX);
    let mut kia_left = stock.kia.unwrap_or(u32::MAX);
    let mut out = vec![CardPromise::default(); visits.len()];
    for i in order {
        let v = &visits[i];
        let left = day_left.entry((v.team_id, v.day)).or_insert_with(|| {
            printers
                .get(&v.team_id)
                .copied()
                .unwrap_or(1)
                .saturating_mul(cards_per_printer_day)
        });
        let kia = v.kia.min(*left).min(kia_left);
        *left -= kia;
        kia_left -= kia;
        let want_ktp = if v.prints_ktp_el { v.ktp_el } else { 0 };
        let ktp = want_ktp.min(*left).min(ktp_left);
        *left -= ktp;
        ktp_left -= ktp;
        out[i] = CardPromise {
            ktp_el: ktp,
            kia,
            kia_short: v.kia - kia,
            ktp_el_unprinted: want_ktp - ktp,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7 + d).unwrap()
    }

    #[test]
    fn kia_comes_first_and_a_printer_day_is_shared_by_the_teams_visits() {
        let visits = vec![
            CardVisit {
                team_id: 1,
                day: day(0),
                seq: 1,
                ktp_el: 150,
                kia: 0,
                prints_ktp_el: true,
            },
            CardVisit {
                team_id: 1,
                day: day(0),
                seq: 2,
                ktp_el: 0,
                kia: 80,
                prints_ktp_el: true,
            },
            CardVisit {
                team_id: 2,
                day: day(0),
                seq: 1,
                ktp_el: 90,
                kia: 30,
                prints_ktp_el: false,
            },
        ];
        let printers = BTreeMap::from([(1, 1), (2, 1)]);
        let got = limit_cards(
            &visits,
            &printers,
            200,
            Stock {
                ktp_el: None,
                kia: Some(100),
            },
        );
        // Team 1: 150 KTP-el cards, then only 50 of the 80 KIA fit that printer-day.
        assert_eq!(
            got[0],
            CardPromise {
                ktp_el: 150,
                kia: 0,
                kia_short: 0,
                ktp_el_unprinted: 0
            }
        );
        assert_eq!(
            got[1],
            CardPromise {
                ktp_el: 0,
                kia: 50,
                kia_short: 30,
                ktp_el_unprinted: 0
            }
        );
        // Team 2 prints no KTP-el; its 30 KIA would fit, but only 50 blank KIA cards are left.
        assert_eq!(
            got[2],
            CardPromise {
                ktp_el: 0,
                kia: 30,
                kia_short: 0,
                ktp_el_unprinted: 0
            }
        );
        let tight = limit_cards(
            &visits,
            &printers,
            200,
            Stock {
                ktp_el: Some(100),
                kia: Some(60),
            },
        );
        assert_eq!(tight[0].ktp_el_unprinted, 50);
        assert_eq!(tight[1].kia + tight[2].kia, 60);
    }

    fn visit() -> impl Strategy<Value = CardVisit> {
        (
            1i64..4,
            0u32..6,
            1i32..8,
            0u32..400,
            0u32..400,
            any::<bool>(),
        )
            .prop_map(|(team_id, d, seq, ktp_el, kia, prints_ktp_el)| CardVisit {
                team_id,
                day: day(d),
                seq,
                ktp_el,
                kia,
                prints_ktp_el,
            })
    }

    proptest! {
        /// A plan never promises more cards than the stock, nor more in a team-day than its
        /// printers make, nor more than a visit's people; what it cannot issue is accounted.
        #[test]
        fn promises_never_exceed_stock_or_printer_capacity(
            visits in prop::collection::vec(visit(), 0..40),
            printers in prop::collection::btree_map(1i64..4, 1u32..3, 0..4),
            per_day in 50u32..300,
            ktp_stock in prop::option::of(0u32..2000),
            kia_stock in prop::option::of(0u32..2000),
        ) {
            let stock = Stock { ktp_el: ktp_stock, kia: kia_stock };
            let got = limit_cards(&visits, &printers, per_day, stock);
            let mut per_team_day: BTreeMap<(i64, NaiveDate), u32> = BTreeMap::new();
            for (v, p) in visits.iter().zip(&got) {
                *per_team_day.entry((v.team_id, v.day)).or_default() += p.ktp_el + p.kia;
                prop_assert_eq!(p.kia + p.kia_short, v.kia);
                let want = if v.prints_ktp_el { v.ktp_el } else { 0 };
                prop_assert_eq!(p.ktp_el + p.ktp_el_unprinted, want);
            }
            for ((team, _), n) in per_team_day {
                let cap = printers.get(&team).copied().unwrap_or(1) * per_day;
                prop_assert!(n <= cap, "team {} printed {} > {}", team, n, cap);
            }
            let (ktp, kia): (u32, u32) = got.iter().fold((0, 0), |a, p| (a.0 + p.ktp_el, a.1 + p.kia));
            if let Some(s) = ktp_stock { prop_assert!(ktp <= s); }
            if let Some(s) = kia_stock { prop_assert!(kia <= s); }
        }
    }
}
