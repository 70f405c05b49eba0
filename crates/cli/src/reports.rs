//! Writing a batch's outcomes: `<application_id>.json` and `.html` per
//! household, `summary.json` for the batch.

use std::path::Path;

use anyhow::{Context, Result};
use hedui_report::Outcome;
use rayon::prelude::*;

/// Writes each outcome's JSON (and HTML for a report) and summary.json.
pub fn write_outcomes(out: &Path, outcomes: &[Outcome]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    outcomes.par_iter().try_for_each(|o| -> Result<()> {
        let stem = safe_file_stem(o.application_id());
        let json = out.join(format!("{stem}.json"));
        std::fs::write(&json, o.to_json())
            .with_context(|| format!("writing {}", json.display()))?;
        if let Outcome::Report(r) = o {
            let html = out.join(format!("{stem}.html"));
            std::fs::write(&html, hedui_report::html(r))
                .with_context(|| format!("writing {}", html.display()))?;
        }
        Ok(())
    })?;
    let summary = hedui_report::summary(outcomes);
    let path = out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
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
