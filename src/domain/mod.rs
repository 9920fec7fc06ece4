//! Pure domain types: no database, no HTTP. Parsing here is "parse, don't validate": a value of
//! these types is known to be well-formed.

pub mod calendar;
pub mod coverage;
pub mod geo;
pub mod hours;
pub mod plan;
pub mod region;
pub mod site;
pub mod week;
pub mod words;

pub use coverage::{Coverage, Indicator};
pub use geo::Coordinate;
pub use hours::WeeklyHours;
pub use region::{RegionCode, RegionLevel};
pub use site::{Capability, CoordQuality, SiteKind};
pub use week::Week;
