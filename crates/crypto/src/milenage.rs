//! Milenage (3GPP TS 35.206) and the AKA procedures built on it (TS 33.102 §6.3).
//!
//! * [`Milenage`] computes f1, f1*, f2, f3, f4, f5 and f5* for one subscriber key K and
//!   operator variant OPc ([`compute_opc`] derives OPc from OP).
//! * The HSS side: [`Milenage::generate_vector`] builds an authentication vector
//!   (RAND, XRES, CK, IK, AUTN = SQN⊕AK | AMF | MAC-A); [`Milenage::resync`] recovers SQN_MS
//!   from AUTS after checking MAC-S.
//! * The USIM side: [`Milenage::usim_authenticate`] checks AUTN and returns RES/CK/IK, a MAC
//!   failure, or a synchronisation failure carrying AUTS = SQN_MS⊕AK* | MAC-S.
//! * GSM interworking: [`c2`], [`c3`] (TS 33.102 §6.8.1.2) and [`Milenage::gsm`]
//!   (TS 55.205 GSM-Milenage SRES/Kc).
//!
//! SQN values are `u64` holding 48 bits; anything above 2^48 - 1 is rejected.

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use core::fmt;
use zeroize::Zeroize;

use crate::secret::SecretBytes;
use crate::util::ct_eq;
use crate::{Error, Result};

/// Largest SQN (48 bits).
pub const SQN_MAX: u64 = (1 << 48) - 1;

/// The dummy AMF used in MAC-S for resynchronisation (TS 33.102 §6.3.3: all zeros).
pub const RESYNC_AMF: [u8; 2] = [0, 0];

/// Encodes a 48-bit SQN as 6 octets, big-endian.
pub fn sqn_to_bytes(sqn: u64) -> Result<[u8; 6]> {
    if sqn > SQN_MAX {
        return Err(Error::OutOfRange { what: "SQN" });
    }
    let b = sqn.to_be_bytes();
    Ok([b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Decodes 6 octets into a 48-bit SQN.
pub fn sqn_from_bytes(b: &[u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

fn aes_encrypt(cipher: &Aes128, block: &[u8; 16]) -> [u8; 16] {
    let mut b = Array::from(*block);
    cipher.encrypt_block(&mut b);
    b.into()
}

fn xor16(a: &[u8; 16], b: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for i in 0..16 {
        out[i] = a[i] ^ b[i];
    }
    out
}

/// Cyclic rotation by `bytes` octets towards the most significant end (TS 35.206 `rot`).
fn rot(x: &[u8; 16], bytes: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = x[(i + bytes) % 16];
    }
    out
}

/// OPc = E_K(OP) ⊕ OP (TS 35.206 §4.1).
pub fn compute_opc(k: &[u8; 16], op: &[u8; 16]) -> SecretBytes<16> {
    let cipher = Aes128::new(&Array::from(*k));
    let mut e = aes_encrypt(&cipher, op);
    let opc = xor16(&e, op);
    e.zeroize();
    SecretBytes::new(opc)
}

/// Output of f2, f3, f4 and f5 for one RAND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct F2345 {
    /// RES / XRES (f2), 8 octets.
    pub res: [u8; 8],
    /// CK (f3).
    pub ck: SecretBytes<16>,
    /// IK (f4).
    pub ik: SecretBytes<16>,
    /// AK (f5), 6 octets.
    pub ak: [u8; 6],
}

/// An authentication vector as the HSS hands it to the AAA (TS 33.102 §6.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthVector {
    /// RAND.
    pub rand: [u8; 16],
    /// XRES.
    pub xres: [u8; 8],
    /// CK.
    pub ck: SecretBytes<16>,
    /// IK.
    pub ik: SecretBytes<16>,
    /// AUTN = SQN⊕AK | AMF | MAC-A.
    pub autn: [u8; 16],
}

impl AuthVector {
    /// SQN⊕AK, the first six octets of AUTN (an input of the EAP-AKA' CK'/IK' KDF).
    pub fn sqn_xor_ak(&self) -> [u8; 6] {
        [
            self.autn[0],
            self.autn[1],
            self.autn[2],
            self.autn[3],
            self.autn[4],
            self.autn[5],
        ]
    }
}

/// What the USIM returns for a challenge (TS 33.102 §6.3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsimOutcome {
    /// AUTN verified and SQN was accepted.
    Success {
        /// RES.
        res: [u8; 8],
        /// CK.
        ck: SecretBytes<16>,
        /// IK.
        ik: SecretBytes<16>,
        /// The SQN the network used (now the USIM's highest accepted SQN).
        sqn: u64,
        /// The AMF from AUTN (e.g. to check the separation bit).
        amf: [u8; 2],
    },
    /// XMAC ≠ MAC: the network is not authentic (EAP-AKA: AKA-Authentication-Reject).
    MacFailure,
    /// MAC verified but SQN was not fresh (EAP-AKA: AKA-Synchronization-Failure with AT_AUTS).
    SyncFailure {
        /// AUTS = SQN_MS ⊕ AK* | MAC-S (14 octets).
        auts: [u8; 14],
    },
}

/// Milenage for one subscriber (K, OPc). The AES key schedule is computed once.
#[derive(Clone)]
pub struct Milenage {
    cipher: Aes128,
    opc: SecretBytes<16>,
}

impl fmt::Debug for Milenage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Milenage(redacted)")
    }
}

impl Milenage {
    /// From K and OPc.
    pub fn new(k: &[u8; 16], opc: &[u8; 16]) -> Self {
        Self {
            cipher: Aes128::new(&Array::from(*k)),
            opc: SecretBytes::new(*opc),
        }
    }

    /// From K and OP (OPc is derived).
    pub fn with_op(k: &[u8; 16], op: &[u8; 16]) -> Self {
        let opc = compute_opc(k, op);
        Self::new(k, opc.as_bytes())
    }

    fn temp(&self, rand: &[u8; 16]) -> [u8; 16] {
        let mut x = xor16(rand, self.opc.as_bytes());
        let t = aes_encrypt(&self.cipher, &x);
        x.zeroize();
        t
    }

    /// OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc, r1 = 64, c1 = 0.
    fn out1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 16] {
        let temp = self.temp(rand);
        let mut in1 = [0u8; 16];
        in1[..6].copy_from_slice(sqn);
        in1[6..8].copy_from_slice(amf);
        in1[8..14].copy_from_slice(sqn);
        in1[14..16].copy_from_slice(amf);
        let r = rot(&xor16(&in1, self.opc.as_bytes()), 8);
        let out = xor16(
            &aes_encrypt(&self.cipher, &xor16(&temp, &r)),
            self.opc.as_bytes(),
        );
        out
    }

    /// OUTn = E_K(rot(TEMP ⊕ OPc, r) ⊕ c) ⊕ OPc for n = 2..5.
    fn out_n(&self, temp: &[u8; 16], rot_bytes: usize, c_last: u8) -> [u8; 16] {
        let mut x = rot(&xor16(temp, self.opc.as_bytes()), rot_bytes);
        x[15] ^= c_last;
        xor16(&aes_encrypt(&self.cipher, &x), self.opc.as_bytes())
    }

    /// f1: the network authentication code MAC-A.
    pub fn f1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let out = self.out1(rand, sqn, amf);
        crate::util::take::<8>(&out[..8])
    }

    /// f1*: the resynchronisation authentication code MAC-S.
    pub fn f1_star(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let out = self.out1(rand, sqn, amf);
        crate::util::take::<8>(&out[8..])
    }

    /// f2 (RES), f3 (CK), f4 (IK) and f5 (AK) in one pass.
    pub fn f2345(&self, rand: &[u8; 16]) -> F2345 {
        let mut temp = self.temp(rand);
        let out2 = self.out_n(&temp, 0, 1);
        let ck = SecretBytes::new(self.out_n(&temp, 4, 2));
        let ik = SecretBytes::new(self.out_n(&temp, 8, 4));
        temp.zeroize();
        F2345 {
            res: crate::util::take::<8>(&out2[8..]),
            ck,
            ik,
            ak: crate::util::take::<6>(&out2[..6]),
        }
    }

    /// f5*: the anonymity key AK* used in AUTS.
    pub fn f5_star(&self, rand: &[u8; 16]) -> [u8; 6] {
        let mut temp = self.temp(rand);
        let out5 = self.out_n(&temp, 12, 8);
        temp.zeroize();
        crate::util::take::<6>(&out5[..6])
    }

    /// HSS: an authentication vector for `sqn` (48 bits) and `amf`.
    pub fn generate_vector(&self, rand: &[u8; 16], sqn: u64, amf: [u8; 2]) -> Result<AuthVector> {
        let sqn_b = sqn_to_bytes(sqn)?;
        let mac_a = self.f1(rand, &sqn_b, &amf);
        let F2345 { res, ck, ik, ak } = self.f2345(rand);
        let mut autn = [0u8; 16];
        for i in 0..6 {
            autn[i] = sqn_b[i] ^ ak[i];
        }
        autn[6..8].copy_from_slice(&amf);
        autn[8..].copy_from_slice(&mac_a);
        Ok(AuthVector {
            rand: *rand,
            xres: res,
            ck,
            ik,
            autn,
        })
    }

    /// USIM: AUTS = SQN_MS ⊕ AK* | MAC-S, with MAC-S = f1*(SQN_MS, RAND, AMF = 0x0000).
    pub fn auts(&self, rand: &[u8; 16], sqn_ms: u64) -> Result<[u8; 14]> {
        let sqn_b = sqn_to_bytes(sqn_ms)?;
        let ak_star = self.f5_star(rand);
        let mac_s = self.f1_star(rand, &sqn_b, &RESYNC_AMF);
        let mut auts = [0u8; 14];
        for i in 0..6 {
            auts[i] = sqn_b[i] ^ ak_star[i];
        }
        auts[6..].copy_from_slice(&mac_s);
        Ok(auts)
    }

    /// USIM: verifies AUTN for RAND (TS 33.102 §6.3.3).
    ///
    /// `sqn_ms` is the highest SQN the USIM has accepted (it goes into AUTS on a
    /// synchronisation failure); `accept_sqn` decides freshness of the network's SQN
    /// (TS 33.102 Annex C leaves the policy to the operator; the simplest rule is
    /// `|sqn| sqn > sqn_ms`). MAC is checked before SQN, as the specification requires.
    pub fn usim_authenticate(
        &self,
        rand: &[u8; 16],
        autn: &[u8; 16],
        sqn_ms: u64,
        accept_sqn: impl FnOnce(u64) -> bool,
    ) -> Result<UsimOutcome> {
        let F2345 { res, ck, ik, ak } = self.f2345(rand);
        let mut sqn_b = [0u8; 6];
        for i in 0..6 {
            sqn_b[i] = autn[i] ^ ak[i];
        }
        let amf = [autn[6], autn[7]];
        let xmac = self.f1(rand, &sqn_b, &amf);
        if !ct_eq(&xmac, &autn[8..16]) {
            return Ok(UsimOutcome::MacFailure);
        }
        let sqn = sqn_from_bytes(&sqn_b);
        if !accept_sqn(sqn) {
            return Ok(UsimOutcome::SyncFailure {
                auts: self.auts(rand, sqn_ms)?,
            });
        }
        Ok(UsimOutcome::Success {
            res,
            ck,
            ik,
            sqn,
            amf,
        })
    }

    /// HSS: recovers SQN_MS from AUTS (for the RAND of the failed challenge) after checking
    /// MAC-S; the HSS then continues from SQN_MS (TS 33.102 §6.3.5).
    pub fn resync(&self, rand: &[u8; 16], auts: &[u8; 14]) -> Result<u64> {
        let ak_star = self.f5_star(rand);
        let mut sqn_b = [0u8; 6];
        for i in 0..6 {
            sqn_b[i] = auts[i] ^ ak_star[i];
        }
        let xmac_s = self.f1_star(rand, &sqn_b, &RESYNC_AMF);
        if !ct_eq(&xmac_s, &auts[6..]) {
            return Err(Error::AuthenticationFailed { what: "MAC-S" });
        }
        Ok(sqn_from_bytes(&sqn_b))
    }

    /// GSM-Milenage (TS 55.205): SRES = RES[0..4] and Kc = c3(CK, IK).
    pub fn gsm(&self, rand: &[u8; 16]) -> ([u8; 4], SecretBytes<8>) {
        let v = self.f2345(rand);
        let sres = crate::util::take::<4>(&v.res);
        (sres, c3(v.ck.as_bytes(), v.ik.as_bytes()))
    }
}

/// c2 (TS 33.102 §6.8.1.2): SRES = XRES*1 ⊕ XRES*2 ⊕ XRES*3 ⊕ XRES*4, the 32-bit words of XRES
/// zero-padded to 128 bits. XRES must be 4..=16 octets.
pub fn c2(xres: &[u8]) -> Result<[u8; 4]> {
    if xres.len() < 4 || xres.len() > 16 {
        return Err(Error::InvalidLength {
            what: "XRES",
            len: xres.len(),
        });
    }
    let mut sres = [0u8; 4];
    for (i, b) in xres.iter().enumerate() {
        sres[i % 4] ^= b;
    }
    Ok(sres)
}

/// c3 (TS 33.102 §6.8.1.2): Kc = CK1 ⊕ CK2 ⊕ IK1 ⊕ IK2 (64-bit halves).
pub fn c3(ck: &[u8; 16], ik: &[u8; 16]) -> SecretBytes<8> {
    let mut kc = [0u8; 8];
    for i in 0..8 {
        kc[i] = ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8];
    }
    SecretBytes::new(kc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn set19() -> Milenage {
        // TS 35.208 test set 19 (also the EAP-AKA' vectors' source).
        Milenage::new(
            &h("5122250214c33e723a5dd523fc145fc0"),
            &h("981d464c7c52eb6e5036234984ad0bcf"),
        )
    }

    #[test]
    fn sqn_bounds() {
        assert_eq!(sqn_to_bytes(SQN_MAX).unwrap(), [0xff; 6]);
        assert!(sqn_to_bytes(SQN_MAX + 1).is_err());
        assert_eq!(
            sqn_from_bytes(&sqn_to_bytes(0x0102_0304_0506).unwrap()),
            0x0102_0304_0506
        );
    }

    #[test]
    fn rot_is_left_rotation() {
        let x: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(rot(&x, 0), x);
        assert_eq!(rot(&x, 4)[0], 4);
        assert_eq!(rot(&x, 4)[12], 0);
    }

    #[test]
    fn usim_accepts_fresh_vector_and_agrees_with_hss() {
        let m = set19();
        let rand = [0x11u8; 16];
        let av = m.generate_vector(&rand, 0x42, [0x80, 0x00]).unwrap();
        let out = m
            .usim_authenticate(&rand, &av.autn, 0x20, |s| s > 0x20)
            .unwrap();
        match out {
            UsimOutcome::Success {
                res,
                ck,
                ik,
                sqn,
                amf,
            } => {
                assert_eq!(res, av.xres);
                assert_eq!(ck, av.ck);
                assert_eq!(ik, av.ik);
                assert_eq!(sqn, 0x42);
                assert_eq!(amf, [0x80, 0x00]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn usim_rejects_tampered_autn() {
        let m = set19();
        let rand = [0x22u8; 16];
        let av = m.generate_vector(&rand, 7, [0, 0]).unwrap();
        for byte in [0usize, 6, 8, 15] {
            let mut autn = av.autn;
            autn[byte] ^= 0x01;
            assert_eq!(
                m.usim_authenticate(&rand, &autn, 0, |_| true).unwrap(),
                UsimOutcome::MacFailure,
                "byte {byte}"
            );
        }
    }

    #[test]
    fn sync_failure_then_resync_recovers_sqn_ms() {
        let m = set19();
        let rand = [0x33u8; 16];
        let sqn_ms = 0x0000_1234_5678;
        let av = m.generate_vector(&rand, 5, [0, 0]).unwrap();
        let out = m
            .usim_authenticate(&rand, &av.autn, sqn_ms, |s| s > sqn_ms)
            .unwrap();
        let UsimOutcome::SyncFailure { auts } = out else {
            panic!("expected sync failure, got {out:?}");
        };
        assert_eq!(m.resync(&rand, &auts).unwrap(), sqn_ms);
        // A different RAND or a flipped MAC-S bit is rejected.
        assert!(m.resync(&[0x34; 16], &auts).is_err());
        let mut bad = auts;
        bad[13] ^= 0x80;
        assert_eq!(
            m.resync(&rand, &bad),
            Err(Error::AuthenticationFailed { what: "MAC-S" })
        );
        // A different subscriber key cannot produce a valid AUTS.
        let other = Milenage::new(&[0u8; 16], &[0u8; 16]);
        assert!(other.resync(&rand, &auts).is_err());
    }

    #[test]
    fn c2_folds_words() {
        assert_eq!(
            c2(&[1, 2, 3, 4, 0x10, 0x20, 0x30, 0x40]).unwrap(),
            [0x11, 0x22, 0x33, 0x44]
        );
        assert_eq!(c2(&[1, 2, 3, 4]).unwrap(), [1, 2, 3, 4]);
        assert_eq!(c2(&[1, 2, 3, 4, 5]).unwrap(), [4, 2, 3, 4]);
        assert!(c2(&[1, 2, 3]).is_err());
        assert!(c2(&[0; 17]).is_err());
    }
}
