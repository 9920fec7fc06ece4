//! Coordinates. The domain always speaks (lat, lon); `geo` wants x = lon, y = lat, and this is
//! the one place that mapping is made.

use geo::{Distance, Haversine, Point};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinate {
    lat: f64,
    lon: f64,
}

impl Coordinate {
    /// Reject NaN, infinities and out-of-range values; the error names which part is wrong.
    pub fn new(lat: f64, lon: f64) -> Result<Self, String> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(format!("lintang (lat) di luar -90..90: {lat}"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(format!("bujur (lon) di luar -180..180: {lon}"));
        }
        Ok(Self { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    pub fn point(&self) -> Point<f64> {
        Point::new(self.lon, self.lat)
    }

    /// Great-circle distance in metres.
    pub fn distance_m(&self, other: &Coordinate) -> f64 {
        Haversine.distance(self.point(), other.point())
    }
}

/// Parse one coordinate field; "NaN", "inf" and friends parse as floats in Rust, so the range
/// check in [`Coordinate::new`] is what rejects them.
pub fn parse_degrees(s: &str) -> Result<f64, String> {
    let t = s.trim();
    t.parse::<f64>().map_err(|_| format!("bukan angka: {t:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_uses_lat_lon_in_the_right_order() {
        // New York to London is about 5,570 km.
        let ny = Coordinate::new(40.7128, -74.0060).unwrap();
        let london = Coordinate::new(51.5074, -0.1278).unwrap();
        let km = ny.distance_m(&london) / 1000.0;
        assert!((km - 5570.0).abs() < 5570.0 * 0.005, "{km}");
    }

    #[test]
    fn non_finite_and_out_of_range_values_are_rejected() {
        for (lat, lon) in [
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
            (91.0, 0.0),
            (0.0, -180.5),
        ] {
            assert!(Coordinate::new(lat, lon).is_err(), "({lat}, {lon})");
        }
        for s in ["NaN", "inf", "-inf"] {
            let v = parse_degrees(s).unwrap();
            assert!(Coordinate::new(v, 0.0).is_err(), "{s}");
        }
        assert!(parse_degrees("-8.17a").is_err());
    }
}
