//! Notify payload (RFC 7296 §3.10) and its message types.

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::Writer;
use crate::{Error, Reader, Result};

use super::{ProtocolId, P};

enum_with_unknown! {
    /// Notify Message Types (IANA "IKEv2 Notify Message Types"): error types below 16384,
    /// status types from 16384.
    pub enum NotifyType(u16) {
        UnsupportedCriticalPayload = 1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        InvalidIkeSpi = 4 => "INVALID_IKE_SPI",
        InvalidMajorVersion = 5 => "INVALID_MAJOR_VERSION",
        InvalidSyntax = 7 => "INVALID_SYNTAX",
        InvalidMessageId = 9 => "INVALID_MESSAGE_ID",
        InvalidSpi = 11 => "INVALID_SPI",
        NoProposalChosen = 14 => "NO_PROPOSAL_CHOSEN",
        InvalidKePayload = 17 => "INVALID_KE_PAYLOAD",
        AuthenticationFailed = 24 => "AUTHENTICATION_FAILED",
        SinglePairRequired = 34 => "SINGLE_PAIR_REQUIRED",
        NoAdditionalSas = 35 => "NO_ADDITIONAL_SAS",
        InternalAddressFailure = 36 => "INTERNAL_ADDRESS_FAILURE",
        FailedCpRequired = 37 => "FAILED_CP_REQUIRED",
        TsUnacceptable = 38 => "TS_UNACCEPTABLE",
        InvalidSelectors = 39 => "INVALID_SELECTORS",
        /// RFC 4555 (MOBIKE).
        UnacceptableAddresses = 40 => "UNACCEPTABLE_ADDRESSES",
        /// RFC 4555 (MOBIKE).
        UnexpectedNatDetected = 41 => "UNEXPECTED_NAT_DETECTED",
        /// RFC 5026.
        UseAssignedHoa = 42 => "USE_ASSIGNED_HoA",
        TemporaryFailure = 43 => "TEMPORARY_FAILURE",
        ChildSaNotFound = 44 => "CHILD_SA_NOT_FOUND",
        /// G-IKEv2.
        InvalidGroupId = 45 => "INVALID_GROUP_ID",
        /// G-IKEv2.
        AuthorizationFailed = 46 => "AUTHORIZATION_FAILED",
        /// RFC 9370.
        StateNotFound = 47 => "STATE_NOT_FOUND",
        /// TS 24.302 §8.1.2.2 private error types (3GPP, non-3GPP access to the EPC).
        PdnConnectionRejection = 8192 => "PDN_CONNECTION_REJECTION",
        /// TS 24.302 §8.1.2.2.
        MaxConnectionReached = 8193 => "MAX_CONNECTION_REACHED",
        /// TS 24.302 §8.1.2.2.
        Non3gppAccessToEpcNotAllowed = 9000 => "NON_3GPP_ACCESS_TO_EPC_NOT_ALLOWED",
        /// TS 24.302 §8.1.2.2.
        UserUnknown = 9001 => "USER_UNKNOWN",
        /// TS 24.302 §8.1.2.2.
        NoApnSubscription = 9002 => "NO_APN_SUBSCRIPTION",
        /// TS 24.302 §8.1.2.2.
        AuthorizationRejected = 9003 => "AUTHORIZATION_REJECTED",
        /// TS 24.302 §8.1.2.2.
        IllegalMe = 9006 => "ILLEGAL_ME",
        /// TS 24.302 §8.1.2.2.
        NetworkFailure = 10500 => "NETWORK_FAILURE",
        /// TS 24.302 §8.1.2.2.
        RatTypeNotAllowed = 11001 => "RAT_TYPE_NOT_ALLOWED",
        /// TS 24.302 §8.1.2.2.
        ImeiNotAccepted = 11005 => "IMEI_NOT_ACCEPTED",
        /// TS 24.302 §8.1.2.2.
        PlmnNotAllowed = 11011 => "PLMN_NOT_ALLOWED",
        InitialContact = 16384 => "INITIAL_CONTACT",
        SetWindowSize = 16385 => "SET_WINDOW_SIZE",
        AdditionalTsPossible = 16386 => "ADDITIONAL_TS_POSSIBLE",
        IpcompSupported = 16387 => "IPCOMP_SUPPORTED",
        NatDetectionSourceIp = 16388 => "NAT_DETECTION_SOURCE_IP",
        NatDetectionDestinationIp = 16389 => "NAT_DETECTION_DESTINATION_IP",
        Cookie = 16390 => "COOKIE",
        UseTransportMode = 16391 => "USE_TRANSPORT_MODE",
        HttpCertLookupSupported = 16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        RekeySa = 16393 => "REKEY_SA",
        EspTfcPaddingNotSupported = 16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        NonFirstFragmentsAlso = 16395 => "NON_FIRST_FRAGMENTS_ALSO",
        /// RFC 4555.
        MobikeSupported = 16396 => "MOBIKE_SUPPORTED",
        /// RFC 4555.
        AdditionalIp4Address = 16397 => "ADDITIONAL_IP4_ADDRESS",
        /// RFC 4555.
        AdditionalIp6Address = 16398 => "ADDITIONAL_IP6_ADDRESS",
        /// RFC 4555.
        NoAdditionalAddresses = 16399 => "NO_ADDITIONAL_ADDRESSES",
        /// RFC 4555.
        UpdateSaAddresses = 16400 => "UPDATE_SA_ADDRESSES",
        /// RFC 4555.
        Cookie2 = 16401 => "COOKIE2",
        /// RFC 4555.
        NoNatsAllowed = 16402 => "NO_NATS_ALLOWED",
        /// RFC 4478.
        AuthLifetime = 16403 => "AUTH_LIFETIME",
        /// RFC 4739.
        MultipleAuthSupported = 16404 => "MULTIPLE_AUTH_SUPPORTED",
        /// RFC 4739.
        AnotherAuthFollows = 16405 => "ANOTHER_AUTH_FOLLOWS",
        /// RFC 5685.
        RedirectSupported = 16406 => "REDIRECT_SUPPORTED",
        /// RFC 5685.
        Redirect = 16407 => "REDIRECT",
        /// RFC 5685.
        RedirectedFrom = 16408 => "REDIRECTED_FROM",
        /// RFC 5723.
        TicketLtOpaque = 16409 => "TICKET_LT_OPAQUE",
        TicketRequest = 16410 => "TICKET_REQUEST",
        TicketAck = 16411 => "TICKET_ACK",
        TicketNack = 16412 => "TICKET_NACK",
        TicketOpaque = 16413 => "TICKET_OPAQUE",
        /// RFC 5739.
        LinkId = 16414 => "LINK_ID",
        /// RFC 5840.
        UseWespMode = 16415 => "USE_WESP_MODE",
        /// RFC 5857.
        RohcSupported = 16416 => "ROHC_SUPPORTED",
        /// RFC 5998.
        EapOnlyAuthentication = 16417 => "EAP_ONLY_AUTHENTICATION",
        /// RFC 6023.
        ChildlessIkev2Supported = 16418 => "CHILDLESS_IKEV2_SUPPORTED",
        /// RFC 6290.
        QuickCrashDetection = 16419 => "QUICK_CRASH_DETECTION",
        /// RFC 6311.
        Ikev2MessageIdSyncSupported = 16420 => "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
        IpsecReplayCounterSyncSupported = 16421 => "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED",
        Ikev2MessageIdSync = 16422 => "IKEV2_MESSAGE_ID_SYNC",
        IpsecReplayCounterSync = 16423 => "IPSEC_REPLAY_COUNTER_SYNC",
        /// RFC 6467.
        SecurePasswordMethods = 16424 => "SECURE_PASSWORD_METHODS",
        /// RFC 6631.
        PskPersist = 16425 => "PSK_PERSIST",
        PskConfirm = 16426 => "PSK_CONFIRM",
        /// RFC 6867.
        ErxSupported = 16427 => "ERX_SUPPORTED",
        /// 3GPP TS 24.303 / 24.327.
        IfomCapability = 16428 => "IFOM_CAPABILITY",
        /// G-IKEv2.
        SenderRequestId = 16429 => "SENDER_REQUEST_ID",
        /// RFC 7383.
        Ikev2FragmentationSupported = 16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        /// RFC 7427.
        SignatureHashAlgorithms = 16431 => "SIGNATURE_HASH_ALGORITHMS",
        /// RFC 7791.
        CloneIkeSaSupported = 16432 => "CLONE_IKE_SA_SUPPORTED",
        CloneIkeSa = 16433 => "CLONE_IKE_SA",
        /// RFC 8019.
        Puzzle = 16434 => "PUZZLE",
        /// RFC 8784.
        UsePpk = 16435 => "USE_PPK",
        PpkIdentity = 16436 => "PPK_IDENTITY",
        NoPpkAuth = 16437 => "NO_PPK_AUTH",
        /// RFC 9242.
        IntermediateExchangeSupported = 16438 => "INTERMEDIATE_EXCHANGE_SUPPORTED",
        /// RFC 8983.
        Ip4Allowed = 16439 => "IP4_ALLOWED",
        Ip6Allowed = 16440 => "IP6_ALLOWED",
        /// RFC 9370.
        AdditionalKeyExchange = 16441 => "ADDITIONAL_KEY_EXCHANGE",
        /// RFC 9347.
        UseAggfrag = 16442 => "USE_AGGFRAG",
    }
}

impl NotifyType {
    /// Error types are below 16384 (RFC 7296 §3.10.1).
    pub fn is_error(&self) -> bool {
        self.value() < 16384
    }
}

enum_with_unknown! {
    /// Hash algorithms of SIGNATURE_HASH_ALGORITHMS (RFC 7427, IANA).
    pub enum HashAlgorithm(u16) {
        Sha1 = 1 => "SHA1",
        Sha2_256 = 2 => "SHA2-256",
        Sha2_384 = 3 => "SHA2-384",
        Sha2_512 = 4 => "SHA2-512",
        Identity = 5 => "Identity",
    }
}

/// The body of a Notify payload. The notification data is kept as bytes; typed readers
/// for the common types are provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Notify<'a> {
    /// Protocol ID: 0 when the notification concerns the IKE SA (RFC 7296 §3.10).
    pub protocol_id: ProtocolId,
    pub notify_type: NotifyType,
    pub spi: &'a [u8],
    pub data: &'a [u8],
}

impl<'a> Notify<'a> {
    /// A notification about the IKE SA (Protocol ID 0, no SPI).
    pub const fn new(notify_type: NotifyType, data: &'a [u8]) -> Self {
        Notify {
            protocol_id: ProtocolId::None,
            notify_type,
            spi: &[],
            data,
        }
    }

    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let protocol_id = ProtocolId::from(r.u8("N.protocol_id")?);
        let spi_size = r.u8("N.spi_size")? as usize;
        let notify_type = NotifyType::from(r.u16("N.notify_message_type")?);
        let spi = r.bytes(spi_size, "N.spi")?;
        Ok(Notify {
            protocol_id,
            notify_type,
            spi,
            data: r.rest(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        out.put_u8(self.protocol_id.into());
        out.put_u8(u8::try_from(self.spi.len()).map_err(|_| Error::too_long(P, "N.spi_size"))?);
        out.put_u16(self.notify_type.into());
        out.put(self.spi);
        out.put(self.data);
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        4 + self.spi.len() + self.data.len()
    }

    /// INVALID_KE_PAYLOAD: the accepted DH group (RFC 7296 §1.3).
    pub fn accepted_dh_group(&self) -> Option<u16> {
        match (self.notify_type, <[u8; 2]>::try_from(self.data)) {
            (NotifyType::InvalidKePayload, Ok(b)) => Some(u16::from_be_bytes(b)),
            _ => None,
        }
    }

    /// SIGNATURE_HASH_ALGORITHMS: the list of 16-bit hash algorithm identifiers
    /// (a trailing odd byte is ignored).
    pub fn signature_hash_algorithms(&self) -> impl Iterator<Item = HashAlgorithm> + 'a {
        let d = if self.notify_type == NotifyType::SignatureHashAlgorithms {
            self.data
        } else {
            &[]
        };
        d.chunks_exact(2)
            .map(|c| HashAlgorithm::from(u16::from_be_bytes([c[0], c[1]])))
    }

    /// ADDITIONAL_IP4_ADDRESS (RFC 4555).
    pub fn additional_ip4(&self) -> Option<Ipv4Addr> {
        match (self.notify_type, <[u8; 4]>::try_from(self.data)) {
            (NotifyType::AdditionalIp4Address, Ok(b)) => Some(Ipv4Addr::from(b)),
            _ => None,
        }
    }

    /// ADDITIONAL_IP6_ADDRESS (RFC 4555).
    pub fn additional_ip6(&self) -> Option<Ipv6Addr> {
        match (self.notify_type, <[u8; 16]>::try_from(self.data)) {
            (NotifyType::AdditionalIp6Address, Ok(b)) => Some(Ipv6Addr::from(b)),
            _ => None,
        }
    }
}
