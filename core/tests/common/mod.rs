//! Helpers shared by the integration tests of this directory. Each test binary uses only part of them.

#[allow(dead_code)]
pub mod differential;
#[allow(dead_code)]
pub mod malformed;
#[allow(dead_code)]
pub mod malformed6;
#[allow(dead_code)]
pub mod tcp;
