//! The static AVP dictionary: code, vendor, name, data type and M-bit rule of every AVP
//! mobstrap speaks, with names for the enumerated values the flows use.
//!
//! Sources: RFC 6733 (base), RFC 4006 (Subscription-Id), RFC 7155 (NASREQ), RFC 4072 (EAP),
//! RFC 4004 / RFC 5447 / RFC 5778 (Mobile IP), RFC 5779 (PMIPv6), RFC 6734 / RFC 6942 (keys,
//! ERP), 3GPP TS 29.229 / 29.272 / 29.273 / 29.212 / 29.061 / 32.299 (vendor 10415).
//! `tests::wireshark_dictionary_agrees` checks every entry against Wireshark's XML dictionary.
//!
//! Lookups compile to `match` statements: by (vendor, code) with [`lookup`], by name with
//! [`by_name`]. Each entry is also a `pub static` usable directly by builders
//! (`dict::SESSION_ID`).

/// The Diameter base data types (RFC 6733 §4.2, §4.3) and the derived types the dictionary uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    OctetString,
    Integer32,
    Integer64,
    Unsigned32,
    Unsigned64,
    Float32,
    Float64,
    Grouped,
    /// 2-byte address family (IANA "Address Family Numbers") then the address.
    Address,
    /// Seconds since 1900-01-01 UTC (NTP), 4 bytes, RFC 4330 era rule.
    Time,
    UTF8String,
    DiameterIdentity,
    DiameterURI,
    Enumerated,
    IPFilterRule,
    /// RFC 7155 §4.4.6 (QoS-Filter-Rule); text like IPFilterRule.
    QoSFilterRule,
}

impl DataType {
    /// The name RFC 6733 uses.
    pub fn name(self) -> &'static str {
        match self {
            DataType::OctetString => "OctetString",
            DataType::Integer32 => "Integer32",
            DataType::Integer64 => "Integer64",
            DataType::Unsigned32 => "Unsigned32",
            DataType::Unsigned64 => "Unsigned64",
            DataType::Float32 => "Float32",
            DataType::Float64 => "Float64",
            DataType::Grouped => "Grouped",
            DataType::Address => "Address",
            DataType::Time => "Time",
            DataType::UTF8String => "UTF8String",
            DataType::DiameterIdentity => "DiameterIdentity",
            DataType::DiameterURI => "DiameterURI",
            DataType::Enumerated => "Enumerated",
            DataType::IPFilterRule => "IPFilterRule",
            DataType::QoSFilterRule => "QoSFilterRule",
        }
    }

    /// The exact data length the type requires, `None` for variable-length types.
    pub fn fixed_len(self) -> Option<usize> {
        match self {
            DataType::Integer32
            | DataType::Unsigned32
            | DataType::Float32
            | DataType::Enumerated
            | DataType::Time => Some(4),
            DataType::Integer64 | DataType::Unsigned64 | DataType::Float64 => Some(8),
            _ => None,
        }
    }

    /// True for the types whose data is text (UTF-8 is validated on parse).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            DataType::UTF8String
                | DataType::DiameterIdentity
                | DataType::DiameterURI
                | DataType::IPFilterRule
                | DataType::QoSFilterRule
        )
    }
}

/// An AVP flag rule (the "Must / May / Must not" columns of the AVP tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    Must,
    May,
    MustNot,
}

/// One dictionary entry.
#[derive(Debug, PartialEq, Eq)]
pub struct AvpDef {
    pub code: u32,
    /// 0 for IETF AVPs (no Vendor-ID field), else the IANA enterprise number.
    pub vendor: u32,
    pub name: &'static str,
    pub ty: DataType,
    /// The M-bit rule; builders set M only for `Must`.
    pub m: Rule,
    /// Names of enumerated (or well-known Unsigned32) values.
    pub values: &'static [(u32, &'static str)],
}

impl AvpDef {
    /// The name of a value of this AVP (Enumerated, Result-Code, ...), if the dictionary has one.
    pub fn value_name(&self, v: u32) -> Option<&'static str> {
        self.values.iter().find(|(n, _)| *n == v).map(|(_, s)| *s)
    }

    /// The flags byte a sender uses: V when vendor-specific, M when the rule says must.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if self.vendor != 0 {
            f |= super::avp::flags::VENDOR;
        }
        if self.m == Rule::Must {
            f |= super::avp::flags::MANDATORY;
        }
        f
    }

    /// The name Wireshark's dictionary gives this AVP (see [`WIRESHARK_NAMES`]).
    pub fn wireshark_name(&self) -> &'static str {
        WIRESHARK_NAMES
            .iter()
            .find(|(v, c, _)| *v == self.vendor && *c == self.code)
            .map(|(_, _, n)| *n)
            .unwrap_or(self.name)
    }

    /// The Wireshark display-filter field for this AVP's value: `diameter.<wireshark name>`.
    pub fn wireshark_field(&self) -> String {
        format!("diameter.{}", self.wireshark_name())
    }
}

/// AVPs whose name in Wireshark's dictionary differs from the specification's: Wireshark
/// prefixes the TS 29.229 SIP AVPs with "3GPP-" to tell them from RFC 4740's, and keeps the
/// RFC 3588 name of AVP 50 and the RADIUS name of AVP 68.
pub static WIRESHARK_NAMES: &[(u32, u32, &str)] = &[
    (0, 50, "Accounting-Multi-Session-Id"),
    (0, 68, "Tunnel-Connection-ID"),
    (10415, 607, "3GPP-SIP-Number-Auth-Items"),
    (10415, 608, "3GPP-SIP-Authentication-Scheme"),
    (10415, 609, "3GPP-SIP-Authenticate"),
    (10415, 610, "3GPP-SIP-Authorization"),
    (10415, 612, "3GPP-SIP-Auth-Data-Item"),
    (10415, 613, "3GPP-SIP-Item-Number"),
];

/// IANA enterprise number of 3GPP.
pub const VENDOR_3GPP: u32 = 10415;

macro_rules! avp_dictionary {
    ( $( $id:ident = ($code:literal, $vendor:literal, $name:literal, $ty:ident, $m:ident $(, $values:expr)? ); )* ) => {
        $(
            #[doc = concat!("`", $name, "` (code ", stringify!($code), ", vendor ", stringify!($vendor), ", ", stringify!($ty), ")")]
            pub static $id: AvpDef = AvpDef {
                code: $code,
                vendor: $vendor,
                name: $name,
                ty: DataType::$ty,
                m: Rule::$m,
                values: avp_dictionary!(@values $($values)?),
            };
        )*

        /// Every entry, in table order.
        pub static ALL: &[&AvpDef] = &[ $( &$id ),* ];

        /// The entry for (vendor, code); vendor 0 for IETF AVPs.
        #[inline]
        pub fn lookup(vendor: u32, code: u32) -> Option<&'static AvpDef> {
            match (vendor, code) {
                $( ($vendor, $code) => Some(&$id), )*
                _ => None,
            }
        }

        /// The entry named `name` (exact, case-sensitive, as the specifications spell it).
        pub fn by_name(name: &str) -> Option<&'static AvpDef> {
            match name {
                $( $name => Some(&$id), )*
                _ => None,
            }
        }
    };
    (@values) => { &[] };
    (@values $v:expr) => { $v };
}

/// Result-Code values (RFC 6733 §7.1, RFC 4004, RFC 5778, RFC 7155).
pub static RESULT_CODES: &[(u32, &str)] = &[
    (1001, "DIAMETER_MULTI_ROUND_AUTH"),
    (2001, "DIAMETER_SUCCESS"),
    (2002, "DIAMETER_LIMITED_SUCCESS"),
    (2009, "DIAMETER_SUCCESS_RELOCATE_HA"),
    (3001, "DIAMETER_COMMAND_UNSUPPORTED"),
    (3002, "DIAMETER_UNABLE_TO_DELIVER"),
    (3003, "DIAMETER_REALM_NOT_SERVED"),
    (3004, "DIAMETER_TOO_BUSY"),
    (3005, "DIAMETER_LOOP_DETECTED"),
    (3006, "DIAMETER_REDIRECT_INDICATION"),
    (3007, "DIAMETER_APPLICATION_UNSUPPORTED"),
    (3008, "DIAMETER_INVALID_HDR_BITS"),
    (3009, "DIAMETER_INVALID_AVP_BITS"),
    (3010, "DIAMETER_UNKNOWN_PEER"),
    (4001, "DIAMETER_AUTHENTICATION_REJECTED"),
    (4002, "DIAMETER_OUT_OF_SPACE"),
    (4003, "DIAMETER_ELECTION_LOST"),
    (4005, "DIAMETER_ERROR_MIP_REPLY_FAILURE"),
    (4006, "DIAMETER_ERROR_HA_NOT_AVAILABLE"),
    (4007, "DIAMETER_ERROR_BAD_KEY"),
    (4008, "DIAMETER_ERROR_MIP_FILTER_NOT_SUPPORTED"),
    (5001, "DIAMETER_AVP_UNSUPPORTED"),
    (5002, "DIAMETER_UNKNOWN_SESSION_ID"),
    (5003, "DIAMETER_AUTHORIZATION_REJECTED"),
    (5004, "DIAMETER_INVALID_AVP_VALUE"),
    (5005, "DIAMETER_MISSING_AVP"),
    (5006, "DIAMETER_RESOURCES_EXCEEDED"),
    (5007, "DIAMETER_CONTRADICTING_AVPS"),
    (5008, "DIAMETER_AVP_NOT_ALLOWED"),
    (5009, "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES"),
    (5010, "DIAMETER_NO_COMMON_APPLICATION"),
    (5011, "DIAMETER_UNSUPPORTED_VERSION"),
    (5012, "DIAMETER_UNABLE_TO_COMPLY"),
    (5013, "DIAMETER_INVALID_BIT_IN_HEADER"),
    (5014, "DIAMETER_INVALID_AVP_LENGTH"),
    (5015, "DIAMETER_INVALID_MESSAGE_LENGTH"),
    (5016, "DIAMETER_INVALID_AVP_BIT_COMBO"),
    (5017, "DIAMETER_NO_COMMON_SECURITY"),
    (5024, "DIAMETER_ERROR_NO_FOREIGN_HA_SERVICE"),
    (5025, "DIAMETER_ERROR_END_TO_END_MIP_KEY_ENCRYPTION"),
    (5041, "DIAMETER_ERROR_MIP6_AUTH_MODE"),
];

/// Experimental-Result-Code values of 3GPP (TS 29.229 §6.2, TS 29.272 §7.4, TS 29.273 §10).
pub static EXPERIMENTAL_RESULT_CODES: &[(u32, &str)] = &[
    (2001, "DIAMETER_FIRST_REGISTRATION"),
    (2002, "DIAMETER_SUBSEQUENT_REGISTRATION"),
    (2003, "DIAMETER_UNREGISTERED_SERVICE"),
    (2004, "DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED"),
    (4181, "DIAMETER_AUTHENTICATION_DATA_UNAVAILABLE"),
    (5001, "DIAMETER_ERROR_USER_UNKNOWN"),
    (5002, "DIAMETER_ERROR_IDENTITIES_DONT_MATCH"),
    (5003, "DIAMETER_ERROR_IDENTITY_NOT_REGISTERED"),
    (5004, "DIAMETER_ERROR_ROAMING_NOT_ALLOWED"),
    (5005, "DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED"),
    (5006, "DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED"),
    (5007, "DIAMETER_ERROR_IN_ASSIGNMENT_TYPE"),
    (5008, "DIAMETER_ERROR_TOO_MUCH_DATA"),
    (5009, "DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA"),
    (5011, "DIAMETER_ERROR_FEATURE_UNSUPPORTED"),
    (5420, "DIAMETER_ERROR_UNKNOWN_EPS_SUBSCRIPTION"),
    (5421, "DIAMETER_ERROR_RAT_NOT_ALLOWED"),
    (5450, "DIAMETER_ERROR_USER_NO_NON_3GPP_SUBSCRIPTION"),
    (5451, "DIAMETER_ERROR_USER_NO_APN_SUBSCRIPTION"),
    (5452, "DIAMETER_ERROR_RAT_TYPE_NOT_ALLOWED"),
    (5453, "DIAMETER_ERROR_LATE_OVERLAPPING_REQUEST"),
    (5454, "DIAMETER_ERROR_TIMED_OUT_REQUEST"),
];

static AUTH_REQUEST_TYPE: &[(u32, &str)] = &[
    (1, "AUTHENTICATE_ONLY"),
    (2, "AUTHORIZE_ONLY"),
    (3, "AUTHORIZE_AUTHENTICATE"),
];
static AUTH_SESSION_STATE: &[(u32, &str)] = &[(0, "STATE_MAINTAINED"), (1, "NO_STATE_MAINTAINED")];
static RE_AUTH_REQUEST_TYPE: &[(u32, &str)] =
    &[(0, "AUTHORIZE_ONLY"), (1, "AUTHORIZE_AUTHENTICATE")];
static DISCONNECT_CAUSE: &[(u32, &str)] = &[
    (0, "REBOOTING"),
    (1, "BUSY"),
    (2, "DO_NOT_WANT_TO_TALK_TO_YOU"),
];
static TERMINATION_CAUSE: &[(u32, &str)] = &[
    (1, "DIAMETER_LOGOUT"),
    (2, "DIAMETER_SERVICE_NOT_PROVIDED"),
    (3, "DIAMETER_BAD_ANSWER"),
    (4, "DIAMETER_ADMINISTRATIVE"),
    (5, "DIAMETER_LINK_BROKEN"),
    (6, "DIAMETER_AUTH_EXPIRED"),
    (7, "DIAMETER_USER_MOVED"),
    (8, "DIAMETER_SESSION_TIMEOUT"),
];
static REDIRECT_HOST_USAGE: &[(u32, &str)] = &[
    (0, "DONT_CACHE"),
    (1, "ALL_SESSION"),
    (2, "ALL_REALM"),
    (3, "REALM_AND_APPLICATION"),
    (4, "ALL_APPLICATION"),
    (5, "ALL_HOST"),
    (6, "ALL_USER"),
];
static SESSION_SERVER_FAILOVER: &[(u32, &str)] = &[
    (0, "REFUSE_SERVICE"),
    (1, "TRY_AGAIN"),
    (2, "ALLOW_SERVICE"),
    (3, "TRY_AGAIN_ALLOW_SERVICE"),
];
static ACCOUNTING_RECORD_TYPE: &[(u32, &str)] = &[
    (1, "EVENT_RECORD"),
    (2, "START_RECORD"),
    (3, "INTERIM_RECORD"),
    (4, "STOP_RECORD"),
];
static ACCOUNTING_REALTIME_REQUIRED: &[(u32, &str)] = &[
    (1, "DELIVER_AND_GRANT"),
    (2, "GRANT_AND_STORE"),
    (3, "GRANT_AND_LOSE"),
];
static INBAND_SECURITY_ID: &[(u32, &str)] = &[(0, "NO_INBAND_SECURITY"), (1, "TLS")];
static SUBSCRIPTION_ID_TYPE: &[(u32, &str)] = &[
    (0, "END_USER_E164"),
    (1, "END_USER_IMSI"),
    (2, "END_USER_SIP_URI"),
    (3, "END_USER_NAI"),
    (4, "END_USER_PRIVATE"),
];
static SERVICE_TYPE: &[(u32, &str)] = &[
    (1, "Login"),
    (2, "Framed"),
    (3, "Callback-Login"),
    (4, "Callback-Framed"),
    (5, "Outbound"),
    (6, "Administrative"),
    (7, "NAS-Prompt"),
    (8, "Authenticate-Only"),
    (9, "Callback-NAS-Prompt"),
];
static FRAMED_PROTOCOL: &[(u32, &str)] = &[
    (1, "PPP"),
    (2, "SLIP"),
    (3, "ARAP"),
    (4, "Gandalf"),
    (5, "Xylogics"),
    (6, "X.75"),
];
static FRAMED_ROUTING: &[(u32, &str)] = &[
    (0, "None"),
    (1, "Send"),
    (2, "Listen"),
    (3, "Send-and-Listen"),
];
static FRAMED_COMPRESSION: &[(u32, &str)] = &[
    (0, "None"),
    (1, "VJ-TCP-IP-header-compression"),
    (2, "IPX-header-compression"),
    (3, "Stac-LZS-compression"),
];
static NAS_PORT_TYPE: &[(u32, &str)] = &[
    (0, "Async"),
    (1, "Sync"),
    (5, "Virtual"),
    (15, "Ethernet"),
    (18, "Wireless-Other"),
    (19, "Wireless-IEEE-802.11"),
];
static ACCT_AUTHENTIC: &[(u32, &str)] =
    &[(1, "RADIUS"), (2, "Local"), (3, "Remote"), (4, "Diameter")];
static ACCOUNTING_AUTH_METHOD: &[(u32, &str)] = &[
    (1, "PAP"),
    (2, "CHAP"),
    (3, "MS-CHAP-1"),
    (4, "MS-CHAP-2"),
    (5, "EAP"),
    (7, "None"),
];
static ORIGIN_AAA_PROTOCOL: &[(u32, &str)] = &[(1, "RADIUS")];
static PROMPT: &[(u32, &str)] = &[(0, "No-Echo"), (1, "Echo")];
static CHAP_ALGORITHM: &[(u32, &str)] = &[(5, "CHAP-with-MD5")];
static TUNNEL_TYPE: &[(u32, &str)] = &[
    (1, "PPTP"),
    (2, "L2F"),
    (3, "L2TP"),
    (7, "IP-IP"),
    (9, "ESP"),
    (10, "GRE"),
];
static TUNNEL_MEDIUM_TYPE: &[(u32, &str)] = &[(1, "IPv4"), (2, "IPv6")];
static MIP6_AUTH_MODE: &[(u32, &str)] = &[(1, "MIP6_AUTH_MN_AAA")];
static KEY_TYPE: &[(u32, &str)] = &[(0, "DSRK"), (1, "rRK"), (2, "rMSK")];
static RAT_TYPE: &[(u32, &str)] = &[
    (0, "WLAN"),
    (1, "VIRTUAL"),
    (1000, "UTRAN"),
    (1001, "GERAN"),
    (1002, "GAN"),
    (1003, "HSPA_EVOLUTION"),
    (1004, "EUTRAN"),
    (1005, "EUTRAN-NB-IoT"),
    (2000, "CDMA2000_1X"),
    (2001, "HRPD"),
    (2002, "UMB"),
    (2003, "EHRPD"),
];
static PDN_TYPE: &[(u32, &str)] = &[(0, "IPv4"), (1, "IPv6"), (2, "IPv4v6"), (3, "IPv4_OR_IPv6")];
static PDN_GW_ALLOCATION_TYPE: &[(u32, &str)] = &[(0, "STATIC"), (1, "DYNAMIC")];
static VPLMN_DYNAMIC_ADDRESS_ALLOWED: &[(u32, &str)] = &[(0, "NOTALLOWED"), (1, "ALLOWED")];
static ALL_APN_CONFIGURATIONS_INCLUDED_INDICATOR: &[(u32, &str)] = &[
    (0, "All_APN_CONFIGURATIONS_INCLUDED"),
    (1, "MODIFIED_ADDED_APN_CONFIGURATIONS_INCLUDED"),
];
static QOS_CLASS_IDENTIFIER: &[(u32, &str)] = &[
    (1, "QCI_1"),
    (2, "QCI_2"),
    (3, "QCI_3"),
    (4, "QCI_4"),
    (5, "QCI_5"),
    (6, "QCI_6"),
    (7, "QCI_7"),
    (8, "QCI_8"),
    (9, "QCI_9"),
];
static PRE_EMPTION_CAPABILITY: &[(u32, &str)] = &[
    (0, "PRE-EMPTION_CAPABILITY_ENABLED"),
    (1, "PRE-EMPTION_CAPABILITY_DISABLED"),
];
static PRE_EMPTION_VULNERABILITY: &[(u32, &str)] = &[
    (0, "PRE-EMPTION_VULNERABILITY_ENABLED"),
    (1, "PRE-EMPTION_VULNERABILITY_DISABLED"),
];
static SERVER_ASSIGNMENT_TYPE: &[(u32, &str)] = &[
    (0, "NO_ASSIGNMENT"),
    (1, "REGISTRATION"),
    (2, "RE_REGISTRATION"),
    (3, "UNREGISTERED_USER"),
    (4, "TIMEOUT_DEREGISTRATION"),
    (5, "USER_DEREGISTRATION"),
    (6, "TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME"),
    (7, "USER_DEREGISTRATION_STORE_SERVER_NAME"),
    (8, "ADMINISTRATIVE_DEREGISTRATION"),
    (9, "AUTHENTICATION_FAILURE"),
    (10, "AUTHENTICATION_TIMEOUT"),
    (11, "DEREGISTRATION_TOO_MUCH_DATA"),
    (12, "AAA_USER_DATA_REQUEST"),
    (13, "PGW_UPDATE"),
    (14, "RESTORATION"),
];
static REASON_CODE: &[(u32, &str)] = &[
    (0, "PERMANENT_TERMINATION"),
    (1, "NEW_SERVER_ASSIGNED"),
    (2, "SERVER_CHANGE"),
    (3, "REMOVE_S-CSCF"),
];
static AN_TRUSTED: &[(u32, &str)] = &[(0, "TRUSTED"), (1, "UNTRUSTED")];
static NON_3GPP_IP_ACCESS: &[(u32, &str)] = &[
    (0, "NON_3GPP_SUBSCRIPTION_ALLOWED"),
    (1, "NON_3GPP_SUBSCRIPTION_BARRED"),
];
static NON_3GPP_IP_ACCESS_APN: &[(u32, &str)] =
    &[(0, "Non_3GPP_APNS_ENABLE"), (1, "Non_3GPP_APNS_DISABLE")];
static TRANSPORT_ACCESS_TYPE: &[(u32, &str)] = &[(0, "BBF")];

avp_dictionary! {
    // ---- RFC 6733 base protocol (and RADIUS attributes it reuses) ----
    USER_NAME = (1, 0, "User-Name", UTF8String, Must);
    CLASS = (25, 0, "Class", OctetString, Must);
    SESSION_TIMEOUT = (27, 0, "Session-Timeout", Unsigned32, Must);
    PROXY_STATE = (33, 0, "Proxy-State", OctetString, Must);
    ACCT_SESSION_ID = (44, 0, "Acct-Session-Id", OctetString, Must);
    ACCT_MULTI_SESSION_ID = (50, 0, "Acct-Multi-Session-Id", UTF8String, Must);
    EVENT_TIMESTAMP = (55, 0, "Event-Timestamp", Time, Must);
    ACCT_INTERIM_INTERVAL = (85, 0, "Acct-Interim-Interval", Unsigned32, Must);
    HOST_IP_ADDRESS = (257, 0, "Host-IP-Address", Address, Must);
    AUTH_APPLICATION_ID = (258, 0, "Auth-Application-Id", Unsigned32, Must);
    ACCT_APPLICATION_ID = (259, 0, "Acct-Application-Id", Unsigned32, Must);
    VENDOR_SPECIFIC_APPLICATION_ID = (260, 0, "Vendor-Specific-Application-Id", Grouped, Must);
    REDIRECT_HOST_USAGE_AVP = (261, 0, "Redirect-Host-Usage", Enumerated, Must, REDIRECT_HOST_USAGE);
    REDIRECT_MAX_CACHE_TIME = (262, 0, "Redirect-Max-Cache-Time", Unsigned32, Must);
    SESSION_ID = (263, 0, "Session-Id", UTF8String, Must);
    ORIGIN_HOST = (264, 0, "Origin-Host", DiameterIdentity, Must);
    SUPPORTED_VENDOR_ID = (265, 0, "Supported-Vendor-Id", Unsigned32, Must);
    VENDOR_ID = (266, 0, "Vendor-Id", Unsigned32, Must);
    FIRMWARE_REVISION = (267, 0, "Firmware-Revision", Unsigned32, MustNot);
    RESULT_CODE = (268, 0, "Result-Code", Unsigned32, Must, RESULT_CODES);
    PRODUCT_NAME = (269, 0, "Product-Name", UTF8String, MustNot);
    SESSION_BINDING = (270, 0, "Session-Binding", Unsigned32, Must);
    SESSION_SERVER_FAILOVER_AVP = (271, 0, "Session-Server-Failover", Enumerated, Must, SESSION_SERVER_FAILOVER);
    MULTI_ROUND_TIME_OUT = (272, 0, "Multi-Round-Time-Out", Unsigned32, Must);
    DISCONNECT_CAUSE_AVP = (273, 0, "Disconnect-Cause", Enumerated, Must, DISCONNECT_CAUSE);
    AUTH_REQUEST_TYPE_AVP = (274, 0, "Auth-Request-Type", Enumerated, Must, AUTH_REQUEST_TYPE);
    AUTH_GRACE_PERIOD = (276, 0, "Auth-Grace-Period", Unsigned32, Must);
    AUTH_SESSION_STATE_AVP = (277, 0, "Auth-Session-State", Enumerated, Must, AUTH_SESSION_STATE);
    ORIGIN_STATE_ID = (278, 0, "Origin-State-Id", Unsigned32, Must);
    FAILED_AVP = (279, 0, "Failed-AVP", Grouped, Must);
    PROXY_HOST = (280, 0, "Proxy-Host", DiameterIdentity, Must);
    ERROR_MESSAGE = (281, 0, "Error-Message", UTF8String, MustNot);
    ROUTE_RECORD = (282, 0, "Route-Record", DiameterIdentity, Must);
    DESTINATION_REALM = (283, 0, "Destination-Realm", DiameterIdentity, Must);
    PROXY_INFO = (284, 0, "Proxy-Info", Grouped, Must);
    RE_AUTH_REQUEST_TYPE_AVP = (285, 0, "Re-Auth-Request-Type", Enumerated, Must, RE_AUTH_REQUEST_TYPE);
    ACCOUNTING_SUB_SESSION_ID = (287, 0, "Accounting-Sub-Session-Id", Unsigned64, Must);
    AUTHORIZATION_LIFETIME = (291, 0, "Authorization-Lifetime", Unsigned32, Must);
    REDIRECT_HOST = (292, 0, "Redirect-Host", DiameterURI, Must);
    DESTINATION_HOST = (293, 0, "Destination-Host", DiameterIdentity, Must);
    ERROR_REPORTING_HOST = (294, 0, "Error-Reporting-Host", DiameterIdentity, MustNot);
    TERMINATION_CAUSE_AVP = (295, 0, "Termination-Cause", Enumerated, Must, TERMINATION_CAUSE);
    ORIGIN_REALM = (296, 0, "Origin-Realm", DiameterIdentity, Must);
    EXPERIMENTAL_RESULT = (297, 0, "Experimental-Result", Grouped, Must);
    EXPERIMENTAL_RESULT_CODE = (298, 0, "Experimental-Result-Code", Unsigned32, Must, EXPERIMENTAL_RESULT_CODES);
    INBAND_SECURITY_ID_AVP = (299, 0, "Inband-Security-Id", Unsigned32, Must, INBAND_SECURITY_ID);
    ACCOUNTING_RECORD_TYPE_AVP = (480, 0, "Accounting-Record-Type", Enumerated, Must, ACCOUNTING_RECORD_TYPE);
    ACCOUNTING_REALTIME_REQUIRED_AVP = (483, 0, "Accounting-Realtime-Required", Enumerated, Must, ACCOUNTING_REALTIME_REQUIRED);
    ACCOUNTING_RECORD_NUMBER = (485, 0, "Accounting-Record-Number", Unsigned32, Must);

    // ---- RFC 4006 (reused by 3GPP) ----
    SUBSCRIPTION_ID = (443, 0, "Subscription-Id", Grouped, Must);
    SUBSCRIPTION_ID_DATA = (444, 0, "Subscription-Id-Data", UTF8String, Must);
    SUBSCRIPTION_ID_TYPE_AVP = (450, 0, "Subscription-Id-Type", Enumerated, Must, SUBSCRIPTION_ID_TYPE);

    // ---- RFC 7155 NASREQ ----
    USER_PASSWORD = (2, 0, "User-Password", OctetString, Must);
    NAS_IP_ADDRESS = (4, 0, "NAS-IP-Address", OctetString, Must);
    NAS_PORT = (5, 0, "NAS-Port", Unsigned32, Must);
    SERVICE_TYPE_AVP = (6, 0, "Service-Type", Enumerated, Must, SERVICE_TYPE);
    FRAMED_PROTOCOL_AVP = (7, 0, "Framed-Protocol", Enumerated, Must, FRAMED_PROTOCOL);
    FRAMED_IP_ADDRESS = (8, 0, "Framed-IP-Address", OctetString, Must);
    FRAMED_IP_NETMASK = (9, 0, "Framed-IP-Netmask", OctetString, Must);
    FRAMED_ROUTING_AVP = (10, 0, "Framed-Routing", Enumerated, Must, FRAMED_ROUTING);
    FILTER_ID = (11, 0, "Filter-Id", UTF8String, Must);
    FRAMED_MTU = (12, 0, "Framed-MTU", Unsigned32, Must);
    FRAMED_COMPRESSION_AVP = (13, 0, "Framed-Compression", Enumerated, Must, FRAMED_COMPRESSION);
    LOGIN_IP_HOST = (14, 0, "Login-IP-Host", OctetString, Must);
    LOGIN_TCP_PORT = (16, 0, "Login-TCP-Port", Unsigned32, Must);
    REPLY_MESSAGE = (18, 0, "Reply-Message", UTF8String, Must);
    CALLBACK_NUMBER = (19, 0, "Callback-Number", UTF8String, Must);
    CALLBACK_ID = (20, 0, "Callback-Id", UTF8String, Must);
    FRAMED_ROUTE = (22, 0, "Framed-Route", UTF8String, Must);
    FRAMED_IPX_NETWORK = (23, 0, "Framed-IPX-Network", Unsigned32, Must);
    STATE = (24, 0, "State", OctetString, Must);
    IDLE_TIMEOUT = (28, 0, "Idle-Timeout", Unsigned32, Must);
    CALLED_STATION_ID = (30, 0, "Called-Station-Id", UTF8String, Must);
    CALLING_STATION_ID = (31, 0, "Calling-Station-Id", UTF8String, Must);
    NAS_IDENTIFIER = (32, 0, "NAS-Identifier", UTF8String, Must);
    ACCT_DELAY_TIME = (41, 0, "Acct-Delay-Time", Unsigned32, Must);
    ACCT_AUTHENTIC_AVP = (45, 0, "Acct-Authentic", Enumerated, Must, ACCT_AUTHENTIC);
    ACCT_SESSION_TIME = (46, 0, "Acct-Session-Time", Unsigned32, Must);
    ACCT_LINK_COUNT = (51, 0, "Acct-Link-Count", Unsigned32, Must);
    CHAP_CHALLENGE = (60, 0, "CHAP-Challenge", OctetString, Must);
    NAS_PORT_TYPE_AVP = (61, 0, "NAS-Port-Type", Enumerated, Must, NAS_PORT_TYPE);
    PORT_LIMIT = (62, 0, "Port-Limit", Unsigned32, Must);
    TUNNEL_TYPE_AVP = (64, 0, "Tunnel-Type", Enumerated, Must, TUNNEL_TYPE);
    TUNNEL_MEDIUM_TYPE_AVP = (65, 0, "Tunnel-Medium-Type", Enumerated, Must, TUNNEL_MEDIUM_TYPE);
    TUNNEL_CLIENT_ENDPOINT = (66, 0, "Tunnel-Client-Endpoint", UTF8String, Must);
    TUNNEL_SERVER_ENDPOINT = (67, 0, "Tunnel-Server-Endpoint", UTF8String, Must);
    ACCT_TUNNEL_CONNECTION = (68, 0, "Acct-Tunnel-Connection", OctetString, Must);
    TUNNEL_PASSWORD = (69, 0, "Tunnel-Password", OctetString, Must);
    PASSWORD_RETRY = (75, 0, "Password-Retry", Unsigned32, Must);
    PROMPT_AVP = (76, 0, "Prompt", Enumerated, Must, PROMPT);
    CONNECT_INFO = (77, 0, "Connect-Info", UTF8String, Must);
    CONFIGURATION_TOKEN = (78, 0, "Configuration-Token", OctetString, Must);
    TUNNEL_PRIVATE_GROUP_ID = (81, 0, "Tunnel-Private-Group-Id", OctetString, Must);
    TUNNEL_ASSIGNMENT_ID = (82, 0, "Tunnel-Assignment-Id", OctetString, Must);
    TUNNEL_PREFERENCE = (83, 0, "Tunnel-Preference", Unsigned32, Must);
    ACCT_TUNNEL_PACKETS_LOST = (86, 0, "Acct-Tunnel-Packets-Lost", Unsigned32, Must);
    NAS_PORT_ID = (87, 0, "NAS-Port-Id", UTF8String, Must);
    FRAMED_POOL = (88, 0, "Framed-Pool", OctetString, Must);
    TUNNEL_CLIENT_AUTH_ID = (90, 0, "Tunnel-Client-Auth-Id", UTF8String, Must);
    TUNNEL_SERVER_AUTH_ID = (91, 0, "Tunnel-Server-Auth-Id", UTF8String, Must);
    ORIGINATING_LINE_INFO = (94, 0, "Originating-Line-Info", OctetString, May);
    NAS_IPV6_ADDRESS = (95, 0, "NAS-IPv6-Address", OctetString, Must);
    FRAMED_INTERFACE_ID = (96, 0, "Framed-Interface-Id", Unsigned64, Must);
    FRAMED_IPV6_PREFIX = (97, 0, "Framed-IPv6-Prefix", OctetString, Must);
    LOGIN_IPV6_HOST = (98, 0, "Login-IPv6-Host", OctetString, Must);
    FRAMED_IPV6_ROUTE = (99, 0, "Framed-IPv6-Route", UTF8String, Must);
    FRAMED_IPV6_POOL = (100, 0, "Framed-IPv6-Pool", OctetString, Must);
    ACCOUNTING_INPUT_OCTETS = (363, 0, "Accounting-Input-Octets", Unsigned64, Must);
    ACCOUNTING_OUTPUT_OCTETS = (364, 0, "Accounting-Output-Octets", Unsigned64, Must);
    ACCOUNTING_INPUT_PACKETS = (365, 0, "Accounting-Input-Packets", Unsigned64, Must);
    ACCOUNTING_OUTPUT_PACKETS = (366, 0, "Accounting-Output-Packets", Unsigned64, Must);
    NAS_FILTER_RULE = (400, 0, "NAS-Filter-Rule", IPFilterRule, Must);
    TUNNELING = (401, 0, "Tunneling", Grouped, Must);
    CHAP_AUTH = (402, 0, "CHAP-Auth", Grouped, Must);
    CHAP_ALGORITHM_AVP = (403, 0, "CHAP-Algorithm", Enumerated, Must, CHAP_ALGORITHM);
    CHAP_IDENT = (404, 0, "CHAP-Ident", OctetString, Must);
    CHAP_RESPONSE = (405, 0, "CHAP-Response", OctetString, Must);
    ACCOUNTING_AUTH_METHOD_AVP = (406, 0, "Accounting-Auth-Method", Enumerated, Must, ACCOUNTING_AUTH_METHOD);
    QOS_FILTER_RULE = (407, 0, "QoS-Filter-Rule", QoSFilterRule, MustNot);
    ORIGIN_AAA_PROTOCOL_AVP = (408, 0, "Origin-AAA-Protocol", Enumerated, Must, ORIGIN_AAA_PROTOCOL);

    // ---- RFC 4072 EAP application ----
    EAP_KEY_NAME = (102, 0, "EAP-Key-Name", OctetString, Must);
    EAP_PAYLOAD = (462, 0, "EAP-Payload", OctetString, Must);
    EAP_REISSUED_PAYLOAD = (463, 0, "EAP-Reissued-Payload", OctetString, Must);
    EAP_MASTER_SESSION_KEY = (464, 0, "EAP-Master-Session-Key", OctetString, Must);
    ACCOUNTING_EAP_AUTH_METHOD = (465, 0, "Accounting-EAP-Auth-Method", Unsigned64, Must);

    // ---- Mobile IP: RFC 4004, RFC 5447, RFC 5778 ----
    MIP6_FEATURE_VECTOR = (124, 0, "MIP6-Feature-Vector", Unsigned64, Must);
    MIP6_HOME_LINK_PREFIX = (125, 0, "MIP6-Home-Link-Prefix", OctetString, Must);
    MIP_MOBILE_NODE_ADDRESS = (333, 0, "MIP-Mobile-Node-Address", Address, Must);
    MIP_HOME_AGENT_ADDRESS = (334, 0, "MIP-Home-Agent-Address", Address, Must);
    MIP_HOME_AGENT_HOST = (348, 0, "MIP-Home-Agent-Host", Grouped, Must);
    MIP_MSA_LIFETIME = (367, 0, "MIP-MSA-Lifetime", Unsigned32, Must);
    MIP6_AGENT_INFO = (486, 0, "MIP6-Agent-Info", Grouped, Must);
    MIP_CAREOF_ADDRESS = (487, 0, "MIP-Careof-Address", Address, Must);
    MIP_AUTHENTICATOR = (488, 0, "MIP-Authenticator", OctetString, Must);
    MIP_MAC_MOBILITY_DATA = (489, 0, "MIP-MAC-Mobility-Data", OctetString, Must);
    MIP_TIMESTAMP = (490, 0, "MIP-Timestamp", OctetString, Must);
    MIP_MN_HA_SPI = (491, 0, "MIP-MN-HA-SPI", Unsigned32, Must);
    MIP_MN_HA_MSA = (492, 0, "MIP-MN-HA-MSA", Grouped, Must);
    SERVICE_SELECTION = (493, 0, "Service-Selection", UTF8String, Must);
    MIP6_AUTH_MODE_AVP = (494, 0, "MIP6-Auth-Mode", Enumerated, Must, MIP6_AUTH_MODE);

    // ---- RFC 5779 PMIPv6 AAA ----
    PMIP6_DHCP_SERVER_ADDRESS = (504, 0, "PMIP6-DHCP-Server-Address", Address, Must);
    PMIP6_IPV4_HOME_ADDRESS = (505, 0, "PMIP6-IPv4-Home-Address", Address, Must);
    MOBILE_NODE_IDENTIFIER = (506, 0, "Mobile-Node-Identifier", UTF8String, Must);
    SERVICE_CONFIGURATION = (507, 0, "Service-Configuration", Grouped, Must);

    // ---- RFC 6734 keys, RFC 6942 ERP: M and V bits cleared ----
    KEY = (581, 0, "Key", Grouped, MustNot);
    KEY_TYPE_AVP = (582, 0, "Key-Type", Enumerated, MustNot, KEY_TYPE);
    KEYING_MATERIAL = (583, 0, "Keying-Material", OctetString, MustNot);
    KEY_LIFETIME = (584, 0, "Key-Lifetime", Unsigned32, MustNot);
    KEY_SPI = (585, 0, "Key-SPI", Unsigned32, MustNot);
    KEY_NAME = (586, 0, "Key-Name", OctetString, MustNot);
    ERP_RK_REQUEST = (618, 0, "ERP-RK-Request", Grouped, MustNot);
    ERP_REALM = (619, 0, "ERP-Realm", DiameterIdentity, MustNot);

    // ---- 3GPP (vendor 10415) ----
    TGPP_CHARGING_CHARACTERISTICS = (13, 10415, "3GPP-Charging-Characteristics", UTF8String, Must);
    TGPP_AAA_SERVER_NAME = (318, 10415, "3GPP-AAA-Server-Name", DiameterIdentity, Must);
    MAX_REQUESTED_BANDWIDTH_DL = (515, 10415, "Max-Requested-Bandwidth-DL", Unsigned32, Must);
    MAX_REQUESTED_BANDWIDTH_UL = (516, 10415, "Max-Requested-Bandwidth-UL", Unsigned32, Must);
    VISITED_NETWORK_IDENTIFIER = (600, 10415, "Visited-Network-Identifier", OctetString, Must);
    SIP_NUMBER_AUTH_ITEMS = (607, 10415, "SIP-Number-Auth-Items", Unsigned32, Must);
    SIP_AUTHENTICATION_SCHEME = (608, 10415, "SIP-Authentication-Scheme", UTF8String, Must);
    SIP_AUTHENTICATE = (609, 10415, "SIP-Authenticate", OctetString, Must);
    SIP_AUTHORIZATION = (610, 10415, "SIP-Authorization", OctetString, Must);
    SIP_AUTHENTICATION_CONTEXT = (611, 10415, "SIP-Authentication-Context", OctetString, Must);
    SIP_AUTH_DATA_ITEM = (612, 10415, "SIP-Auth-Data-Item", Grouped, Must);
    SIP_ITEM_NUMBER = (613, 10415, "SIP-Item-Number", Unsigned32, Must);
    SERVER_ASSIGNMENT_TYPE_AVP = (614, 10415, "Server-Assignment-Type", Enumerated, Must, SERVER_ASSIGNMENT_TYPE);
    DEREGISTRATION_REASON = (615, 10415, "Deregistration-Reason", Grouped, Must);
    REASON_CODE_AVP = (616, 10415, "Reason-Code", Enumerated, Must, REASON_CODE);
    REASON_INFO = (617, 10415, "Reason-Info", UTF8String, Must);
    CONFIDENTIALITY_KEY = (625, 10415, "Confidentiality-Key", OctetString, Must);
    INTEGRITY_KEY = (626, 10415, "Integrity-Key", OctetString, Must);
    SUPPORTED_FEATURES = (628, 10415, "Supported-Features", Grouped, May);
    FEATURE_LIST_ID = (629, 10415, "Feature-List-ID", Unsigned32, May);
    FEATURE_LIST = (630, 10415, "Feature-List", Unsigned32, May);
    SUPPORTED_APPLICATIONS = (631, 10415, "Supported-Applications", Grouped, May);
    MSISDN = (701, 10415, "MSISDN", OctetString, Must);
    CG_ADDRESS = (846, 10415, "CG-Address", Address, Must);
    SERVED_PARTY_IP_ADDRESS = (848, 10415, "Served-Party-IP-Address", Address, Must);
    QOS_CLASS_IDENTIFIER_AVP = (1028, 10415, "QoS-Class-Identifier", Enumerated, Must, QOS_CLASS_IDENTIFIER);
    RAT_TYPE_AVP = (1032, 10415, "RAT-Type", Enumerated, MustNot, RAT_TYPE);
    ALLOCATION_RETENTION_PRIORITY = (1034, 10415, "Allocation-Retention-Priority", Grouped, Must);
    PRIORITY_LEVEL = (1046, 10415, "Priority-Level", Unsigned32, Must);
    PRE_EMPTION_CAPABILITY_AVP = (1047, 10415, "Pre-emption-Capability", Enumerated, Must, PRE_EMPTION_CAPABILITY);
    PRE_EMPTION_VULNERABILITY_AVP = (1048, 10415, "Pre-emption-Vulnerability", Enumerated, Must, PRE_EMPTION_VULNERABILITY);
    SUBSCRIPTION_DATA = (1400, 10415, "Subscription-Data", Grouped, Must);
    TERMINAL_INFORMATION = (1401, 10415, "Terminal-Information", Grouped, Must);
    IMEI = (1402, 10415, "IMEI", UTF8String, Must);
    SOFTWARE_VERSION = (1403, 10415, "Software-Version", UTF8String, Must);
    CONTEXT_IDENTIFIER = (1423, 10415, "Context-Identifier", Unsigned32, Must);
    APN_OI_REPLACEMENT = (1427, 10415, "APN-OI-Replacement", UTF8String, Must);
    ALL_APN_CONFIGURATIONS_INCLUDED_INDICATOR_AVP = (1428, 10415, "All-APN-Configurations-Included-Indicator", Enumerated, Must, ALL_APN_CONFIGURATIONS_INCLUDED_INDICATOR);
    APN_CONFIGURATION_PROFILE = (1429, 10415, "APN-Configuration-Profile", Grouped, Must);
    APN_CONFIGURATION = (1430, 10415, "APN-Configuration", Grouped, Must);
    EPS_SUBSCRIBED_QOS_PROFILE = (1431, 10415, "EPS-Subscribed-QoS-Profile", Grouped, Must);
    VPLMN_DYNAMIC_ADDRESS_ALLOWED_AVP = (1432, 10415, "VPLMN-Dynamic-Address-Allowed", Enumerated, Must, VPLMN_DYNAMIC_ADDRESS_ALLOWED);
    AMBR = (1435, 10415, "AMBR", Grouped, Must);
    PDN_GW_ALLOCATION_TYPE_AVP = (1438, 10415, "PDN-GW-Allocation-Type", Enumerated, Must, PDN_GW_ALLOCATION_TYPE);
    PDN_TYPE_AVP = (1456, 10415, "PDN-Type", Enumerated, Must, PDN_TYPE);
    TRACE_REFERENCE = (1459, 10415, "Trace-Reference", OctetString, Must);
    TGPP2_MEID = (1471, 10415, "3GPP2-MEID", OctetString, Must);
    SPECIFIC_APN_INFO = (1472, 10415, "Specific-APN-Info", Grouped, Must);
    NON_3GPP_USER_DATA = (1500, 10415, "Non-3GPP-User-Data", Grouped, Must);
    NON_3GPP_IP_ACCESS_AVP = (1501, 10415, "Non-3GPP-IP-Access", Enumerated, Must, NON_3GPP_IP_ACCESS);
    NON_3GPP_IP_ACCESS_APN_AVP = (1502, 10415, "Non-3GPP-IP-Access-APN", Enumerated, Must, NON_3GPP_IP_ACCESS_APN);
    AN_TRUSTED_AVP = (1503, 10415, "AN-Trusted", Enumerated, MustNot, AN_TRUSTED);
    ANID = (1504, 10415, "ANID", UTF8String, Must);
    TRACE_INFO = (1505, 10415, "Trace-Info", Grouped, MustNot);
    MIP_FA_RK = (1506, 10415, "MIP-FA-RK", OctetString, Must);
    MIP_FA_RK_SPI = (1507, 10415, "MIP-FA-RK-SPI", Unsigned32, Must);
    PPR_FLAGS = (1508, 10415, "PPR-Flags", Unsigned32, MustNot);
    ACCESS_AUTHORIZATION_FLAGS = (1511, 10415, "Access-Authorization-Flags", Unsigned32, MustNot);
    TWAN_DEFAULT_APN_CONTEXT_ID = (1512, 10415, "TWAN-Default-APN-Context-Id", Unsigned32, MustNot);
    FULL_NETWORK_NAME = (1516, 10415, "Full-Network-Name", OctetString, MustNot);
    SHORT_NETWORK_NAME = (1517, 10415, "Short-Network-Name", OctetString, MustNot);
    AAA_FAILURE_INDICATION = (1518, 10415, "AAA-Failure-Indication", Unsigned32, MustNot);
    TRANSPORT_ACCESS_TYPE_AVP = (1519, 10415, "Transport-Access-Type", Enumerated, MustNot, TRANSPORT_ACCESS_TYPE);
    DER_FLAGS = (1520, 10415, "DER-Flags", Unsigned32, MustNot);
    DEA_FLAGS = (1521, 10415, "DEA-Flags", Unsigned32, MustNot);
    RAR_FLAGS = (1522, 10415, "RAR-Flags", Unsigned32, MustNot);
    DER_S6B_FLAGS = (1523, 10415, "DER-S6b-Flags", Unsigned32, MustNot);
    EMERGENCY_SERVICES = (1538, 10415, "Emergency-Services", Unsigned32, MustNot);
    AAR_FLAGS = (1539, 10415, "AAR-Flags", Unsigned32, MustNot);
    UE_LOCAL_IP_ADDRESS = (2805, 10415, "UE-Local-IP-Address", Address, May);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn lookups_agree_with_the_table() {
        let mut keys = HashSet::new();
        let mut names = HashSet::new();
        for d in ALL {
            assert!(keys.insert((d.vendor, d.code)), "duplicate {} ", d.name);
            assert!(names.insert(d.name), "duplicate name {}", d.name);
            assert_eq!(lookup(d.vendor, d.code).map(|x| x.name), Some(d.name));
            assert_eq!(
                by_name(d.name).map(|x| (x.vendor, x.code)),
                Some((d.vendor, d.code))
            );
            if !d.values.is_empty() {
                assert!(
                    matches!(d.ty, DataType::Enumerated | DataType::Unsigned32),
                    "{} has value names but type {:?}",
                    d.name,
                    d.ty
                );
            }
        }
        assert_eq!(lookup(0, 263).unwrap().name, "Session-Id");
        assert_eq!(lookup(VENDOR_3GPP, 1430).unwrap().ty, DataType::Grouped);
        assert!(lookup(VENDOR_3GPP, 263).is_none());
        assert!(by_name("session-id").is_none());
        assert_eq!(RESULT_CODE.value_name(2001), Some("DIAMETER_SUCCESS"));
        assert_eq!(
            EXPERIMENTAL_RESULT_CODE.value_name(5451),
            Some("DIAMETER_ERROR_USER_NO_APN_SUBSCRIPTION")
        );
        assert_eq!(SESSION_ID.flags(), 0x40);
        assert_eq!(RAT_TYPE_AVP.flags(), 0x80);
        assert_eq!(APN_CONFIGURATION.flags(), 0xc0);
        assert_eq!(KEY.flags(), 0);
    }
}
