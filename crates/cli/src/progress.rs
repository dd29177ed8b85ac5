//! Terminal progress bars (hidden when standard error is not a terminal).

use chengxin_jobs::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar for a job.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar with a label; the total is set by the job.
    pub fn new(label: &'static str) -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:40}] {human_pos}/{human_len} {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(label);
        Bar(bar)
    }

    /// A counter for a stream of unknown length.
    pub fn spinner(label: &'static str) -> Bar {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} {spinner} {human_pos} rows {per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(label);
        Bar(bar)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
}
