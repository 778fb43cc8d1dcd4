//! `mobstrap aka-vector`: Milenage (TS 35.206) and the EAP-AKA / EAP-AKA' key hierarchy,
//! for checking a subscriber's credentials against another implementation by hand.

use std::process::ExitCode;

use anyhow::{bail, Context};
use mobstrap_crypto::eap_aka::AkaKeys;
use mobstrap_crypto::eap_aka_prime::{ck_ik_prime, AkaPrimeKeys};
use mobstrap_crypto::milenage::{self, Milenage};

#[derive(clap::Args)]
pub struct Args {
    /// Subscriber key K, 32 hex digits.
    #[arg(long)]
    k: String,
    /// OPc, 32 hex digits.
    #[arg(long, conflicts_with = "op", required_unless_present = "op")]
    opc: Option<String>,
    /// OP (OPc is derived from it), 32 hex digits.
    #[arg(long)]
    op: Option<String>,
    /// RAND, 32 hex digits.
    #[arg(long)]
    rand: String,
    /// SQN, 12 hex digits (48 bits).
    #[arg(long)]
    sqn: String,
    /// AMF, 4 hex digits.
    #[arg(long)]
    amf: String,
    /// The identity used in the key derivation (e.g. 0<IMSI>@nai.epc.mnc<MNC>.mcc<MCC>.3gppnetwork.org).
    #[arg(long)]
    identity: Option<String>,
    /// The access network name of EAP-AKA' (AT_KDF_INPUT), e.g. "WLAN".
    #[arg(long)]
    network_name: Option<String>,
    /// Derive the EAP-AKA' keys (RFC 9048) instead of EAP-AKA (RFC 4187).
    #[arg(long, requires = "identity", requires = "network_name")]
    aka_prime: bool,
}

fn hex_n<const N: usize>(name: &str, s: &str) -> anyhow::Result<[u8; N]> {
    let s = s.trim().trim_start_matches("0x");
    let v = hex::decode(s).with_context(|| format!("--{name} is not hex"))?;
    v.as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("--{name} must be {} hex digits, got {}", N * 2, s.len()))
}

fn line(out: &mut String, name: &str, v: &[u8]) {
    out.push_str(&format!("{name:<7} {}\n", hex::encode(v)));
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let k = hex_n::<16>("k", &a.k)?;
    let rand = hex_n::<16>("rand", &a.rand)?;
    let sqn_b = hex_n::<6>("sqn", &a.sqn)?;
    let amf = hex_n::<2>("amf", &a.amf)?;
    let m = match (&a.opc, &a.op) {
        (Some(opc), _) => Milenage::new(&k, &hex_n::<16>("opc", opc)?),
        (None, Some(op)) => Milenage::with_op(&k, &hex_n::<16>("op", op)?),
        (None, None) => bail!("give --opc or --op"),
    };
    let sqn = milenage::sqn_from_bytes(&sqn_b);
    let av = m
        .generate_vector(&rand, sqn, amf)
        .context("generating the vector")?;
    let f = m.f2345(&rand);
    let mut out = String::new();
    if let Some(op) = &a.op {
        let opc = milenage::compute_opc(&k, &hex_n::<16>("op", op)?);
        line(&mut out, "OPc", opc.as_bytes());
    }
    line(&mut out, "XRES", &av.xres);
    line(&mut out, "CK", av.ck.as_bytes());
    line(&mut out, "IK", av.ik.as_bytes());
    line(&mut out, "AK", &f.ak);
    line(&mut out, "AUTN", &av.autn);
    if let Some(id) = &a.identity {
        if a.aka_prime {
            let net = a.network_name.as_deref().unwrap_or_default();
            let (ckp, ikp) = ck_ik_prime(
                av.ck.as_bytes(),
                av.ik.as_bytes(),
                net.as_bytes(),
                &av.sqn_xor_ak(),
            )
            .context("deriving CK'/IK'")?;
            let keys = AkaPrimeKeys::derive(id.as_bytes(), ckp.as_bytes(), ikp.as_bytes())
                .context("deriving the EAP-AKA' keys")?;
            line(&mut out, "CK'", ckp.as_bytes());
            line(&mut out, "IK'", ikp.as_bytes());
            line(&mut out, "K_encr", keys.k_encr.as_bytes());
            line(&mut out, "K_aut", keys.k_aut.as_bytes());
            line(&mut out, "K_re", keys.k_re.as_bytes());
            line(&mut out, "MSK", keys.msk.as_bytes());
            line(&mut out, "EMSK", keys.emsk.as_bytes());
        } else {
            let keys = AkaKeys::derive(id.as_bytes(), av.ik.as_bytes(), av.ck.as_bytes());
            line(&mut out, "MK", keys.mk.as_bytes());
            line(&mut out, "K_encr", keys.k_encr.as_bytes());
            line(&mut out, "K_aut", keys.k_aut.as_bytes());
            line(&mut out, "MSK", keys.msk.as_bytes());
            line(&mut out, "EMSK", keys.emsk.as_bytes());
        }
    } else if a.network_name.is_some() {
        bail!("--network-name needs --identity and --aka-prime");
    }
    crate::out(&out);
    Ok(ExitCode::SUCCESS)
}
