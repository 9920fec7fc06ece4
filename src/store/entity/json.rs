//! The shapes of the JSON columns (`jsonb` on PostgreSQL, JSON text on SQLite): sea-orm reads
//! and writes them as these types, so a value that does not parse is an error, not an empty map.

use std::collections::BTreeMap;

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

/// Whole people per key (indicator): eligible people, a site's own counts, deliveries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct Counts(pub BTreeMap<String, i64>);

/// What a log reports per key (service or reason).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct Tally(pub BTreeMap<String, u32>);

/// Expected people per indicator (estimates are fractional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct People(pub BTreeMap<String, f64>);

/// A list of codes (a log's anomaly flags).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct Labels(pub Vec<String>);

macro_rules! inner {
    ($($name:ident => $inner:ty),*) => {$(
        impl From<$name> for $inner {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }
    )*};
}

inner!(
    Counts => BTreeMap<String, i64>,
    Tally => BTreeMap<String, u32>,
    People => BTreeMap<String, f64>,
    Labels => Vec<String>
);
