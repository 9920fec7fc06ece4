//! Progress of a long import on the terminal.

use std::io::IsTerminal;
use std::path::Path;

use crate::import::{NoProgress, Progress};

/// A bar on stderr for large files when a person is watching; silent otherwise.
pub(super) fn progress_for(file: &Path, min_rows: usize) -> Box<dyn Progress> {
    if !std::io::stderr().is_terminal() {
        return Box::new(NoProgress);
    }
    let big = std::fs::metadata(file)
        .map(|m| m.len() as usize / 80 >= min_rows)
        .unwrap_or(false);
    if big {
        Box::new(Bar::new(file))
    } else {
        Box::new(NoProgress)
    }
}

struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(file: &Path) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} baris ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(file.display().to_string());
        Self(bar)
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
