//! Mobility Header tests.
