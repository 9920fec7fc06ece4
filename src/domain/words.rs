//! Words for dates, shared by the sentences of the ranking and the schedule emails.

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
