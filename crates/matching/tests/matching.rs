//! Integration tests of hedui-matching: every method on hand-made
//! fixtures (both traps included), determinism across thread counts,
//! hashes, blocking counts, the Arrow schema, and the synthetic city.

mod api;
mod city;
mod common;
mod fixtures;
mod methods;
