//! Writing a batch's outcomes: `<application_id>.json` and `.html` per
//! household, `summary.json` for the batch.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use hedui_report::{Outcome, Summary};
use rayon::prelude::*;

/// Writes each outcome's JSON (and HTML for a report) and summary.json;
/// returns the summary's value.
pub fn write_outcomes(out: &Path, outcomes: &[Outcome]) -> Result<serde_json::Value> {
    let w = ReportWriter::create(out)?;
    outcomes.par_iter().try_for_each(|o| w.write(o))?;
    w.finish()
}

/// Writes a batch's outcomes as they come (from any thread):
/// `<application_id>.json` and, for a report, `.html`; the summary is
/// counted on the way and written by [`ReportWriter::finish`], so a batch
/// of any size is written without holding its reports.
#[derive(Debug)]
pub struct ReportWriter {
    out: PathBuf,
    summary: Mutex<Summary>,
}

impl ReportWriter {
    /// Creates the folder (if needed).
    pub fn create(out: &Path) -> Result<ReportWriter> {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        Ok(ReportWriter {
            out: out.to_owned(),
            summary: Mutex::new(Summary::new()),
        })
    }

    /// Writes one outcome and counts it.
    pub fn write(&self, o: &Outcome) -> Result<()> {
        self.write_json(o, &o.to_json())
    }

    /// Writes one outcome whose canonical JSON (`o.to_json()`) is `text`,
    /// and counts it.
    pub fn write_json(&self, o: &Outcome, text: &str) -> Result<()> {
        let stem = safe_file_stem(o.application_id());
        let json = self.out.join(format!("{stem}.json"));
        std::fs::write(&json, text).with_context(|| format!("writing {}", json.display()))?;
        if let Outcome::Report(r) = o {
            let html = self.out.join(format!("{stem}.html"));
            std::fs::write(&html, hedui_report::html(r))
                .with_context(|| format!("writing {}", html.display()))?;
        }
        self.summary
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(o);
        Ok(())
    }

    /// Writes `summary.json` and returns the summary's value.
    pub fn finish(self) -> Result<serde_json::Value> {
        let summary = self
            .summary
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .to_value();
        let path = self.out.join("summary.json");
        std::fs::write(&path, serde_json::to_string_pretty(&summary)?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(summary)
    }
}

/// An application id as a file name: path separators and other unsafe
/// characters replaced, so an id can never write outside the folder.
pub fn safe_file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}
