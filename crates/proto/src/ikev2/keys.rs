//! The keys of an IKE SA and the protection of its messages: SK payloads (RFC 7296 §3.14)
//! and SKF fragments (RFC 7383), sealed and opened in place with the transforms of
//! `mobstrap_crypto::transform`, laid out by `mobstrap_wire::ikev2::sk`.

use mobstrap_crypto::ikev2::{IkeSaKeys, KeyLengths, Prf};
use mobstrap_crypto::transform::Cipher;
use mobstrap_crypto::SecretVec;
use mobstrap_wire::ikev2::sk::split_padding;
use mobstrap_wire::ikev2::{
    emit_encrypted, encrypted_layout, EncryptedKind, Header, PayloadType, SkParams,
};
use rand::RngCore;

use super::proposal::IkeAlgs;
use super::Error;

/// The keys of one IKE SA, oriented: `tx` protects what we send, `rx` what we receive.
pub(crate) struct IkeKeys {
    pub algs: IkeAlgs,
    /// SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr in one buffer (zeroized on
    /// drop): seven key vectors cost an idle SA some 350 octets of headers and slack.
    keymat: SecretVec,
    /// The transforms' contexts (`tx`, `rx`) while the SA is being set up. Once it is
    /// established ([`IkeKeys::release_ciphers`]) its few later messages (liveness checks,
    /// rekeying, DELETE) each set up a context from the keys: two aws-lc contexts are over a
    /// kilobyte, the largest part of an idle SA.
    ciphers: Option<Box<(Cipher, Cipher)>>,
    initiator: bool,
    /// GCM IV counter (never repeats under one key).
    iv_counter: u64,
}

/// The keys in `IkeKeys::keymat`, in the order of [`IkeSaKeys::layout`].
#[derive(Clone, Copy)]
enum Key {
    D,
    Ai,
    Ar,
    Ei,
    Er,
    Pi,
    Pr,
}

impl IkeKeys {
    /// Derives the keys from SKEYSEED. `initiator`: whether we are the initiator of this
    /// IKE SA (not of the exchange).
    #[allow(clippy::too_many_arguments)]
    pub fn derive(
        algs: IkeAlgs,
        skeyseed: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: &[u8; 8],
        spi_r: &[u8; 8],
        initiator: bool,
    ) -> Result<Self, Error> {
        let keymat = IkeSaKeys::keymat(
            algs.prf,
            skeyseed,
            ni,
            nr,
            spi_i,
            spi_r,
            Self::lengths(algs),
        )?;
        let mut keys = IkeKeys {
            algs,
            keymat,
            ciphers: None,
            initiator,
            iv_counter: 0,
        };
        keys.ciphers = Some(Box::new((keys.cipher(true)?, keys.cipher(false)?)));
        Ok(keys)
    }

    fn lengths(algs: IkeAlgs) -> KeyLengths {
        KeyLengths {
            encr: algs.encr.keymat_len(),
            integ: algs.integ.map_or(0, |i| i.key_len()),
        }
    }

    fn key(&self, k: Key) -> &[u8] {
        let r = IkeSaKeys::layout(self.algs.prf, Self::lengths(self.algs))[k as usize].clone();
        self.keymat.as_bytes().get(r).unwrap_or(&[])
    }

    pub fn sk_d(&self) -> &[u8] {
        self.key(Key::D)
    }
    pub fn sk_pi(&self) -> &[u8] {
        self.key(Key::Pi)
    }
    pub fn sk_pr(&self) -> &[u8] {
        self.key(Key::Pr)
    }
    pub fn sk_ei(&self) -> &[u8] {
        self.key(Key::Ei)
    }
    pub fn sk_er(&self) -> &[u8] {
        self.key(Key::Er)
    }
    pub fn sk_ai(&self) -> &[u8] {
        self.key(Key::Ai)
    }
    pub fn sk_ar(&self) -> &[u8] {
        self.key(Key::Ar)
    }

    /// The context protecting what we send (`tx`) or what we receive.
    fn cipher(&self, tx: bool) -> Result<Cipher, Error> {
        let (e, a) = if tx == self.initiator {
            (self.sk_ei(), self.sk_ai())
        } else {
            (self.sk_er(), self.sk_ar())
        };
        Ok(Cipher::new(
            self.algs.encr,
            e,
            self.algs.integ.map(|i| (i, a)),
        )?)
    }

    /// Runs `f` with the `tx` (or receiving) context: the kept one, or one set up for it.
    fn with_cipher<T>(
        &self,
        tx: bool,
        f: impl FnOnce(&Cipher) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match &self.ciphers {
            Some(c) => f(if tx { &c.0 } else { &c.1 }),
            None => f(&self.cipher(tx)?),
        }
    }

    /// Drops the kept contexts (the SA is established; see the `ciphers` field).
    pub fn release_ciphers(&mut self) {
        self.ciphers = None;
    }

    fn icv_len(&self) -> usize {
        match self.algs.integ {
            Some(i) => i.icv_len(),
            None => mobstrap_crypto::transform::GCM_ICV_LEN,
        }
    }

    pub fn prf(&self) -> Prf {
        self.algs.prf
    }

    pub fn params(&self) -> SkParams {
        SkParams {
            iv_len: self.algs.encr.iv_len(),
            block_len: self.algs.encr.block_len(),
            icv_len: self.icv_len(),
        }
    }

    /// Bytes an SK payload adds around a plaintext of `plain_len` (header, IV, padding,
    /// pad length, ICV), not counting the IKE header.
    pub fn sk_overhead(&self, plain_len: usize, skf: bool) -> usize {
        let p = self.params();
        let pad = mobstrap_wire::ikev2::sk::padding_len(plain_len, p.block_len);
        (if skf { 8 } else { 4 }) + p.iv_len + pad + 1 + p.icv_len
    }

    /// Largest plaintext that fits one SKF payload when the whole IKE message may be
    /// `max_message` bytes.
    pub fn max_fragment_plain(&self, max_message: usize) -> usize {
        let p = self.params();
        let room = max_message.saturating_sub(28 + 8 + p.iv_len + p.icv_len + 1);
        if p.block_len > 1 {
            room - room % p.block_len
        } else {
            room
        }
    }

    /// Appends one protected message to `out`: header, SK (or SKF) around `plain` (an inner
    /// payload chain, or a piece of one for SKF).
    pub fn seal(
        &mut self,
        header: &Header,
        kind: EncryptedKind,
        first: PayloadType,
        plain: &[u8],
        rng: &mut dyn RngCore,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        let layout = emit_encrypted(header, &[], kind, first, plain, &self.params(), out)?;
        let iv = &mut out[layout.iv.clone()];
        if self.algs.encr.is_aead() {
            self.iv_counter = self.iv_counter.wrapping_add(1);
            iv.copy_from_slice(&self.iv_counter.to_be_bytes());
        } else {
            rng.fill_bytes(iv);
        }
        let aad_len = layout.aad.end - layout.aad.start;
        self.with_cipher(true, |c| Ok(c.seal_ike(&mut out[start..], aad_len)?))
    }

    /// Verifies and decrypts a received SK or SKF message in place; returns the range of
    /// the inner payloads (without padding) within `msg`.
    pub fn open(&self, msg: &mut [u8]) -> Result<core::ops::Range<usize>, Error> {
        let layout = encrypted_layout(msg, self.algs.encr.iv_len(), self.icv_len())?;
        let aad_len = layout.aad.end - layout.aad.start;
        self.with_cipher(false, |c| {
            c.open_ike(msg, aad_len).map_err(|_| Error::Integrity)
        })?;
        let ct = layout.ciphertext.clone();
        let (inner, _) = split_padding(&msg[ct.clone()])?;
        Ok(ct.start..ct.start + inner.len())
    }
}
