//! EAP-SIM / EAP-AKA / EAP-AKA' key derivations against every published vector we hold:
//! FIPS 186-2 PRF (NIST example), RFC 4186 Appendix A, the FreeRADIUS EAP-AKA and fast
//! re-authentication KATs, and RFC 5448/9048 Appendix C cases 1-4.

mod common;
use common::*;

use mobstrap_crypto::eap_aka::{aka_mk, sim_mk, AkaKeys, ReauthKeys};
use mobstrap_crypto::eap_aka_prime::{ck_ik_prime, AkaPrimeKeys};
use mobstrap_crypto::fips186::{fips186_2_prf, Fips186Prf};
use mobstrap_crypto::milenage::{Milenage, UsimOutcome};

#[test]
fn fips186_2_prf_nist_example_with_intermediates() {
    let f = load("fips186_2_prf.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 1);
    let v = &vs[0];
    assert_eq!(hx(&v["xseed"]), vec![0u8; 20], "RFC 4187 uses XSEED = 0");
    let mut prf = Fips186Prf::new(&arr(&v["xkey"]));
    assert_eq!(prf.xkey().to_vec(), hx(&v["iteration_1"]["xval"]));
    assert_eq!(prf.next_w().to_vec(), hx(&v["iteration_1"]["w0"]));
    assert_eq!(prf.xkey().to_vec(), hx(&v["iteration_1"]["xkey_after"]));
    assert_eq!(prf.xkey().to_vec(), hx(&v["iteration_2"]["xval"]));
    assert_eq!(prf.next_w().to_vec(), hx(&v["iteration_2"]["w1"]));
    assert_eq!(prf.xkey().to_vec(), hx(&v["iteration_2"]["xkey_after"]));
    let mut out = [0u8; 40];
    fips186_2_prf(&arr(&v["xkey"]), &mut out);
    assert_eq!(out.to_vec(), hx(&v["output_40_bytes"]));
}

#[test]
fn rfc4186_appendix_a_eap_sim_keys() {
    let f = load("eap_sim_rfc4186_appendix_a_keys.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 1);
    let v = &vs[0];
    let kcs: Vec<[u8; 8]> = v["gsm_triplets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| arr(&t["kc"]))
        .collect();
    assert_eq!(kcs.len(), 3);
    let mk = sim_mk(
        v["identity"].as_str().unwrap().as_bytes(),
        &kcs,
        &arr(&v["nonce_mt"]),
        &hx(&v["version_list"]),
        arr(&v["selected_version"]),
    );
    assert_eq!(mk.as_bytes().to_vec(), hx(&v["mk"]), "MK");
    let keys = AkaKeys::from_mk(mk);
    assert_eq!(keys.k_encr.as_bytes().to_vec(), hx(&v["k_encr"]), "K_encr");
    assert_eq!(keys.k_aut.as_bytes().to_vec(), hx(&v["k_aut"]), "K_aut");
    assert_eq!(keys.msk.as_bytes().to_vec(), hx(&v["msk"]), "MSK");
    assert_eq!(keys.emsk.as_bytes().to_vec(), hx(&v["emsk"]), "EMSK");
}

#[test]
fn freeradius_eap_aka_full_auth_and_sim_reauth() {
    let f = load("eap_aka_sim_freeradius_kdf.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 2);

    // Vector 0: EAP-AKA full authentication from TS 35.208 set 19 outputs.
    let v = &vs[0];
    let identity = v["identity"].as_str().unwrap().as_bytes();
    let ik: [u8; 16] = arr(&v["ik"]);
    let ck: [u8; 16] = arr(&v["ck"]);
    assert_eq!(
        aka_mk(identity, &ik, &ck).as_bytes().to_vec(),
        hx(&v["mk"]),
        "MK"
    );
    let keys = AkaKeys::derive(identity, &ik, &ck);
    assert_eq!(keys.k_encr.as_bytes().to_vec(), hx(&v["k_encr"]), "K_encr");
    assert_eq!(keys.k_aut.as_bytes().to_vec(), hx(&v["k_aut"]), "K_aut");
    assert_eq!(keys.msk.as_bytes().to_vec(), hx(&v["msk"]), "MSK");
    assert_eq!(keys.emsk.as_bytes().to_vec(), hx(&v["emsk"]), "EMSK");

    // The same RAND/AUTN/IK/CK/XRES come out of Milenage set 19 on the USIM side.
    let m19 = load("milenage_ts35208.json")["vectors"][18].clone();
    assert_eq!(m19["test_set"], 19);
    let m = Milenage::new(&arr(&m19["k"]), &arr(&m19["opc"]));
    let out = m
        .usim_authenticate(&arr(&v["rand"]), &arr(&v["autn"]), 0, |_| true)
        .unwrap();
    let UsimOutcome::Success {
        res, ck: c, ik: i, ..
    } = out
    else {
        panic!("{out:?}");
    };
    assert_eq!(res.to_vec(), hx(&v["xres"]));
    assert_eq!(c.as_bytes(), &ck);
    assert_eq!(i.as_bytes(), &ik);

    // Vector 1: EAP-SIM fast re-authentication (same construction as EAP-AKA, RFC 4187 §7).
    let v = &vs[1];
    let r = ReauthKeys::derive(
        v["identity"].as_str().unwrap().as_bytes(),
        u16::try_from(v["counter"].as_u64().unwrap()).unwrap(),
        &arr(&v["nonce_s"]),
        &arr(&v["mk"]),
    );
    assert_eq!(
        r.xkey_prime.as_bytes().to_vec(),
        hx(&v["xkey_prime"]),
        "XKEY'"
    );
    assert_eq!(r.msk.as_bytes().to_vec(), hx(&v["msk"]), "re-auth MSK");
    assert_eq!(r.emsk.as_bytes().to_vec(), hx(&v["emsk"]), "re-auth EMSK");
}

#[test]
fn rfc5448_rfc9048_appendix_c_all_4_cases() {
    let f = load("eap_aka_prime_rfc5448_rfc9048.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 4);
    let m19 = load("milenage_ts35208.json")["vectors"][18].clone();
    let m = Milenage::new(&arr(&m19["k"]), &arr(&m19["opc"]));
    let mut usim_checked = 0;
    for v in &vs {
        let label = format!("case {}", v["case"]);
        let identity = v["identity"].as_str().unwrap().as_bytes();
        let net = v["network_name"].as_str().unwrap().as_bytes();
        let autn: [u8; 16] = arr(&v["autn"]);
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        let ck: [u8; 16] = arr(&v["ck"]);
        let ik: [u8; 16] = arr(&v["ik"]);
        let (ckp, ikp) = ck_ik_prime(&ck, &ik, net, &sqn_xor_ak).unwrap();
        assert_eq!(ckp.as_bytes().to_vec(), hx(&v["ck_prime"]), "{label}: CK'");
        assert_eq!(ikp.as_bytes().to_vec(), hx(&v["ik_prime"]), "{label}: IK'");
        let k = AkaPrimeKeys::derive(identity, ckp.as_bytes(), ikp.as_bytes()).unwrap();
        assert_eq!(
            k.k_encr.as_bytes().to_vec(),
            hx(&v["k_encr"]),
            "{label}: K_encr"
        );
        assert_eq!(
            k.k_aut.as_bytes().to_vec(),
            hx(&v["k_aut"]),
            "{label}: K_aut"
        );
        assert_eq!(k.k_re.as_bytes().to_vec(), hx(&v["k_re"]), "{label}: K_re");
        assert_eq!(k.msk.as_bytes().to_vec(), hx(&v["msk"]), "{label}: MSK");
        assert_eq!(k.emsk.as_bytes().to_vec(), hx(&v["emsk"]), "{label}: EMSK");
        let mut mk = Vec::new();
        for key in [
            &k.k_encr.as_bytes()[..],
            k.k_aut.as_bytes(),
            k.k_re.as_bytes(),
            k.msk.as_bytes(),
            k.emsk.as_bytes(),
        ] {
            mk.extend_from_slice(key);
        }
        assert_eq!(mk, hx(&v["mk_208_bytes"]), "{label}: MK");
        let one_call =
            AkaPrimeKeys::derive_from_ck_ik(identity, &ck, &ik, net, &sqn_xor_ak).unwrap();
        assert_eq!(one_call, k);

        // Cases 1-2 are TS 35.208 set 19: the USIM produces this RES, CK and IK.
        if hx(&v["autn"]) == hx(&m19["derived_autn"]) {
            let out = m
                .usim_authenticate(&arr(&v["rand"]), &autn, 0, |_| true)
                .unwrap();
            let UsimOutcome::Success {
                res, ck: c, ik: i, ..
            } = out
            else {
                panic!("{label}: {out:?}");
            };
            assert_eq!(res.to_vec(), hx(&v["res"]), "{label}: RES");
            assert_eq!(c.as_bytes(), &ck);
            assert_eq!(i.as_bytes(), &ik);
            usim_checked += 1;
        }
    }
    assert_eq!(usim_checked, 2, "cases 1 and 2 use TS 35.208 set 19");
}
