//! IKEv2 PRFs and integrity transforms against all 30 RFC 4868 §2.7 vectors, and the IKEv2 KDF
//! against the NIST SP 800-135 sets (SKEYSEED, prf+ DKM, Child SA DKM with and without PFS,
//! rekey SKEYSEED) for HMAC-SHA1 and HMAC-SHA-256.

mod common;
use common::*;

use mobstrap_crypto::ikev2::{
    child_keymat, rekey_skeyseed, skeyseed, ChildSaKeys, IkeSaKeys, Integ, IntegKey, KeyLengths,
    Prf,
};

#[test]
fn rfc4868_all_30_prf_and_icv_vectors() {
    let f = load("ikev2_prf_hmac_sha2_rfc4868.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 30);
    let (mut prf_checked, mut icv_checked) = (0, 0);
    for v in &vs {
        let label = format!("{} {}", v["name"], v["hash"]);
        let (prf, integ) = match v["hash"].as_str().unwrap() {
            "SHA-256" => (Prf::HmacSha256, Integ::HmacSha256_128),
            "SHA-384" => (Prf::HmacSha384, Integ::HmacSha384_192),
            "SHA-512" => (Prf::HmacSha512, Integ::HmacSha512_256),
            other => panic!("{other}"),
        };
        let key = hx(&v["key"]);
        let data = hx(&v["data"]);
        assert_eq!(
            prf.compute(&key, &data).to_vec(),
            hx(&v["prf_output"]),
            "{label}: PRF"
        );
        prf_checked += 1;
        if let Some(icv) = v.get("truncated_icv") {
            let icv = hx(icv);
            assert_eq!(
                v["truncated_icv_bytes"].as_u64().unwrap() as usize,
                integ.icv_len()
            );
            // AUTH vectors use keys of exactly the transform's key length (after the errata).
            let k = IntegKey::new(integ, &key).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(k.compute(&data).to_vec(), icv, "{label}: ICV");
            k.verify(&data, &icv).unwrap();
            let mut bad = icv.clone();
            bad[0] ^= 0x80;
            assert!(
                k.verify(&data, &bad).is_err(),
                "{label}: tampered ICV accepted"
            );
            icv_checked += 1;
        }
    }
    assert_eq!((prf_checked, icv_checked), (30, 12));
}

#[test]
fn nist_sp800_135_ikev2_kdf_both_sets() {
    let f = load("ikev2_kdf_nist_sp800_135.json");
    let vs = vectors(&f);
    assert_eq!(vs.len(), 2);
    for v in &vs {
        let label = v["prf"].as_str().unwrap().to_string();
        let prf = match label.as_str() {
            "HMAC-SHA1" => Prf::HmacSha1,
            "HMAC-SHA256" => Prf::HmacSha256,
            other => panic!("{other}"),
        };
        let ni = hx(&v["ni"]);
        let nr = hx(&v["nr"]);
        let g_ir = hx(&v["g_ir"]);
        let g_ir_new = hx(&v["g_ir_new"]);
        let spi_i: [u8; 8] = arr(&v["spi_i"]);
        let spi_r: [u8; 8] = arr(&v["spi_r"]);

        let seed = skeyseed(prf, &ni, &nr, &g_ir);
        assert_eq!(seed.to_vec(), hx(&v["skeyseed"]), "{label}: SKEYSEED");

        let dkm_len = v["dkm_bytes"].as_u64().unwrap() as usize;
        let mut dkm = vec![0u8; dkm_len];
        prf.prf_plus(&seed, &[&ni, &nr, &spi_i, &spi_r], &mut dkm)
            .unwrap();
        assert_eq!(dkm, hx(&v["dkm"]), "{label}: DKM");

        // The seven-key split over the same stream: pick lengths that use all of it.
        let per_dir = (dkm_len - 3 * prf.key_len()) / 2;
        let lens = KeyLengths {
            encr: per_dir / 2,
            integ: per_dir - per_dir / 2,
        };
        assert_eq!(IkeSaKeys::total_len(prf, lens), dkm_len);
        let keys = IkeSaKeys::derive(prf, &seed, &ni, &nr, &spi_i, &spi_r, lens).unwrap();
        assert_eq!(
            keys.sk_d.as_bytes().to_vec(),
            hx(&v["sk_d"]),
            "{label}: SK_d"
        );
        let mut cat = Vec::new();
        for k in [
            &keys.sk_d,
            &keys.sk_ai,
            &keys.sk_ar,
            &keys.sk_ei,
            &keys.sk_er,
            &keys.sk_pi,
            &keys.sk_pr,
        ] {
            cat.extend_from_slice(k.as_bytes());
        }
        assert_eq!(cat, dkm, "{label}: key split");

        let sk_d = keys.sk_d.as_bytes();
        let want = hx(&v["dkm_child_sa"]);
        let mut km = vec![0u8; want.len()];
        child_keymat(prf, sk_d, None, &ni, &nr, &mut km).unwrap();
        assert_eq!(km, want, "{label}: Child SA DKM");

        let want = hx(&v["dkm_child_sa_dh"]);
        let mut km = vec![0u8; want.len()];
        child_keymat(prf, sk_d, Some(&g_ir_new), &ni, &nr, &mut km).unwrap();
        assert_eq!(km, want, "{label}: Child SA DKM with PFS");
        let lens = KeyLengths {
            encr: 32,
            integ: 32,
        };
        let c = ChildSaKeys::derive(prf, sk_d, Some(&g_ir_new), &ni, &nr, lens).unwrap();
        assert_eq!(c.encr_i.as_bytes(), &want[..32]);
        assert_eq!(c.integ_r.as_bytes(), &want[96..128]);

        let rk = rekey_skeyseed(prf, sk_d, &g_ir_new, &ni, &nr);
        assert_eq!(
            rk.to_vec(),
            hx(&v["skeyseed_rekey"]),
            "{label}: rekey SKEYSEED"
        );
    }
}
