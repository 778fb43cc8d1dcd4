//! Diffie-Hellman for IKEv2 (Transform Type 4): MODP groups 14 and 15 (RFC 3526, generator 2)
//! on `crypto-bigint` constant-time exponentiation (almost-Montgomery multiplication, exponent of
//! fixed bit length); ECP groups 19 and 20 (RFC 5903) and Curve25519 (group 31, RFC 8031) on
//! aws-lc-rs.
//!
//! Encodings are those of the IKEv2 KE payload:
//! * MODP: the public value and the shared secret are big-endian, left-padded with zeros to
//!   the length of the prime (RFC 7296 §3.4, §2.14).
//! * ECP: public value = x | y without the 0x04 point-format octet; shared secret = x
//!   coordinate only (RFC 5903 §7, §9).
//! * Curve25519: 32-octet u-coordinate (RFC 8031 §2); an all-zero shared secret (small-order
//!   peer point) is rejected.
//!
//! Peer values are validated: exact length; ECP points on the curve; MODP 1 < y < p - 1.
//!
//! Randomness: a sans-I/O engine passes it in with [`DhKey::from_randomness`]
//! ([`Group::randomness_len`] octets; for ECP the octets are the scalar and a value of zero or
//! ≥ the group order is refused with [`Error::InvalidPrivateValue`], so draw again), or calls
//! [`DhKey::generate`], which uses the system RNG. MODP private exponents have the RFC 3526 §8
//! upper-estimate lengths: 320 bits (group 14) and 448 bits (group 15).

use aws_lc_rs::agreement;
use core::fmt;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, Uint, U2048, U3072, U512};
use std::sync::LazyLock;
use zeroize::Zeroize;

use crate::secret::SecretVec;
use crate::{Error, Result};

/// RFC 3526 §3, the 2048-bit MODP group (IKEv2 group 14).
const P14_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF",
);

/// RFC 3526 §4, the 3072-bit MODP group (IKEv2 group 15).
const P15_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

static P14: LazyLock<FixedMontyParams<{ U2048::LIMBS }>> =
    LazyLock::new(|| FixedMontyParams::new_vartime(Odd::<U2048>::from_be_hex(P14_HEX)));
static P15: LazyLock<FixedMontyParams<{ U3072::LIMBS }>> =
    LazyLock::new(|| FixedMontyParams::new_vartime(Odd::<U3072>::from_be_hex(P15_HEX)));

/// A Diffie-Hellman group (IANA Transform Type 4 number in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// 2048-bit MODP group (14).
    Modp2048,
    /// 3072-bit MODP group (15).
    Modp3072,
    /// 256-bit random ECP group, P-256 (19).
    Ecp256,
    /// 384-bit random ECP group, P-384 (20).
    Ecp384,
    /// Curve25519 (31).
    Curve25519,
}

impl Group {
    /// The IANA number.
    pub const fn id(self) -> u16 {
        match self {
            Group::Modp2048 => 14,
            Group::Modp3072 => 15,
            Group::Ecp256 => 19,
            Group::Ecp384 => 20,
            Group::Curve25519 => 31,
        }
    }

    /// From the IANA number.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            14 => Some(Group::Modp2048),
            15 => Some(Group::Modp3072),
            19 => Some(Group::Ecp256),
            20 => Some(Group::Ecp384),
            31 => Some(Group::Curve25519),
            _ => None,
        }
    }

    /// Length of the KE payload's Key Exchange Data.
    pub const fn public_len(self) -> usize {
        match self {
            Group::Modp2048 => 256,
            Group::Modp3072 => 384,
            Group::Ecp256 => 64,
            Group::Ecp384 => 96,
            Group::Curve25519 => 32,
        }
    }

    /// Length of the shared secret g^ir.
    pub const fn shared_len(self) -> usize {
        match self {
            Group::Modp2048 => 256,
            Group::Modp3072 => 384,
            Group::Ecp256 => 32,
            Group::Ecp384 => 48,
            Group::Curve25519 => 32,
        }
    }

    /// Octets of randomness [`DhKey::from_randomness`] takes.
    pub const fn randomness_len(self) -> usize {
        match self {
            Group::Modp2048 => 40,
            Group::Modp3072 => 56,
            Group::Ecp256 => 32,
            Group::Ecp384 => 48,
            Group::Curve25519 => 32,
        }
    }

    fn ec_alg(self) -> Option<&'static agreement::Algorithm> {
        match self {
            Group::Ecp256 => Some(&agreement::ECDH_P256),
            Group::Ecp384 => Some(&agreement::ECDH_P384),
            Group::Curve25519 => Some(&agreement::X25519),
            Group::Modp2048 | Group::Modp3072 => None,
        }
    }

    fn is_ecp(self) -> bool {
        matches!(self, Group::Ecp256 | Group::Ecp384)
    }
}

/// A Diffie-Hellman key pair of one exchange.
pub trait Dh {
    /// The group.
    fn group(&self) -> Group;
    /// Our public value as carried in the KE payload.
    fn public_key(&self) -> &[u8];
    /// The shared secret with the peer's public value (validated first).
    fn agree(&self, peer_public: &[u8]) -> Result<SecretVec>;
}

/// MODP private exponent and public value.
struct ModpKey {
    x: U512,
    bits: u32,
}

impl Drop for ModpKey {
    fn drop(&mut self) {
        self.x.zeroize();
    }
}

fn modp_pow<const L: usize>(
    params: &FixedMontyParams<L>,
    base: &Uint<L>,
    x: &U512,
    bits: u32,
) -> Uint<L> {
    // Almost-Montgomery multiplication (constant time like the plain ladder, and faster here);
    // the exponent is zero-extended to the modulus width and bounded to its real bit length.
    let mut e: Uint<L> = x.resize();
    let r = FixedMontyForm::new(base, params)
        .pow_amm_bounded_exp(&e, bits)
        .retrieve();
    e.zeroize();
    r
}

/// Parses a MODP public value and checks 1 < y < p - 1.
fn modp_peer<const L: usize>(
    group: Group,
    params: &FixedMontyParams<L>,
    peer: &[u8],
) -> Result<Uint<L>> {
    let bad = Error::InvalidPublicValue { group: group.id() };
    if peer.len() != Uint::<L>::BYTES {
        return Err(bad);
    }
    let y = Uint::<L>::from_be_slice(peer);
    let p_minus_1 = params.modulus().as_ref().wrapping_sub(&Uint::<L>::ONE);
    let gt_one = y.cmp_vartime(&Uint::<L>::ONE) == core::cmp::Ordering::Greater;
    let lt_p1 = y.cmp_vartime(&p_minus_1) == core::cmp::Ordering::Less;
    if gt_one && lt_p1 {
        Ok(y)
    } else {
        Err(bad)
    }
}

enum Inner {
    Modp(ModpKey),
    Ec(agreement::PrivateKey),
}

/// An ephemeral Diffie-Hellman key of any supported group.
pub struct DhKey {
    group: Group,
    inner: Inner,
    public: Vec<u8>,
}

impl fmt::Debug for DhKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DhKey({:?}, private redacted)", self.group)
    }
}

impl DhKey {
    /// A fresh key from the system random number generator.
    pub fn generate(group: Group) -> Result<Self> {
        match group.ec_alg() {
            Some(alg) => {
                let key = agreement::PrivateKey::generate(alg).map_err(|_| Error::Rng)?;
                Self::from_ec(group, key)
            }
            None => {
                let mut r = [0u8; 56];
                let n = group.randomness_len().min(r.len());
                // A draw below 2 (probability 2^-319) is refused: draw again.
                for _ in 0..4 {
                    aws_lc_rs::rand::fill(&mut r[..n]).map_err(|_| Error::Rng)?;
                    let k = Self::from_randomness(group, &r[..n]);
                    if !matches!(k, Err(Error::InvalidPrivateValue { .. })) {
                        r.zeroize();
                        return k;
                    }
                }
                r.zeroize();
                Err(Error::Rng)
            }
        }
    }

    /// A key from caller-supplied randomness of exactly [`Group::randomness_len`] octets
    /// (MODP: the exponent; ECP: the scalar; Curve25519: the scalar before clamping).
    pub fn from_randomness(group: Group, randomness: &[u8]) -> Result<Self> {
        if randomness.len() != group.randomness_len() {
            return Err(Error::InvalidLength {
                what: "DH randomness",
                len: randomness.len(),
            });
        }
        match group.ec_alg() {
            Some(alg) => {
                let key = agreement::PrivateKey::from_private_key(alg, randomness)
                    .map_err(|_| Error::InvalidPrivateValue { group: group.id() })?;
                Self::from_ec(group, key)
            }
            None => {
                let mut buf = [0u8; 64];
                let off = 64 - randomness.len();
                buf[off..].copy_from_slice(randomness);
                let x = U512::from_be_slice(&buf);
                buf.zeroize();
                let key = ModpKey {
                    x,
                    bits: u32::try_from(randomness.len() * 8).unwrap_or(512),
                };
                if key.x.cmp_vartime(&U512::from_u8(2)) == core::cmp::Ordering::Less {
                    return Err(Error::InvalidPrivateValue { group: group.id() });
                }
                let g = |bytes: &[u8]| bytes.to_vec();
                let public = match group {
                    Group::Modp2048 => g(modp_pow(&P14, &U2048::from_u8(2), &key.x, key.bits)
                        .to_be_bytes()
                        .as_ref()),
                    _ => g(modp_pow(&P15, &U3072::from_u8(2), &key.x, key.bits)
                        .to_be_bytes()
                        .as_ref()),
                };
                Ok(Self {
                    group,
                    inner: Inner::Modp(key),
                    public,
                })
            }
        }
    }

    fn from_ec(group: Group, key: agreement::PrivateKey) -> Result<Self> {
        let pk = key
            .compute_public_key()
            .map_err(|_| Error::Backend("ECDH public key"))?;
        let raw = pk.as_ref();
        let public = if group.is_ecp() {
            // Uncompressed SEC1 point: 0x04 | x | y. IKEv2 carries x | y.
            match raw.split_first() {
                Some((0x04, xy)) if xy.len() == group.public_len() => xy.to_vec(),
                _ => return Err(Error::Backend("ECDH public key encoding")),
            }
        } else {
            raw.to_vec()
        };
        Ok(Self {
            group,
            inner: Inner::Ec(key),
            public,
        })
    }
}

impl Dh for DhKey {
    fn group(&self) -> Group {
        self.group
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(&self, peer_public: &[u8]) -> Result<SecretVec> {
        let group = self.group;
        let bad = Error::InvalidPublicValue { group: group.id() };
        match &self.inner {
            Inner::Modp(key) => match group {
                Group::Modp2048 => {
                    let y = modp_peer(group, &P14, peer_public)?;
                    let z = modp_pow(&P14, &y, &key.x, key.bits);
                    Ok(SecretVec::from_slice(z.to_be_bytes().as_ref()))
                }
                _ => {
                    let y = modp_peer(group, &P15, peer_public)?;
                    let z = modp_pow(&P15, &y, &key.x, key.bits);
                    Ok(SecretVec::from_slice(z.to_be_bytes().as_ref()))
                }
            },
            Inner::Ec(key) => {
                if peer_public.len() != group.public_len() {
                    return Err(bad);
                }
                let alg = key.algorithm();
                let mut buf = [0u8; 97];
                let encoded: &[u8] = if group.is_ecp() {
                    buf[0] = 0x04;
                    buf[1..=peer_public.len()].copy_from_slice(peer_public);
                    &buf[..=peer_public.len()]
                } else {
                    peer_public
                };
                let peer = agreement::UnparsedPublicKey::new(alg, encoded);
                let shared =
                    agreement::agree(key, peer, bad.clone(), |z| Ok(SecretVec::from_slice(z)))?;
                if shared.len() != group.shared_len() || shared.as_bytes().iter().all(|&b| b == 0) {
                    return Err(bad);
                }
                Ok(shared)
            }
        }
    }
}
