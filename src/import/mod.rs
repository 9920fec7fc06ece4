//! Import parsing: CSV and GeoJSON bytes → validated records, each remembering its line.
//! Pure (no database): references to existing regions are checked by `store::import`, inside
//! the transaction that writes, so a file is applied all-or-nothing.

mod parse;

pub use parse::*;

use std::fmt;

/// One thing wrong with an input file, located as precisely as the format allows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// CSV: the physical line (header = 1). GeoJSON: the feature number (first = 1).
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn at(line: u64, column: &str, message: impl Into<String>) -> Self {
        Self {
            line,
            column: Some(column.to_string()),
            message: message.into(),
        }
    }

    pub fn line(line: u64, message: impl Into<String>) -> Self {
        Self {
            line,
            column: None,
            message: message.into(),
        }
    }
}

/// What `jemput import` can load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    Regions,
    Sites,
    Coverage,
    Targets,
    Teams,
    Visits,
    Calendar,
    /// Dated events: crowd points, the office's extra service days (`jemput import events`).
    Events,
    /// Blangko (blank card) stock per kabupaten/kota (`jemput import stock`).
    Stock,
}

impl Dataset {
    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Regions => "regions",
            Dataset::Sites => "sites",
            Dataset::Coverage => "coverage",
            Dataset::Targets => "targets",
            Dataset::Teams => "teams",
            Dataset::Visits => "visits",
            Dataset::Calendar => "calendar",
            Dataset::Events => "events",
            Dataset::Stock => "stock",
        }
    }
}

/// How one import went.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows outside the `--within` region.
    pub skipped: usize,
}

impl Summary {
    pub fn changed(&self) -> bool {
        self.inserted + self.updated > 0
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} baru, {} diperbarui, {} tidak berubah",
            self.inserted, self.updated, self.unchanged
        )?;
        if self.skipped > 0 {
            write!(f, ", {} dilewati (di luar wilayah)", self.skipped)?;
        }
        Ok(())
    }
}

/// Reports progress of a long import; the CLI draws a bar, everything else ignores it.
pub trait Progress: Send + Sync {
    fn start(&self, _total: u64) {}
    fn inc(&self, _n: u64) {}
    fn finish(&self) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

/// Problems shown in an error message; the rest are counted.
pub const SHOWN_PROBLEMS: usize = 20;

pub fn format_problems(file: &str, problems: &[Problem]) -> String {
    let mut out = String::new();
    for p in problems.iter().take(SHOWN_PROBLEMS) {
        out.push_str(&format!("\n  {file}:{}", p.line));
        if let Some(c) = &p.column {
            out.push_str(&format!(": kolom {c}"));
        }
        out.push_str(&format!(": {}", p.message));
    }
    if problems.len() > SHOWN_PROBLEMS {
        out.push_str(&format!(
            "\n  … dan {} masalah lain",
            problems.len() - SHOWN_PROBLEMS
        ));
    }
    out
}
