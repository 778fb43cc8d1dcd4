//! `mobstrap bench attach` as a user runs it (issue #5), small: the three node processes
//! (`mobstrap aaa`, `gw`, `epdg`) start, 40 UEs from two initiator nodes attach with their
//! own NAIs and USIMs, every one gets its addresses, and the gateway's store holds one IPv4
//! address and one IPv6 prefix per UE (plus the warm-up UE) until the UEs detach, then none;
//! the UEs stay attached through a second of rest (`--rest 1`). Figures are not checked here
//! (docs/performance.md has them); that every attach completed is.

use std::process::Command;

#[test]
fn forty_ues_attach_through_the_three_node_processes() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .arg("120")
        .arg(env!("CARGO_BIN_EXE_mobstrap"))
        .args([
            "bench",
            "attach",
            "--ues",
            "40",
            "--initiators",
            "2",
            "--window",
            "8",
            "--port",
            "21500",
            "--rest",
            "1",
            "--quiet",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run mobstrap");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("bench attach: 40 UEs attached in") && stdout.contains("; 0 failed;"),
        "{stdout}"
    );
    assert!(stdout.contains("memory per attached UE"), "{stdout}");
    assert!(
        stdout.contains("memory per attached UE after 1 s at rest"),
        "{stdout}"
    );
    assert!(stdout.contains("CPU per attach"), "{stdout}");

    // after the UEs' IKE DELETEs every binding is gone and its addresses are free
    assert!(
        stdout.contains("detach: 41 UEs sent IKE DELETE; all 41 bindings' addresses released"),
        "{stdout}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("gw.sqlite").display());
        let store = mobstrap_store::Store::open(&url).await.unwrap();
        assert_eq!(store.pool_count("gw.ipv4").await.unwrap(), 0);
        assert_eq!(store.pool_count("gw.ipv6").await.unwrap(), 0);
    });
    // every UE had its own subscriber: the AAA's store advanced UE 39's SQN
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("hss.sqlite").display());
        let store = mobstrap_store::Store::open(&url).await.unwrap();
        let imsi = mobstrap_store::Imsi::new("001010000000039").unwrap();
        let sub = store.subscriber_uncached(&imsi).await.unwrap().unwrap();
        assert!(sub.seq_hwm > 0, "UE 39 was never authenticated");
    });
}
