//! Writes every sample message into the cargo-fuzz corpus of the codec that reads it, so
//! that a short fuzz run starts from valid messages of every type.
//! Usage: cargo run -p mobstrap-wire --example fuzz_seeds -- fuzz/corpus
use std::path::PathBuf;

use mobstrap_wire::{frame, radius, sample};

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let mut n = 0;
    for s in sample::all() {
        let Ok(p) = frame::peel_ip(&s.packet) else {
            continue;
        };
        let (family, name) = s.name.split_once('/').unwrap_or(("misc", &s.name));
        let mut put = |target: &str, bytes: &[u8]| -> std::io::Result<()> {
            let d = dir.join(target);
            std::fs::create_dir_all(&d)?;
            std::fs::write(
                d.join(format!("sample-{family}-{}", name.replace('/', "_"))),
                bytes,
            )?;
            n += 1;
            Ok(())
        };
        match family {
            "eap" | "radius" => {
                put("radius", p.payload)?;
                if let Ok(r) = radius::Repr::parse(p.payload) {
                    if let Some(eap) = r.eap_message() {
                        put("eap", &eap)?;
                    }
                }
            }
            "ikev2" | "esp" | "diameter" | "mh" | "icmpv6" | "mip4" => put(family, p.payload)?,
            _ => {}
        }
        put("frame", &s.packet)?;
    }
    println!("{n} seeds written under {}", dir.display());
    Ok(())
}
