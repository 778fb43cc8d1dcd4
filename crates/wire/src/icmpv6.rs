//! stub
pub fn samples() -> Vec<crate::sample::Sample> { Vec::new() }
