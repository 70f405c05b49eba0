//! Integration tests of `hedui-policy`: one binary, one module per area.
//! Each test names the behaviour a user depends on.

mod common;

mod assets;
mod determinations;
mod files;
mod flags;
mod income;
mod membership;
mod monitor;
mod properties;
