//! EAP inside IKE_AUTH (RFC 7296 §2.16, RFC 5998): the two interfaces the engine talks to.
//!
//! * Initiator (the UE): a local [`EapPeer`] (EAP-AKA with the USIM, from
//!   `crate::eap`) is called synchronously with each EAP packet the responder sends.
//! * Responder (the ePDG): the authenticator is remote (a AAA server over Diameter SWm or
//!   RADIUS). The engine emits [`super::Event::EapRelay`] with the packet to forward and
//!   waits; the application answers with [`super::IkeSa::eap_reply`] (or through the
//!   dispatcher) when the AAA server has answered: [`EapReply`].

use mobstrap_crypto::SecretVec;
use rand::RngCore;

/// What the local EAP peer wants done with a packet it was given.
#[derive(Debug)]
pub enum EapPeerAction {
    /// Send this EAP Response.
    Respond(Vec<u8>),
    /// The packet was an EAP-Success the peer accepts; [`EapPeer::msk`] is now available
    /// (for key-generating methods).
    Success,
    /// EAP-Failure, or the peer gave up.
    Failure,
    /// Silently discard (RFC 3748: invalid or unexpected); nothing is sent.
    Ignore,
}

/// The EAP peer of an initiator.
pub trait EapPeer: Send {
    /// Handles one EAP packet (Request, Success or Failure) from the authenticator.
    fn handle(&mut self, packet: &[u8], rng: &mut dyn RngCore) -> EapPeerAction;
    /// The MSK after success (EAP-AKA: 64 octets).
    fn msk(&self) -> Option<SecretVec>;
    /// The EMSK after success (for the PMIPv6 MAG–LMA key, ERP).
    fn emsk(&self) -> Option<SecretVec>;
    /// The identity the peer used in EAP (EAP-Response/Identity or AT_IDENTITY), if known.
    fn identity(&self) -> Option<Vec<u8>> {
        None
    }
}

/// The authenticator's answer to a relayed EAP packet.
pub enum EapReply {
    /// The next EAP Request to give to the initiator.
    Request(Vec<u8>),
    /// EAP-Success with the keys the AAA server sent (Diameter EAP-Master-Session-Key,
    /// RADIUS MS-MPPE keys). `packet` is the EAP-Success to forward.
    Success {
        packet: Vec<u8>,
        msk: SecretVec,
        emsk: Option<SecretVec>,
    },
    /// EAP-Failure (forwarded, then the IKE SA fails).
    Failure { packet: Vec<u8> },
}

impl core::fmt::Debug for EapReply {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EapReply::Request(p) => write!(f, "EapReply::Request({} octets)", p.len()),
            EapReply::Success { packet, .. } => {
                write!(
                    f,
                    "EapReply::Success({} octets, keys redacted)",
                    packet.len()
                )
            }
            EapReply::Failure { packet } => write!(f, "EapReply::Failure({} octets)", packet.len()),
        }
    }
}

/// EAP-Response/Identity (RFC 3748 §5.1) carrying `identity`, as an ePDG builds it from IDi.
pub fn identity_response(identifier: u8, identity: &[u8]) -> Vec<u8> {
    let len = (5 + identity.len()).min(u16::MAX as usize);
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&[2, identifier]);
    v.extend_from_slice(&(len as u16).to_be_bytes());
    v.push(1);
    v.extend_from_slice(&identity[..len - 5]);
    v
}

/// The EAP peer of [`crate::eap`] (EAP-AKA / EAP-AKA' on a USIM) behind the initiator's
/// interface. The IKEv2 IDi carries the EAP identity (3GPP TS 33.402 §8.2.2), so the
/// conversation begins without an Identity round: take the identity for IDi from
/// [`UsimPeer::begin`] and put it in `Config::local_id` (as ID_RFC822_ADDR).
pub struct UsimPeer<M: crate::eap::peer::PeerMethod> {
    peer: crate::eap::EapPeer<M>,
    success: Option<Box<crate::eap::PeerSuccess>>,
    failure: Option<crate::eap::PeerFailure>,
}

impl<M: crate::eap::peer::PeerMethod> UsimPeer<M> {
    pub fn new(peer: crate::eap::EapPeer<M>) -> Self {
        UsimPeer {
            peer,
            success: None,
            failure: None,
        }
    }

    /// Starts a conversation whose identity travels in IDi; returns that identity.
    pub fn begin(&mut self) -> Vec<u8> {
        self.success = None;
        self.failure = None;
        self.peer.begin_with_external_identity()
    }

    /// Why the peer failed, if it did.
    pub fn failure(&self) -> Option<crate::eap::PeerFailure> {
        self.failure
    }

    /// The EAP engine (pseudonyms, re-authentication identities and SQN it learned).
    pub fn inner(&self) -> &crate::eap::EapPeer<M> {
        &self.peer
    }
}

impl<M: crate::eap::peer::PeerMethod + Send> EapPeer for UsimPeer<M> {
    fn handle(&mut self, packet: &[u8], rng: &mut dyn RngCore) -> EapPeerAction {
        if self.peer.handle_request(packet, rng).is_err() {
            return EapPeerAction::Ignore;
        }
        while let Some(e) = self.peer.poll_event() {
            match e {
                crate::eap::PeerEvent::Success(s) => self.success = Some(s),
                crate::eap::PeerEvent::Failure(f) => self.failure = Some(f),
                _ => {}
            }
        }
        // A Response goes out first (also an Authentication-Reject or Client-Error: the
        // EAP-Failure that follows ends the exchange).
        if let Some(tx) = self.peer.poll_transmit() {
            return EapPeerAction::Respond(tx.to_vec());
        }
        if self.success.is_some() {
            EapPeerAction::Success
        } else if self.failure.is_some() {
            EapPeerAction::Failure
        } else {
            EapPeerAction::Ignore
        }
    }

    fn msk(&self) -> Option<SecretVec> {
        self.success
            .as_ref()
            .map(|s| SecretVec::from_slice(s.msk.as_bytes()))
    }

    fn emsk(&self) -> Option<SecretVec> {
        self.success
            .as_ref()
            .map(|s| SecretVec::from_slice(s.emsk.as_bytes()))
    }

    fn identity(&self) -> Option<Vec<u8>> {
        self.success.as_ref().map(|s| s.identity.clone())
    }
}
