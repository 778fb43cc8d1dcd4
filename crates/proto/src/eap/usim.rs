//! A USIM for the EAP peer: Milenage (K, OPc) and the SQN_MS state of 3GPP TS 33.102
//! Annex C, so that the same peer serves tests, the AAA load generator and the UE.
//!
//! Two freshness rules ([`SqnPolicy`]):
//! * `Simple`: SQN must exceed the highest SQN accepted so far (and, optionally, by at most
//!   Δ) — hostapd's USIM simulator does this.
//! * `IndArray` (Annex C.2): SQN = SEQ ‖ IND with `ind_bits` low bits of IND; the USIM keeps
//!   the highest SEQ accepted for each IND value and accepts SEQ > SEQ_MS(IND), optionally
//!   with the Δ limit on how far SEQ may run ahead of the highest SEQ (C.2.1) and the L limit
//!   on how old it may be (C.2.2). Vectors used out of order across IND slots are accepted,
//!   as with several AAA nodes or parallel sessions.
//!
//! On a synchronisation failure AUTS carries SQN_MS, the highest SQN accepted (C.3.4 is not
//! used: the value is not incremented).

use mobstrap_crypto::milenage::{Milenage, UsimOutcome, SQN_MAX};

/// How the USIM decides that a network SQN is fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqnPolicy {
    /// SQN > SQN_MS, and SQN − SQN_MS ≤ Δ when `delta` is set.
    Simple { delta: Option<u64> },
    /// TS 33.102 Annex C.2 with an IND array.
    IndArray {
        /// Bits of IND (1..=10; 5 is the Annex C example, 32 slots).
        ind_bits: u8,
        /// Δ on SEQ: reject SEQ > SEQ_highest + Δ.
        delta: Option<u64>,
        /// L on SEQ: reject SEQ_highest − SEQ ≥ L.
        max_age: Option<u64>,
    },
}

impl Default for SqnPolicy {
    fn default() -> Self {
        SqnPolicy::Simple { delta: None }
    }
}

/// What the USIM answered to a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsimAnswer {
    Success(UsimOutcome),
    /// MAC verified but the SQN was not fresh: AUTS for AKA-Synchronization-Failure.
    SyncFailure([u8; 14]),
    /// AUTN did not verify (wrong key, or not from our home network).
    MacFailure,
}

/// The USIM state worth persisting between runs (a UE restarts with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqnState {
    /// The highest SQN accepted.
    pub sqn_ms: u64,
    /// SEQ_MS per IND slot (empty for the simple policy).
    pub seq_ms: Vec<u64>,
}

/// A Milenage USIM.
#[derive(Debug, Clone)]
pub struct Usim {
    milenage: Milenage,
    policy: SqnPolicy,
    sqn_ms: u64,
    seq_ms: Vec<u64>,
}

impl Usim {
    /// A USIM with K and OPc whose highest accepted SQN is `sqn_ms` (0 for a new card).
    pub fn new(k: &[u8; 16], opc: &[u8; 16], sqn_ms: u64, policy: SqnPolicy) -> Self {
        let slots = match policy {
            SqnPolicy::Simple { .. } => 0,
            SqnPolicy::IndArray { ind_bits, .. } => 1usize << ind_bits.clamp(1, 10),
        };
        let mut u = Usim {
            milenage: Milenage::new(k, opc),
            policy,
            sqn_ms: sqn_ms.min(SQN_MAX),
            seq_ms: vec![0; slots],
        };
        if let SqnPolicy::IndArray { ind_bits, .. } = policy {
            let b = u32::from(ind_bits.clamp(1, 10));
            let ind = (u.sqn_ms & ((1 << b) - 1)) as usize;
            u.seq_ms[ind] = u.sqn_ms >> b;
        }
        u
    }

    /// Restores a saved state.
    pub fn restore(&mut self, state: &SqnState) {
        self.sqn_ms = state.sqn_ms.min(SQN_MAX);
        if state.seq_ms.len() == self.seq_ms.len() {
            self.seq_ms.copy_from_slice(&state.seq_ms);
        }
    }

    pub fn state(&self) -> SqnState {
        SqnState {
            sqn_ms: self.sqn_ms,
            seq_ms: self.seq_ms.clone(),
        }
    }

    /// The highest SQN accepted.
    pub fn sqn_ms(&self) -> u64 {
        self.sqn_ms
    }

    fn ind_bits(&self) -> u32 {
        match self.policy {
            SqnPolicy::IndArray { ind_bits, .. } => u32::from(ind_bits.clamp(1, 10)),
            SqnPolicy::Simple { .. } => 0,
        }
    }

    /// Whether `sqn` is fresh under the policy (no state change).
    pub fn is_fresh(&self, sqn: u64) -> bool {
        match self.policy {
            SqnPolicy::Simple { delta } => {
                sqn > self.sqn_ms && delta.is_none_or(|d| sqn - self.sqn_ms <= d)
            }
            SqnPolicy::IndArray { delta, max_age, .. } => {
                let b = self.ind_bits();
                let seq = sqn >> b;
                let ind = (sqn & ((1 << b) - 1)) as usize;
                let highest = self.sqn_ms >> b;
                let slot = self.seq_ms.get(ind).copied().unwrap_or(u64::MAX);
                seq > slot
                    && delta.is_none_or(|d| seq <= highest.saturating_add(d))
                    && max_age.is_none_or(|l| highest.saturating_sub(seq) < l)
            }
        }
    }

    fn accept(&mut self, sqn: u64) {
        if let SqnPolicy::IndArray { .. } = self.policy {
            let b = self.ind_bits();
            let ind = (sqn & ((1 << b) - 1)) as usize;
            if let Some(s) = self.seq_ms.get_mut(ind) {
                *s = sqn >> b;
            }
        }
        self.sqn_ms = self.sqn_ms.max(sqn);
    }

    /// Runs the AKA algorithm for RAND and AUTN (TS 33.102 §6.3.3), updating SQN_MS when
    /// the challenge is accepted.
    pub fn authenticate(&mut self, rand: &[u8; 16], autn: &[u8; 16]) -> UsimAnswer {
        let snapshot = &*self;
        let out = snapshot
            .milenage
            .usim_authenticate(rand, autn, snapshot.sqn_ms, |sqn| snapshot.is_fresh(sqn));
        match out {
            Ok(o @ UsimOutcome::Success { .. }) => {
                if let UsimOutcome::Success { sqn, .. } = &o {
                    self.accept(*sqn);
                }
                UsimAnswer::Success(o)
            }
            Ok(UsimOutcome::SyncFailure { auts }) => UsimAnswer::SyncFailure(auts),
            Ok(UsimOutcome::MacFailure) | Err(_) => UsimAnswer::MacFailure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: [u8; 16] = [0x46; 16];
    const OPC: [u8; 16] = [0x3c; 16];

    fn hss() -> Milenage {
        Milenage::new(&K, &OPC)
    }

    #[test]
    fn simple_policy_accepts_increasing_and_resyncs_old() {
        let mut u = Usim::new(&K, &OPC, 10, SqnPolicy::Simple { delta: Some(100) });
        let v = hss().generate_vector(&[1; 16], 11, [0x80, 0]).unwrap();
        assert!(matches!(
            u.authenticate(&v.rand, &v.autn),
            UsimAnswer::Success(_)
        ));
        assert_eq!(u.sqn_ms(), 11);
        // Replay: not fresh → AUTS that the HSS resolves to SQN_MS = 11.
        let UsimAnswer::SyncFailure(auts) = u.authenticate(&v.rand, &v.autn) else {
            panic!("replay accepted");
        };
        assert_eq!(hss().resync(&v.rand, &auts).unwrap(), 11);
        // Too far ahead (Δ = 100).
        let v = hss().generate_vector(&[2; 16], 500, [0x80, 0]).unwrap();
        assert!(matches!(
            u.authenticate(&v.rand, &v.autn),
            UsimAnswer::SyncFailure(_)
        ));
        // Wrong key: MAC failure, state untouched.
        let other = Milenage::new(&[1; 16], &OPC);
        let v = other.generate_vector(&[3; 16], 50, [0x80, 0]).unwrap();
        assert_eq!(u.authenticate(&v.rand, &v.autn), UsimAnswer::MacFailure);
        assert_eq!(u.sqn_ms(), 11);
    }

    #[test]
    fn ind_array_accepts_out_of_order_slots_once() {
        let policy = SqnPolicy::IndArray {
            ind_bits: 5,
            delta: Some(1 << 20),
            max_age: Some(64),
        };
        let mut u = Usim::new(&K, &OPC, 0, policy);
        // SEQ 2 in slots 3 and 1, then SEQ 1 in slot 4: all fresh in their slots.
        for (seq, ind) in [(2u64, 3u64), (2, 1), (1, 4)] {
            let sqn = (seq << 5) | ind;
            let v = hss()
                .generate_vector(&[seq as u8 + ind as u8; 16], sqn, [0x80, 0])
                .unwrap();
            assert!(
                matches!(u.authenticate(&v.rand, &v.autn), UsimAnswer::Success(_)),
                "seq {seq} ind {ind}"
            );
        }
        assert_eq!(u.sqn_ms(), (2 << 5) | 3);
        // The same SEQ again in slot 1 is a replay.
        let v = hss()
            .generate_vector(&[9; 16], (2 << 5) | 1, [0x80, 0])
            .unwrap();
        assert!(matches!(
            u.authenticate(&v.rand, &v.autn),
            UsimAnswer::SyncFailure(_)
        ));
        // Too old for L = 64: SEQ_highest 2, SEQ 0 is still within; push highest far ahead.
        let v = hss()
            .generate_vector(&[7; 16], (100 << 5) | 2, [0x80, 0])
            .unwrap();
        assert!(matches!(
            u.authenticate(&v.rand, &v.autn),
            UsimAnswer::Success(_)
        ));
        let v = hss()
            .generate_vector(&[8; 16], (30 << 5) | 9, [0x80, 0])
            .unwrap();
        assert!(matches!(
            u.authenticate(&v.rand, &v.autn),
            UsimAnswer::SyncFailure(_)
        ));
        let v = hss()
            .generate_vector(&[6; 16], (40 << 5) | 9, [0x80, 0])
            .unwrap();
        assert!(matches!(
            u.authenticate(&v.rand, &v.autn),
            UsimAnswer::Success(_)
        ));
        let st = u.state();
        let mut u2 = Usim::new(&K, &OPC, 0, policy);
        u2.restore(&st);
        assert_eq!(u2.state(), st);
    }
}
