//! The library half of the `hedui` binary. The check pipeline shared by
//! `hedui verify`, `hedui replay`, `hedui demo`, the server and the
//! end-to-end benchmark lives in `hedui-server` and is re-exported here
//! under its old paths (`hedui::check`, `hedui::reports`, `hedui::monitor`).

pub use hedui_server::{check, monitor, reports};

pub mod allocator;
