//! Helpers shared by the integration tests: load the vector files copied from
//! `shared/vectors/` into `tests/data/`.
#![allow(dead_code)]

use serde_json::Value;

pub fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `vectors` array, checked against the file's own `count`.
pub fn vectors(file: &Value) -> Vec<Value> {
    let v = file["vectors"].as_array().expect("vectors array").clone();
    if let Some(count) = file["count"].as_u64() {
        assert_eq!(v.len() as u64, count, "count field disagrees with vectors");
    }
    v
}

pub fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))).expect("hex")
}

pub fn arr<const N: usize>(v: &Value) -> [u8; N] {
    let b = hx(v);
    b.clone()
        .try_into()
        .unwrap_or_else(|_| panic!("expected {N} octets, got {}: {v}", b.len()))
}

pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

pub fn ha<const N: usize>(s: &str) -> [u8; N] {
    h(s).try_into().expect("length")
}
