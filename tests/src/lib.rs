//! Integration-test helpers for synack.
