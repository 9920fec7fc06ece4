//! Words for dates and numbers, shared by the sentences of the ranking and the schedule emails.

use chrono::{Datelike, NaiveDate};

pub const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The month's name in Bahasa Indonesia or English.
pub fn month_name(d: NaiveDate, english: bool) -> &'static str {
    let i = d.month0() as usize;
    if english { MONTHS_EN[i] } else { MONTHS_ID[i] }
}

/// "30 September 2024".
pub fn day_month_year(d: NaiveDate, english: bool) -> String {
    format!("{} {} {}", d.day(), month_name(d, english), d.year())
}

/// `1.250` (Indonesian) / `1,250` (English).
pub fn thousands(n: i64, english: bool) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = if english { ',' } else { '.' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}
