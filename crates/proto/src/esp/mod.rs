//! ESP SA processing (RFC 4303), sans-I/O: an [`Outbound`] SA seals packets, an
//! [`Inbound`] SA checks and opens them, with AES-GCM-16 or AES-CBC + HMAC-SHA-2 from
//! `mobstrap_crypto::transform` applied in place.
//!
//! * Sequence numbers from 1, 32-bit or extended (ESN, RFC 4303 §2.2.1 and Appendix A:
//!   the high half is inferred from the replay window); an outbound SA refuses to wrap.
//! * Anti-replay (§3.4.3) with a window of any multiple of 64 bits (64 and 1024 are usual):
//!   the window is checked before the ICV and updated only after it verified.
//! * Tunnel mode (inner IPv4/IPv6 packet, Next Header 4/41) and transport mode (the upper
//!   layer, e.g. a Mobility Header, Next Header 135): the caller gives the Next Header.
//! * Padding per §2.4 (1, 2, 3, … to the cipher's block size, 4-octet alignment for GCM),
//!   checked on receipt.
//! * UDP encapsulation (RFC 3948): the ESP packet is the UDP payload on the NAT-T port,
//!   unchanged; [`Keepalive`] times the one-octet NAT-keepalives.
//!
//! No allocation per packet: `seal` writes into a caller-owned buffer that keeps its
//! capacity, and `open` works in place. An SA keys its transform at its first packet (the
//! keys are checked when it is made): an idle SA holds its key material, not the key
//! schedules.

use std::ops::Range;
use std::time::{Duration, Instant};

use mobstrap_crypto::transform::{Cipher, ESP_HEADER_LEN};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::ikev2::{ChildSaInfo, EspAlgs, EspKeys};

/// Next Header values.
pub const NEXT_HEADER_IPV4: u8 = 4;
pub const NEXT_HEADER_IPV6: u8 = 41;
pub const NEXT_HEADER_MH: u8 = 135;

/// Why a packet was not sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EspError {
    #[error("ESP packet too short")]
    Truncated,
    #[error("ESP SPI {0:#010x} is not this SA's")]
    WrongSpi(u32),
    #[error("ESP sequence number {0} replayed or left of the window")]
    Replay(u64),
    #[error("ESP integrity check failed")]
    Integrity,
    #[error("ESP padding or pad length invalid")]
    BadPadding,
    #[error("ESP sequence numbers exhausted: rekey")]
    SequenceExhausted,
    #[error("ESP payload too large")]
    TooLarge,
    #[error("ESP key material rejected")]
    Key,
}

/// Byte and packet counters of an SA (for lifetimes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub packets: u64,
    pub bytes: u64,
}

fn cipher(algs: &EspAlgs, keys: &EspKeys) -> Result<Cipher, EspError> {
    Cipher::new(
        algs.encr,
        keys.encr.as_bytes(),
        algs.integ.map(|i| (i, keys.integ.as_bytes())),
    )
    .map_err(|_| EspError::Key)
}

/// An SA's transform, keyed at its first packet. An SA that carries no traffic (most UEs
/// of an ePDG, most of the time) holds its key material, a few dozen octets, instead of the
/// key schedules (about 590 octets per direction for AES-GCM with aws-lc). The keys are
/// checked when the SA is made, so a bad key still fails the install, not the first packet.
enum Keyed {
    Pending { algs: EspAlgs, keys: EspKeys },
    Ready(Box<Cipher>),
}

impl Keyed {
    /// Checks the keys (by keying the transform once) and notes the IV and ICV lengths.
    fn new(algs: &EspAlgs, keys: &EspKeys) -> Result<(Self, u8, u8), EspError> {
        let c = cipher(algs, keys)?;
        let (iv, icv) = (c.iv_len() as u8, c.icv_len() as u8);
        Ok((
            Keyed::Pending {
                algs: *algs,
                keys: keys.clone(),
            },
            iv,
            icv,
        ))
    }

    /// The keyed transform, keyed now if this is the first packet.
    fn get(&mut self) -> Result<&Cipher, EspError> {
        if let Keyed::Pending { algs, keys } = self {
            *self = Keyed::Ready(Box::new(cipher(algs, keys)?));
        }
        match self {
            Keyed::Ready(c) => Ok(c),
            Keyed::Pending { .. } => Err(EspError::Key),
        }
    }
}

/// An outbound ESP SA.
pub struct Outbound {
    spi: u32,
    /// The last sequence number used.
    seq: u64,
    esn: bool,
    cipher: Keyed,
    iv_len: u8,
    icv_len: u8,
    block: u8,
    /// Seeds the CBC IV generator at the first CBC packet (GCM needs none: its IV is the
    /// sequence number), so a GCM SA carries no generator state (~320 octets).
    iv_seed: [u8; 32],
    iv_rng: Option<Box<StdRng>>,
    usage: Usage,
}

impl core::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Outbound(spi {:#010x}, seq {})", self.spi, self.seq)
    }
}

impl Outbound {
    /// `iv_seed` seeds the generator of CBC IVs (unpredictable per RFC 3602; GCM uses the
    /// sequence number as IV, unique per key).
    pub fn new(
        spi: u32,
        algs: &EspAlgs,
        keys: &EspKeys,
        iv_seed: [u8; 32],
    ) -> Result<Self, EspError> {
        let (cipher, iv_len, icv_len) = Keyed::new(algs, keys)?;
        let block = if algs.encr.is_aead() {
            4
        } else {
            algs.encr.block_len()
        };
        Ok(Outbound {
            spi,
            seq: 0,
            esn: algs.esn,
            cipher,
            iv_len,
            icv_len,
            block: u8::try_from(block).map_err(|_| EspError::Key)?,
            iv_seed,
            iv_rng: None,
            usage: Usage::default(),
        })
    }

    pub fn spi(&self) -> u32 {
        self.spi
    }
    pub fn usage(&self) -> Usage {
        self.usage
    }
    /// The next sequence number to be used.
    pub fn next_sequence(&self) -> u64 {
        self.seq + 1
    }
    /// Sets the last used sequence number (tests of the wrap-around).
    pub fn set_sequence(&mut self, last_used: u64) {
        self.seq = last_used;
    }

    /// Bytes `seal` adds around a payload of `len` octets at most.
    pub fn overhead(&self) -> usize {
        ESP_HEADER_LEN
            + usize::from(self.iv_len)
            + usize::from(self.block)
            + 2
            + usize::from(self.icv_len)
    }

    /// Seals `payload` (tunnel mode: the inner IP packet; transport mode: the upper-layer
    /// data) with `next_header` into `out` (cleared first; its capacity is reused).
    pub fn seal(
        &mut self,
        payload: &[u8],
        next_header: u8,
        out: &mut Vec<u8>,
    ) -> Result<(), EspError> {
        let limit = if self.esn { u64::MAX } else { u32::MAX as u64 };
        if self.seq >= limit {
            return Err(EspError::SequenceExhausted);
        }
        if payload.len() > 65_000 {
            return Err(EspError::TooLarge);
        }
        let cipher = self.cipher.get()?;
        self.seq += 1;
        let seq = self.seq;
        out.clear();
        out.extend_from_slice(&self.spi.to_be_bytes());
        out.extend_from_slice(&(seq as u32).to_be_bytes());
        let iv_len = usize::from(self.iv_len);
        let iv_at = out.len();
        out.resize(iv_at + iv_len, 0);
        if iv_len == 8 {
            out[iv_at..iv_at + 8].copy_from_slice(&seq.to_be_bytes());
        } else {
            let seed = self.iv_seed;
            self.iv_rng
                .get_or_insert_with(|| Box::new(StdRng::from_seed(seed)))
                .fill_bytes(&mut out[iv_at..iv_at + iv_len]);
        }
        mobstrap_wire::esp::emit_plaintext(payload, next_header, usize::from(self.block), out)
            .map_err(|_| EspError::TooLarge)?;
        let n = out.len();
        out.resize(n + usize::from(self.icv_len), 0);
        let hi = self.esn.then_some((seq >> 32) as u32);
        cipher.seal_esp(out, hi).map_err(|_| EspError::Key)?;
        self.usage.packets += 1;
        self.usage.bytes += payload.len() as u64;
        Ok(())
    }
}

/// The anti-replay window (RFC 4303 §3.4.3): `top` is the highest authenticated sequence
/// number, bit i of the map stands for `top - i`. The map is allocated at the first
/// authenticated packet: an idle SA (most of an ePDG's, between a UE's bursts of traffic
/// only the first time) does not carry the default window's 128 octets.
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    top: u64,
    words: u32,
    /// Empty while `top` is 0.
    bits: Vec<u64>,
}

impl ReplayWindow {
    /// A window of `size` bits, rounded up to a multiple of 64 (at least 64).
    pub fn new(size: usize) -> Self {
        let words = size.div_ceil(64).clamp(1, u32::MAX as usize) as u32;
        ReplayWindow {
            top: 0,
            words,
            bits: Vec::new(),
        }
    }

    pub fn size(&self) -> u64 {
        u64::from(self.words) * 64
    }

    pub fn top(&self) -> u64 {
        self.top
    }

    /// Whether `seq` may be accepted (not seen, not left of the window, not 0).
    pub fn check(&self, seq: u64) -> bool {
        if seq == 0 {
            return false;
        }
        if seq > self.top {
            return true;
        }
        let off = self.top - seq;
        if off >= self.size() {
            return false;
        }
        // no map yet: nothing was received (`top` set by hand, e.g. after a restore)
        self.bits
            .get((off / 64) as usize)
            .is_none_or(|w| w & (1 << (off % 64)) == 0)
    }

    /// Records an authenticated `seq` (call after `check` and the ICV).
    pub fn update(&mut self, seq: u64) {
        if self.bits.is_empty() {
            self.bits = vec![0; self.words as usize];
        }
        if seq > self.top {
            let shift = seq - self.top;
            self.shift(shift);
            self.top = seq;
            self.bits[0] |= 1;
        } else {
            let off = self.top - seq;
            if off < self.size() {
                self.bits[(off / 64) as usize] |= 1 << (off % 64);
            }
        }
    }

    fn shift(&mut self, n: u64) {
        if n >= self.size() {
            self.bits.iter_mut().for_each(|w| *w = 0);
            return;
        }
        let words = (n / 64) as usize;
        let bits = (n % 64) as u32;
        let len = self.bits.len();
        if words > 0 {
            for i in (0..len).rev() {
                self.bits[i] = if i >= words { self.bits[i - words] } else { 0 };
            }
        }
        if bits > 0 {
            for i in (0..len).rev() {
                let lower = if i > 0 {
                    self.bits[i - 1] >> (64 - bits)
                } else {
                    0
                };
                self.bits[i] = (self.bits[i] << bits) | lower;
            }
        }
    }

    /// The full 64-bit sequence number for a received low half with ESN
    /// (RFC 4303 Appendix A2.2).
    pub fn infer_esn(&self, seq_low: u32) -> u64 {
        let w = self.size();
        let t = self.top;
        let tl = t as u32 as u64;
        let th = t >> 32;
        let sl = seq_low as u64;
        let hi = if tl >= w - 1 {
            if sl >= tl - (w - 1) {
                th
            } else {
                th + 1
            }
        } else if sl >= tl.wrapping_sub(w - 1) & 0xffff_ffff {
            if th == 0 {
                // Below sequence number 1: nothing valid lives there.
                return 0;
            }
            th - 1
        } else {
            th
        };
        (hi << 32) | sl
    }
}

/// A packet [`Inbound::open`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Where the payload (inner packet / upper layer) is in the buffer.
    pub payload: Range<usize>,
    pub next_header: u8,
    pub sequence: u64,
}

/// An inbound ESP SA.
pub struct Inbound {
    spi: u32,
    esn: bool,
    cipher: Keyed,
    iv_len: u8,
    icv_len: u8,
    window: ReplayWindow,
    usage: Usage,
    replay_check: bool,
}

impl core::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Inbound(spi {:#010x}, top {})",
            self.spi, self.window.top
        )
    }
}

impl Inbound {
    /// `window`: anti-replay window in bits (0 turns replay protection off, as RFC 4303
    /// §3.4.3 allows a receiver to).
    pub fn new(spi: u32, algs: &EspAlgs, keys: &EspKeys, window: usize) -> Result<Self, EspError> {
        let (cipher, iv_len, icv_len) = Keyed::new(algs, keys)?;
        Ok(Inbound {
            spi,
            esn: algs.esn,
            cipher,
            iv_len,
            icv_len,
            window: ReplayWindow::new(window.max(64)),
            usage: Usage::default(),
            replay_check: window != 0,
        })
    }

    pub fn spi(&self) -> u32 {
        self.spi
    }
    pub fn usage(&self) -> Usage {
        self.usage
    }
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Starts the window at `top` (an SA taken over mid-life, or tests near 2^32).
    pub fn set_window_top(&mut self, top: u64) {
        self.window = ReplayWindow::new(self.window.size() as usize);
        self.window.top = top;
    }

    /// Verifies and decrypts an ESP packet in place (it starts with the SPI). On success
    /// the payload is at `Opened::payload`; on failure the buffer's contents are unspecified
    /// and the SA is unchanged.
    pub fn open(&mut self, packet: &mut [u8]) -> Result<Opened, EspError> {
        let iv = usize::from(self.iv_len);
        let icv = usize::from(self.icv_len);
        if packet.len() < ESP_HEADER_LEN + iv + 2 + icv {
            return Err(EspError::Truncated);
        }
        let spi = u32::from_be_bytes([packet[0], packet[1], packet[2], packet[3]]);
        if spi != self.spi {
            return Err(EspError::WrongSpi(spi));
        }
        let low = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let seq = if self.esn {
            self.window.infer_esn(low)
        } else {
            low as u64
        };
        if self.replay_check && !self.window.check(seq) {
            return Err(EspError::Replay(seq));
        }
        let hi = self.esn.then_some((seq >> 32) as u32);
        self.cipher
            .get()?
            .open_esp(packet, hi)
            .map_err(|_| EspError::Integrity)?;
        let start = ESP_HEADER_LEN + iv;
        let end = packet.len() - icv;
        let plain = &packet[start..end];
        let t = mobstrap_wire::esp::Trailer::parse(plain).map_err(|_| EspError::BadPadding)?;
        // RFC 4303 §2.4: the receiver may check the default padding; we do.
        if !t.padding_is_default() {
            return Err(EspError::BadPadding);
        }
        let payload = start..start + t.payload.len();
        let next_header = t.next_header;
        self.window.update(seq);
        self.usage.packets += 1;
        self.usage.bytes += payload.len() as u64;
        Ok(Opened {
            payload,
            next_header,
            sequence: seq,
        })
    }
}

/// Both SAs of a Child SA, from what the IKE engine reported. `iv_seed` seeds the
/// outbound CBC IVs.
pub fn from_child(
    c: &ChildSaInfo,
    window: usize,
    iv_seed: [u8; 32],
) -> Result<(Inbound, Outbound), EspError> {
    Ok((
        Inbound::new(c.inbound_spi, &c.algs, &c.inbound, window)?,
        Outbound::new(c.outbound_spi, &c.algs, &c.outbound, iv_seed)?,
    ))
}

/// The Next Header for a tunnel-mode inner packet, from its IP version nibble.
pub fn tunnel_next_header(inner: &[u8]) -> Option<u8> {
    match inner.first().map(|b| b >> 4) {
        Some(4) => Some(NEXT_HEADER_IPV4),
        Some(6) => Some(NEXT_HEADER_IPV6),
        _ => None,
    }
}

/// NAT-keepalive timing (RFC 3948 §2.3): one 0xFF octet to the peer's NAT-T port after
/// `interval` without other traffic to it (strongSwan: 20 s).
#[derive(Debug, Clone)]
pub struct Keepalive {
    interval: Duration,
    next: Instant,
}

impl Keepalive {
    pub const PACKET: [u8; 1] = mobstrap_wire::ikev2::NAT_KEEPALIVE;

    pub fn new(interval: Duration, now: Instant) -> Self {
        Keepalive {
            interval,
            next: now + interval,
        }
    }
    /// Something was sent to the peer: the next keepalive moves.
    pub fn on_send(&mut self, now: Instant) {
        self.next = now + self.interval;
    }
    pub fn poll_timeout(&self) -> Instant {
        self.next
    }
    /// Whether a keepalive is due now (and re-arms).
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        if now >= self.next {
            self.next = now + self.interval;
            true
        } else {
            false
        }
    }
}
