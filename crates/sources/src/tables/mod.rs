//! One module per table of the contract, each the same shape: a
//! [`TableSpec`](crate::TableSpec) named `SPEC`. Adding a department is
//! adding a file here and a line in [`ALL`].

pub mod applications;
pub mod bank;
pub mod business;
pub mod death;
pub mod disability;
pub mod expense;
pub mod housing_fund;
pub mod hukou;
pub mod insurance;
pub mod members;
pub mod property;
pub mod roster_households;
pub mod roster_members;
pub mod securities;
pub mod social_insurance;
pub mod staff;
pub mod tax;
pub mod vehicle;

use crate::spec::TableSpec;

/// Every table of the contract: the 14 department extracts, then the
/// check requests, then the monitoring roster.
pub static ALL: [&TableSpec; 18] = [
    &hukou::SPEC,
    &death::SPEC,
    &tax::SPEC,
    &social_insurance::SPEC,
    &housing_fund::SPEC,
    &property::SPEC,
    &vehicle::SPEC,
    &bank::SPEC,
    &securities::SPEC,
    &insurance::SPEC,
    &business::SPEC,
    &disability::SPEC,
    &expense::SPEC,
    &staff::SPEC,
    &applications::SPEC,
    &members::SPEC,
    &roster_households::SPEC,
    &roster_members::SPEC,
];
