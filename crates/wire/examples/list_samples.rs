//! Lists every sample message: name, size, and the tshark arguments it needs.
fn main() {
    for s in mobstrap_wire::sample::all() {
        println!(
            "{:<40} {:>5} {}",
            s.name,
            s.packet.len(),
            s.tshark_args.join(" ")
        );
    }
}
