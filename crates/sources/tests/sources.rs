//! Integration tests of `hedui-sources`: every table through every file
//! format, schema rejections, quarantine reasons, the broken-input folder.

mod broken;
mod common;
mod formats;
mod normalise;
