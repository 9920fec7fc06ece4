//! What a plan is made of, as its readers count it.

use serde::Serialize;

/// What re-planning changed, counted over the base plan's visits that were not completed.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, utoipa::ToSchema)]
pub struct Changes {
    /// Still planned, on another team or day.
    pub moved: i32,
    /// Planned now, not before.
    pub added: i32,
    /// Planned before, not now.
    pub dropped: i32,
    /// Kept as they were because their day was already worked or the visit was logged.
    pub kept_completed: i32,
}
