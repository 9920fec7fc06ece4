//! One import of one file: read, parse, apply. Shared by `jemput import`, `demo` and the tests.

use std::path::Path;

use crate::store::Db;

use crate::domain::RegionCode;
use crate::import::{self, Dataset, Problem, Progress, Summary, format_problems};
use crate::store::StoreError;
use crate::store::import::{self as apply, ApplyError};

#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Only rows inside this region (regions and boundaries).
    pub within: Option<RegionCode>,
    /// Accept coverage with holders above eligible (stale DKB base).
    pub allow_over_100: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: tidak bisa dibaca: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: impor dibatalkan, tidak ada yang disimpan ({} masalah):{}", problems.len(), format_problems(file, problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
    #[error("{file}: {source}")]
    Store { file: String, source: StoreError },
}

impl ImportError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            ImportError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// Whether a file is GeoJSON (boundaries) rather than CSV.
fn is_geojson(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json"))
}

pub async fn import_file(
    db: &Db,
    dataset: Dataset,
    path: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Summary, ImportError> {
    let file = path.display().to_string();
    let data = tokio::fs::read(path)
        .await
        .map_err(|source| ImportError::Read {
            file: file.clone(),
            source,
        })?;
    import_bytes(
        db,
        dataset,
        &file,
        &data,
        is_geojson(path),
        options,
        progress,
    )
    .await
}

pub async fn import_bytes(
    db: &Db,
    dataset: Dataset,
    file: &str,
    data: &[u8],
    geojson: bool,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Summary, ImportError> {
    let invalid = |problems: Vec<Problem>| ImportError::Invalid {
        file: file.to_string(),
        problems,
    };
    let result = match (dataset, geojson) {
        (Dataset::Regions, true) => {
            let records = import::parse_boundaries(data).map_err(invalid)?;
            apply::boundaries(db, records, options.within.as_ref(), progress).await
        }
        (Dataset::Regions, false) => {
            let records = import::parse_regions(data).map_err(invalid)?;
            apply::regions(db, records, options.within.as_ref(), progress).await
        }
        (Dataset::Sites, _) => {
            apply::sites(db, import::parse_sites(data).map_err(invalid)?, progress).await
        }
        (Dataset::Coverage, _) => {
            let records = import::parse_coverage(data, options.allow_over_100).map_err(invalid)?;
            apply::coverage(db, records, progress).await
        }
        (Dataset::Targets, _) => {
            apply::targets(db, import::parse_targets(data).map_err(invalid)?, progress).await
        }
        (Dataset::Visits, _) => {
            apply::visits(db, import::parse_visits(data).map_err(invalid)?, progress).await
        }
        (Dataset::Teams, _) => {
            apply::teams(db, import::parse_teams(data).map_err(invalid)?, progress).await
        }
        (Dataset::Events, _) => {
            apply::sites(db, import::parse_events(data).map_err(invalid)?, progress).await
        }
        (Dataset::Stock, _) => {
            let records = import::parse_stock(data).map_err(invalid)?;
            crate::store::stock::import(db, records, progress).await
        }
        (Dataset::Calendar, _) => {
            let records = import::parse_calendar(data).map_err(invalid)?;
            crate::store::calendar::import(db, records, progress).await
        }
    };
    result.map_err(|e| match e {
        ApplyError::Problems(problems) => invalid(problems),
        ApplyError::Store(source) => ImportError::Store {
            file: file.to_string(),
            source,
        },
    })
}
