//! The RADIUS attribute dictionary: names and data types from RFC 2865, 2866, 2867, 2868,
//! 2869, 3162, 3579, 4072, 4372, 4675, 4818, 5176 and 6911, and the Microsoft vendor
//! attributes of RFC 2548 that EAP servers send.

enum_with_unknown! {
    /// RADIUS attribute types (IANA "RADIUS Attribute Types").
    pub enum AttrType(u8) {
        UserName = 1 => "User-Name",
        UserPassword = 2 => "User-Password",
        ChapPassword = 3 => "CHAP-Password",
        NasIpAddress = 4 => "NAS-IP-Address",
        NasPort = 5 => "NAS-Port",
        ServiceType = 6 => "Service-Type",
        FramedProtocol = 7 => "Framed-Protocol",
        FramedIpAddress = 8 => "Framed-IP-Address",
        FramedIpNetmask = 9 => "Framed-IP-Netmask",
        FramedRouting = 10 => "Framed-Routing",
        FilterId = 11 => "Filter-Id",
        FramedMtu = 12 => "Framed-MTU",
        FramedCompression = 13 => "Framed-Compression",
        LoginIpHost = 14 => "Login-IP-Host",
        LoginService = 15 => "Login-Service",
        LoginTcpPort = 16 => "Login-TCP-Port",
        ReplyMessage = 18 => "Reply-Message",
        CallbackNumber = 19 => "Callback-Number",
        CallbackId = 20 => "Callback-Id",
        FramedRoute = 22 => "Framed-Route",
        FramedIpxNetwork = 23 => "Framed-IPX-Network",
        State = 24 => "State",
        Class = 25 => "Class",
        VendorSpecific = 26 => "Vendor-Specific",
        SessionTimeout = 27 => "Session-Timeout",
        IdleTimeout = 28 => "Idle-Timeout",
        TerminationAction = 29 => "Termination-Action",
        CalledStationId = 30 => "Called-Station-Id",
        CallingStationId = 31 => "Calling-Station-Id",
        NasIdentifier = 32 => "NAS-Identifier",
        ProxyState = 33 => "Proxy-State",
        LoginLatService = 34 => "Login-LAT-Service",
        LoginLatNode = 35 => "Login-LAT-Node",
        LoginLatGroup = 36 => "Login-LAT-Group",
        FramedAppleTalkLink = 37 => "Framed-AppleTalk-Link",
        FramedAppleTalkNetwork = 38 => "Framed-AppleTalk-Network",
        FramedAppleTalkZone = 39 => "Framed-AppleTalk-Zone",
        AcctStatusType = 40 => "Acct-Status-Type",
        AcctDelayTime = 41 => "Acct-Delay-Time",
        AcctInputOctets = 42 => "Acct-Input-Octets",
        AcctOutputOctets = 43 => "Acct-Output-Octets",
        AcctSessionId = 44 => "Acct-Session-Id",
        AcctAuthentic = 45 => "Acct-Authentic",
        AcctSessionTime = 46 => "Acct-Session-Time",
        AcctInputPackets = 47 => "Acct-Input-Packets",
        AcctOutputPackets = 48 => "Acct-Output-Packets",
        AcctTerminateCause = 49 => "Acct-Terminate-Cause",
        AcctMultiSessionId = 50 => "Acct-Multi-Session-Id",
        AcctLinkCount = 51 => "Acct-Link-Count",
        AcctInputGigawords = 52 => "Acct-Input-Gigawords",
        AcctOutputGigawords = 53 => "Acct-Output-Gigawords",
        EventTimestamp = 55 => "Event-Timestamp",
        EgressVlanid = 56 => "Egress-VLANID",
        IngressFilters = 57 => "Ingress-Filters",
        EgressVlanName = 58 => "Egress-VLAN-Name",
        UserPriorityTable = 59 => "User-Priority-Table",
        ChapChallenge = 60 => "CHAP-Challenge",
        NasPortType = 61 => "NAS-Port-Type",
        PortLimit = 62 => "Port-Limit",
        LoginLatPort = 63 => "Login-LAT-Port",
        TunnelType = 64 => "Tunnel-Type",
        TunnelMediumType = 65 => "Tunnel-Medium-Type",
        TunnelClientEndpoint = 66 => "Tunnel-Client-Endpoint",
        TunnelServerEndpoint = 67 => "Tunnel-Server-Endpoint",
        AcctTunnelConnection = 68 => "Acct-Tunnel-Connection",
        TunnelPassword = 69 => "Tunnel-Password",
        ArapPassword = 70 => "ARAP-Password",
        ArapFeatures = 71 => "ARAP-Features",
        ArapZoneAccess = 72 => "ARAP-Zone-Access",
        ArapSecurity = 73 => "ARAP-Security",
        ArapSecurityData = 74 => "ARAP-Security-Data",
        PasswordRetry = 75 => "Password-Retry",
        Prompt = 76 => "Prompt",
        ConnectInfo = 77 => "Connect-Info",
        ConfigurationToken = 78 => "Configuration-Token",
        EapMessage = 79 => "EAP-Message",
        MessageAuthenticator = 80 => "Message-Authenticator",
        TunnelPrivateGroupId = 81 => "Tunnel-Private-Group-Id",
        TunnelAssignmentId = 82 => "Tunnel-Assignment-Id",
        TunnelPreference = 83 => "Tunnel-Preference",
        ArapChallengeResponse = 84 => "ARAP-Challenge-Response",
        AcctInterimInterval = 85 => "Acct-Interim-Interval",
        AcctTunnelPacketsLost = 86 => "Acct-Tunnel-Packets-Lost",
        NasPortId = 87 => "NAS-Port-Id",
        FramedPool = 88 => "Framed-Pool",
        ChargeableUserIdentity = 89 => "Chargeable-User-Identity",
        TunnelClientAuthId = 90 => "Tunnel-Client-Auth-Id",
        TunnelServerAuthId = 91 => "Tunnel-Server-Auth-Id",
        NasIpv6Address = 95 => "NAS-IPv6-Address",
        FramedInterfaceId = 96 => "Framed-Interface-Id",
        FramedIpv6Prefix = 97 => "Framed-IPv6-Prefix",
        LoginIpv6Host = 98 => "Login-IPv6-Host",
        FramedIpv6Route = 99 => "Framed-IPv6-Route",
        FramedIpv6Pool = 100 => "Framed-IPv6-Pool",
        ErrorCause = 101 => "Error-Cause",
        EapKeyName = 102 => "EAP-Key-Name",
        DelegatedIpv6Prefix = 123 => "Delegated-IPv6-Prefix",
        FramedIpv6Address = 168 => "Framed-IPv6-Address",
    }
}

/// How an attribute's value is encoded (the dictionary "type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// UTF-8 text (RFC 8044 "text").
    Text,
    /// Opaque bytes (RFC 8044 "string").
    Octets,
    /// 32-bit unsigned integer or enumeration.
    Integer,
    /// 32-bit seconds since 1970 (Event-Timestamp).
    Time,
    Ipv4,
    Ipv6,
    /// Reserved byte, prefix length, prefix (RFC 3162 §2.3).
    Ipv6Prefix,
    /// 8-byte interface identifier.
    InterfaceId,
    /// Vendor-Id + vendor data (RFC 2865 §5.26).
    Vendor,
    /// Hidden with the shared secret (User-Password, RFC 2865 §5.2): opaque here.
    Hidden,
    /// Tunnel attributes with a leading Tag byte (RFC 2868): kept opaque.
    Tagged,
}

/// The data type of attribute `t` (unknown attributes are `Octets`).
pub fn data_type(t: u8) -> DataType {
    use DataType::*;
    match t {
        1 | 11 | 18 | 19 | 20 | 22 | 30 | 31 | 32 | 34 | 35 | 39 | 44 | 50 | 58 | 63 | 68 | 74
        | 77 | 78 | 87 | 88 | 89 | 99 | 100 | 102 => Text,
        5 | 6 | 7 | 10 | 12 | 13 | 15 | 16 | 27 | 28 | 29 | 37 | 38 | 40 | 41 | 42 | 43 | 45
        | 46 | 47 | 48 | 49 | 51 | 52 | 53 | 56 | 57 | 61 | 62 | 72 | 73 | 75 | 76 | 85 | 86
        | 101 => Integer,
        55 => Time,
        4 | 8 | 9 | 14 | 23 => Ipv4,
        95 | 98 | 168 => Ipv6,
        97 | 123 => Ipv6Prefix,
        96 => InterfaceId,
        26 => Vendor,
        2 => Hidden,
        64 | 65 | 66 | 67 | 69 | 81 | 82 | 83 | 90 | 91 => Tagged,
        _ => Octets,
    }
}

enum_with_unknown! {
    /// Service-Type values (RFC 2865 §5.6), the common ones.
    pub enum ServiceType(u32) {
        Login = 1 => "Login",
        Framed = 2 => "Framed",
        CallbackLogin = 3 => "Callback-Login",
        CallbackFramed = 4 => "Callback-Framed",
        Outbound = 5 => "Outbound",
        Administrative = 6 => "Administrative",
        NasPrompt = 7 => "NAS-Prompt",
        AuthenticateOnly = 8 => "Authenticate-Only",
        CallbackNasPrompt = 9 => "Callback-NAS-Prompt",
        CallCheck = 10 => "Call-Check",
        CallbackAdministrative = 11 => "Callback-Administrative",
        AuthorizeOnly = 17 => "Authorize-Only",
    }
}

enum_with_unknown! {
    /// Acct-Status-Type values (RFC 2866 §5.1, RFC 2867).
    pub enum AcctStatusType(u32) {
        Start = 1 => "Start",
        Stop = 2 => "Stop",
        InterimUpdate = 3 => "Interim-Update",
        AccountingOn = 7 => "Accounting-On",
        AccountingOff = 8 => "Accounting-Off",
        Failed = 15 => "Failed",
    }
}

enum_with_unknown! {
    /// Error-Cause values (RFC 5176 §3.6).
    pub enum ErrorCause(u32) {
        ResidualSessionContextRemoved = 201 => "Residual Session Context Removed",
        InvalidEapPacket = 202 => "Invalid EAP Packet (Ignored)",
        UnsupportedAttribute = 401 => "Unsupported Attribute",
        MissingAttribute = 402 => "Missing Attribute",
        NasIdentificationMismatch = 403 => "NAS Identification Mismatch",
        InvalidRequest = 404 => "Invalid Request",
        UnsupportedService = 405 => "Unsupported Service",
        UnsupportedExtension = 406 => "Unsupported Extension",
        InvalidAttributeValue = 407 => "Invalid Attribute Value",
        AdministrativelyProhibited = 501 => "Administratively Prohibited",
        RequestNotRoutable = 502 => "Request Not Routable (Proxy)",
        SessionContextNotFound = 503 => "Session Context Not Found",
        SessionContextNotRemovable = 504 => "Session Context Not Removable",
        OtherProxyProcessingError = 505 => "Other Proxy Processing Error",
        ResourcesUnavailable = 506 => "Resources Unavailable",
        RequestInitiated = 507 => "Request Initiated",
        MultipleSessionSelectionUnsupported = 508 => "Multiple Session Selection Unsupported",
    }
}

/// Microsoft's Vendor-Id (SMI enterprise number).
pub const VENDOR_MICROSOFT: u32 = 311;

enum_with_unknown! {
    /// Microsoft vendor attributes (RFC 2548).
    pub enum MsAttrType(u8) {
        ChapResponse = 1 => "MS-CHAP-Response",
        ChapError = 2 => "MS-CHAP-Error",
        ChapCpw1 = 3 => "MS-CHAP-CPW-1",
        ChapCpw2 = 4 => "MS-CHAP-CPW-2",
        ChapLmEncPw = 5 => "MS-CHAP-LM-Enc-PW",
        ChapNtEncPw = 6 => "MS-CHAP-NT-Enc-PW",
        MppeEncryptionPolicy = 7 => "MS-MPPE-Encryption-Policy",
        MppeEncryptionTypes = 8 => "MS-MPPE-Encryption-Types",
        RasVendor = 9 => "MS-RAS-Vendor",
        ChapDomain = 10 => "MS-CHAP-Domain",
        ChapChallenge = 11 => "MS-CHAP-Challenge",
        ChapMppeKeys = 12 => "MS-CHAP-MPPE-Keys",
        BapUsage = 13 => "MS-BAP-Usage",
        LinkUtilizationThreshold = 14 => "MS-Link-Utilization-Threshold",
        LinkDropTimeLimit = 15 => "MS-Link-Drop-Time-Limit",
        MppeSendKey = 16 => "MS-MPPE-Send-Key",
        MppeRecvKey = 17 => "MS-MPPE-Recv-Key",
        RasVersion = 18 => "MS-RAS-Version",
        OldArapPassword = 19 => "MS-Old-ARAP-Password",
        NewArapPassword = 20 => "MS-New-ARAP-Password",
        ArapPasswordChangeReason = 21 => "MS-ARAP-PW-Change-Reason",
        FilterValue = 22 => "MS-Filter",
        AcctAuthType = 23 => "MS-Acct-Auth-Type",
        AcctEapType = 24 => "MS-Acct-EAP-Type",
        Chap2Response = 25 => "MS-CHAP2-Response",
        Chap2Success = 26 => "MS-CHAP2-Success",
        Chap2Cpw = 27 => "MS-CHAP2-CPW",
        PrimaryDnsServer = 28 => "MS-Primary-DNS-Server",
        SecondaryDnsServer = 29 => "MS-Secondary-DNS-Server",
        PrimaryNbnsServer = 30 => "MS-Primary-NBNS-Server",
        SecondaryNbnsServer = 31 => "MS-Secondary-NBNS-Server",
    }
}
