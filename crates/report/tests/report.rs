//! The one integration-test binary of hedui-report: one module per area.

mod common;
mod diff;
mod golden;
mod html;
mod json;
mod properties;
mod summary;
