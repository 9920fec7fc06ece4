//! The one clock for calendar decisions: which week is "next", what "today" is for a re-plan, when
//! a visit link expires, how late a log is, when the weekly trigger fires. It is injected (from
//! `clock.fixed` in configuration, for tests and demonstrations) so that nothing of the suite
//! depends on the day it runs. Durations that only measure elapsed time (outbox leases and
//! backoff, sessions, rate limits) keep the system clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Always the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The system clock, or the fixed instant configured.
pub fn from_fixed(fixed: Option<DateTime<Utc>>) -> SharedClock {
    match fixed {
        Some(t) => Arc::new(FixedClock(t)),
        None => Arc::new(SystemClock),
    }
}
