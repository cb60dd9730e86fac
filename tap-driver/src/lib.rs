//! Live TAP driver for synack (see the TAP driver issue).
