//! The download progress bar of `assay install` and `update`: on standard error when it is a
//! terminal and `-q` was not given; nothing otherwise (a CI log or a Docker build gets the
//! summary lines only).

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::install::plan::Progress;

pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        let shown = !quiet && std::io::stderr().is_terminal();
        Self {
            bar: shown.then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())),
        }
    }
}

impl Progress for Bar {
    fn start(&self, total_bytes: u64, archives: usize) {
        let Some(bar) = &self.bar else { return };
        if archives == 0 {
            return;
        }
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_length(total_bytes);
        let plural = if archives == 1 { "" } else { "s" };
        bar.set_message(format!("downloading {archives} package{plural}"));
    }

    fn ticker(&self) -> Box<dyn Fn(u64)> {
        match &self.bar {
            Some(bar) => {
                let bar = bar.clone();
                Box::new(move |n| bar.inc(n))
            }
            None => Box::new(|_| {}),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
