//! The RADIUS client side (a NAS, an ePDG speaking RADIUS, the AAA load generator), as a
//! sans-I/O engine: builds and signs Access-Requests carrying EAP, matches and verifies
//! answers, retransmits on a timer, recovers the MSK from the MS-MPPE keys.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mobstrap_crypto::radius as rcrypto;
use mobstrap_wire::radius::{AttrType, Attribute, Code, Repr, Value};

use super::{MS_MPPE_RECV_KEY, MS_MPPE_SEND_KEY, VENDOR_MICROSOFT};

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// First retransmission after this long; doubles each time (RFC 5080 §2.2.1 style).
    pub retransmit: Duration,
    /// Sends in all, the first included.
    pub max_sends: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            retransmit: Duration::from_secs(2),
            max_sends: 3,
        }
    }
}

/// A verified answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub identifier: u8,
    pub code: Code,
    /// The joined EAP-Message, empty when absent.
    pub eap: Vec<u8>,
    pub state: Option<Vec<u8>>,
    /// MS-MPPE-Recv-Key | MS-MPPE-Send-Key of an Access-Accept (RFC 3579 / RFC 2548).
    pub msk: Option<Vec<u8>>,
}

/// What went wrong with an answer or a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("radius client: all 256 identifiers are in use")]
    NoIdentifier,
    #[error("radius client: answer to no pending request (identifier {0})")]
    Unmatched(u8),
    #[error("radius client: answer does not verify: {0}")]
    Verify(rcrypto::RadiusCryptoError),
    #[error("radius client: answer without Message-Authenticator")]
    NoMessageAuthenticator,
    #[error("radius client: malformed answer: {0}")]
    Malformed(mobstrap_wire::Error),
    #[error("radius client: cannot build the request: {0}")]
    Build(mobstrap_wire::Error),
}

#[derive(Debug)]
struct Pending {
    authenticator: [u8; 16],
    bytes: Vec<u8>,
    next: Instant,
    sends: u32,
    wait: Duration,
}

/// Events from the timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// Send these bytes again.
    Retransmit(Vec<u8>),
    /// No answer after every retransmission.
    GaveUp(u8),
}

/// One client socket's worth of requests (identifiers are per source port).
#[derive(Debug)]
pub struct RadiusClient {
    secret: Vec<u8>,
    config: ClientConfig,
    pending: HashMap<u8, Pending>,
    next_id: u8,
}

impl RadiusClient {
    pub fn new(secret: &[u8], config: ClientConfig) -> Self {
        RadiusClient {
            secret: secret.to_vec(),
            config,
            pending: HashMap::new(),
            next_id: 0,
        }
    }

    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Builds and signs an Access-Request carrying `eap`. `authenticator` must be random
    /// (RFC 2865 §3). Returns the identifier and the bytes to send.
    pub fn access_request(
        &mut self,
        eap: &[u8],
        user_name: Option<&[u8]>,
        state: Option<&[u8]>,
        extra: &[Attribute<'_>],
        authenticator: [u8; 16],
        now: Instant,
    ) -> Result<(u8, Vec<u8>), ClientError> {
        let id = self.free_identifier()?;
        let mut r = Repr::new(Code::AccessRequest, id, authenticator);
        if let Some(u) = user_name {
            r.attributes.push(Attribute::octets(AttrType::UserName, u));
        }
        r.attributes.extend_from_slice(extra);
        r.push_eap_message(eap);
        if let Some(s) = state {
            r.attributes.push(Attribute::octets(AttrType::State, s));
        }
        r.push_message_authenticator();
        let mut bytes = Vec::with_capacity(r.buffer_len());
        r.emit(&mut bytes).map_err(ClientError::Build)?;
        rcrypto::sign_request(&mut bytes, &self.secret).map_err(ClientError::Verify)?;
        self.pending.insert(
            id,
            Pending {
                authenticator,
                bytes: bytes.clone(),
                next: now + self.config.retransmit,
                sends: 1,
                wait: self.config.retransmit,
            },
        );
        Ok((id, bytes))
    }

    fn free_identifier(&mut self) -> Result<u8, ClientError> {
        for _ in 0..=255u16 {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if !self.pending.contains_key(&id) {
                return Ok(id);
            }
        }
        Err(ClientError::NoIdentifier)
    }

    /// Matches, verifies and reads an answer. A forged or unmatched datagram is an error and
    /// leaves the pending request in place (RFC 2865: silently discard).
    pub fn handle_answer(&mut self, data: &[u8]) -> Result<Answer, ClientError> {
        let repr = Repr::parse(data).map_err(ClientError::Malformed)?;
        let id = repr.identifier;
        let p = self.pending.get(&id).ok_or(ClientError::Unmatched(id))?;
        let had_ma = rcrypto::verify_response(data, &p.authenticator, &self.secret)
            .map_err(ClientError::Verify)?;
        if !had_ma && repr.code != Code::AccountingResponse {
            return Err(ClientError::NoMessageAuthenticator);
        }
        let req_auth = p.authenticator;
        self.pending.remove(&id);
        let mut msk = None;
        if repr.code == Code::AccessAccept {
            // The two keys may come in one Vendor-Specific attribute or (hostapd) in one
            // each: look through all of Microsoft's.
            let sub = |t: u8| {
                repr.attributes.iter().find_map(|a| match &a.value {
                    Value::Vendor(v) if v.vendor_id == VENDOR_MICROSOFT => v.sub(t),
                    _ => None,
                })
            };
            if let (Some(r), Some(s)) = (sub(MS_MPPE_RECV_KEY), sub(MS_MPPE_SEND_KEY)) {
                let r = rcrypto::decrypt_mppe_key(r.value, &self.secret, &req_auth)
                    .map_err(ClientError::Verify)?;
                let s = rcrypto::decrypt_mppe_key(s.value, &self.secret, &req_auth)
                    .map_err(ClientError::Verify)?;
                let mut k = Vec::with_capacity(r.len() + s.len());
                k.extend_from_slice(&r);
                k.extend_from_slice(&s);
                msk = Some(k);
            }
        }
        Ok(Answer {
            identifier: id,
            code: repr.code,
            eap: repr
                .eap_message()
                .map(|c| c.into_owned())
                .unwrap_or_default(),
            state: repr
                .attribute(AttrType::State)
                .and_then(|a| a.as_bytes())
                .map(<[u8]>::to_vec),
            msk,
        })
    }

    /// When the next retransmission is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.next).min()
    }

    /// Retransmissions and give-ups due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Timer> {
        let mut out = Vec::new();
        let mut gone = Vec::new();
        for (id, p) in self.pending.iter_mut() {
            if p.next > now {
                continue;
            }
            if p.sends >= self.config.max_sends {
                gone.push(*id);
                out.push(Timer::GaveUp(*id));
            } else {
                p.sends += 1;
                p.wait *= 2;
                p.next = now + p.wait;
                out.push(Timer::Retransmit(p.bytes.clone()));
            }
        }
        for id in gone {
            self.pending.remove(&id);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Client, Config, Incoming, Outcome, RadiusServer};
    use super::*;

    #[test]
    fn client_and_server_agree_and_the_msk_arrives() {
        let secret = b"s3cret";
        let nas: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut server = RadiusServer::new(
            Config::default(),
            [(
                nas.ip(),
                Client {
                    name: "nas".into(),
                    secret: secret.to_vec(),
                },
            )],
        );
        let mut client = RadiusClient::new(secret, ClientConfig::default());
        let now = Instant::now();
        let eap = [2u8, 1, 0, 6, 1, b'x'];
        let (_, req) = client
            .access_request(&eap, Some(b"x"), None, &[], [0x42; 16], now)
            .unwrap();
        let Incoming::Eap(e) = server.handle_datagram(nas, &req, now) else {
            panic!()
        };
        let t = e.token;
        let big = vec![7u8; 600]; // spans three EAP-Message attributes
        let ans = server
            .respond(
                t,
                Outcome::Challenge {
                    eap: &big,
                    state: b"st",
                },
                0,
            )
            .unwrap();
        let a = client.handle_answer(&ans).unwrap();
        assert_eq!(a.code, Code::AccessChallenge);
        assert_eq!(a.eap, big);
        assert_eq!(a.state.as_deref(), Some(&b"st"[..]));
        assert_eq!(client.outstanding(), 0);
        // A replayed answer matches nothing any more.
        assert_eq!(
            client.handle_answer(&ans),
            Err(ClientError::Unmatched(a.identifier))
        );

        let (_, req) = client
            .access_request(&eap, None, Some(b"st"), &[], [0x43; 16], now)
            .unwrap();
        let Incoming::Eap(e) = server.handle_datagram(nas, &req, now) else {
            panic!()
        };
        assert_eq!(e.state, Some(&b"st"[..]));
        let t = e.token;
        let msk = [9u8; 64];
        let ans = server
            .respond(
                t,
                Outcome::Accept {
                    eap: &[3, 2, 0, 4],
                    msk: &msk,
                    user_name: None,
                    session_timeout: None,
                },
                77,
            )
            .unwrap();
        let a = client.handle_answer(&ans).unwrap();
        assert_eq!(a.code, Code::AccessAccept);
        assert_eq!(a.msk.as_deref(), Some(&msk[..]));
    }

    #[test]
    fn forged_answers_are_refused_and_retransmissions_back_off() {
        let mut client = RadiusClient::new(
            b"a",
            ClientConfig {
                retransmit: Duration::from_secs(1),
                max_sends: 3,
            },
        );
        let t0 = Instant::now();
        let (id, req) = client
            .access_request(&[2, 1, 0, 4], None, None, &[], [1; 16], t0)
            .unwrap();
        // An "answer" signed with another secret.
        let mut r = Repr::new(Code::AccessAccept, id, [0; 16]);
        r.push_message_authenticator();
        let mut forged = Vec::new();
        r.emit(&mut forged).unwrap();
        rcrypto::sign_response(&mut forged, &[1; 16], b"b").unwrap();
        assert!(matches!(
            client.handle_answer(&forged),
            Err(ClientError::Verify(_))
        ));
        assert_eq!(client.outstanding(), 1);
        assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(
            client.handle_timeout(t0 + Duration::from_secs(1)),
            vec![Timer::Retransmit(req.clone())]
        );
        assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(
            client.handle_timeout(t0 + Duration::from_secs(3)),
            vec![Timer::Retransmit(req)]
        );
        assert_eq!(
            client.handle_timeout(t0 + Duration::from_secs(7)),
            vec![Timer::GaveUp(id)]
        );
        assert_eq!(client.outstanding(), 0);
    }

    #[test]
    fn identifiers_run_out_at_256() {
        let mut c = RadiusClient::new(b"a", ClientConfig::default());
        let now = Instant::now();
        for _ in 0..256 {
            c.access_request(&[2, 1, 0, 4], None, None, &[], [0; 16], now)
                .unwrap();
        }
        assert_eq!(
            c.access_request(&[2, 1, 0, 4], None, None, &[], [0; 16], now),
            Err(ClientError::NoIdentifier)
        );
    }
}
