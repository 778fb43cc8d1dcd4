//! Milenage against every set of TS 35.208 (20), TS 35.207 (6) and GSM-Milenage TS 55.205 (19).

mod common;
use common::*;

use mobstrap_crypto::milenage::{c2, compute_opc, sqn_from_bytes, Milenage, UsimOutcome};

fn check_set(v: &serde_json::Value, label: &str) {
    let k: [u8; 16] = arr(&v["k"]);
    let op: [u8; 16] = arr(&v["op"]);
    let rand: [u8; 16] = arr(&v["rand"]);
    let sqn: [u8; 6] = arr(&v["sqn"]);
    let amf: [u8; 2] = arr(&v["amf"]);
    let opc = compute_opc(&k, &op);
    assert_eq!(&opc.as_bytes()[..], &hx(&v["opc"])[..], "{label}: OPc");

    let m = Milenage::new(&k, opc.as_bytes());
    assert_eq!(
        m.f1(&rand, &sqn, &amf).to_vec(),
        hx(&v["f1"]),
        "{label}: f1"
    );
    assert_eq!(
        m.f1_star(&rand, &sqn, &amf).to_vec(),
        hx(&v["f1_star"]),
        "{label}: f1*"
    );
    let o = m.f2345(&rand);
    assert_eq!(o.res.to_vec(), hx(&v["f2"]), "{label}: f2");
    assert_eq!(o.ck.as_bytes().to_vec(), hx(&v["f3"]), "{label}: f3");
    assert_eq!(o.ik.as_bytes().to_vec(), hx(&v["f4"]), "{label}: f4");
    assert_eq!(o.ak.to_vec(), hx(&v["f5"]), "{label}: f5");
    assert_eq!(m.f5_star(&rand).to_vec(), hx(&v["f5_star"]), "{label}: f5*");

    // Same outputs when OPc is derived internally from OP.
    assert_eq!(
        Milenage::with_op(&k, &op).f2345(&rand),
        o,
        "{label}: with_op"
    );

    // AKA helpers on the same inputs.
    let sqn_u = sqn_from_bytes(&sqn);
    let av = m.generate_vector(&rand, sqn_u, amf).unwrap();
    assert_eq!(av.xres, o.res);
    assert_eq!(&av.autn[8..], &hx(&v["f1"])[..], "{label}: AUTN MAC-A");
    if let Some(autn) = v.get("derived_autn") {
        assert_eq!(av.autn.to_vec(), hx(autn), "{label}: AUTN");
    }
    match m
        .usim_authenticate(&rand, &av.autn, sqn_u.saturating_sub(1), |s| s == sqn_u)
        .unwrap()
    {
        UsimOutcome::Success {
            res, sqn, amf: a, ..
        } => {
            assert_eq!(res, o.res);
            assert_eq!(sqn, sqn_u);
            assert_eq!(a, amf);
        }
        other => panic!("{label}: {other:?}"),
    }
    // Resynchronisation round trip with a SQN_MS derived from the set's SQN.
    let sqn_ms = sqn_u ^ 0x0000_0000_1f00;
    let auts = m.auts(&rand, sqn_ms).unwrap();
    // AUTS = SQN_MS xor AK* | MAC-S, MAC-S = f1*(SQN_MS, RAND, AMF = 0).
    let ak_star = hx(&v["f5_star"]);
    let ms = mobstrap_crypto::milenage::sqn_to_bytes(sqn_ms).unwrap();
    for i in 0..6 {
        assert_eq!(auts[i], ms[i] ^ ak_star[i], "{label}: AUTS conceal");
    }
    assert_eq!(auts[6..], m.f1_star(&rand, &ms, &[0, 0]), "{label}: MAC-S");
    assert_eq!(m.resync(&rand, &auts).unwrap(), sqn_ms, "{label}: resync");
}

#[test]
fn ts35208_all_20_sets() {
    let f = load("milenage_ts35208.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 20);
    for v in &vs {
        check_set(v, &format!("35.208 set {}", v["test_set"]));
    }
}

#[test]
fn ts35207_all_6_sets() {
    let f = load("milenage_ts35207.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 6);
    for v in &vs {
        check_set(v, &format!("35.207 set {}", v["test_set"]));
    }
}

#[test]
fn ts55205_gsm_milenage_all_19_sets() {
    let f = load("gsm_milenage_ts55205.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 19);
    for v in &vs {
        let label = format!("55.205 set {}", v["test_set"]);
        let m = Milenage::new(&arr(&v["ki"]), &arr(&v["opc"]));
        let rand: [u8; 16] = arr(&v["rand"]);
        let o = m.f2345(&rand);
        // SRES via the c2 conversion (TS 33.102) and the GSM-Milenage SRES (TS 55.205).
        assert_eq!(
            c2(&o.res).unwrap().to_vec(),
            hx(&v["sres_1"]),
            "{label}: SRES#1 (c2)"
        );
        let (sres, kc) = m.gsm(&rand);
        assert_eq!(sres.to_vec(), hx(&v["sres_2"]), "{label}: SRES#2");
        assert_eq!(kc.as_bytes().to_vec(), hx(&v["kc"]), "{label}: Kc (c3)");
    }
}
