//! Deterministic network simulator for synack (see the simulator issue).
