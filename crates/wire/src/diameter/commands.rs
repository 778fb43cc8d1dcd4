//! Command codes and application identifiers.

/// One command: its code, its name (RFC/TS spelling) and the request/answer abbreviations.
#[derive(Debug, PartialEq, Eq)]
pub struct CommandDef {
    pub code: u32,
    pub name: &'static str,
    pub request: &'static str,
    pub answer: &'static str,
    /// Whether requests are proxiable (the P bit the builder sets).
    pub proxiable: bool,
}

macro_rules! commands {
    ( $( $id:ident = ($code:literal, $name:literal, $req:literal, $ans:literal, $p:literal); )* ) => {
        $(
            #[doc = concat!($req, "/", $ans, ": ", $name, " (", stringify!($code), ")")]
            pub const $id: u32 = $code;
        )*
        /// Every command the dictionary knows.
        pub static ALL: &[CommandDef] = &[
            $( CommandDef { code: $code, name: $name, request: $req, answer: $ans, proxiable: $p }, )*
        ];
    };
}

commands! {
    CAPABILITIES_EXCHANGE = (257, "Capabilities-Exchange", "CER", "CEA", false);
    RE_AUTH = (258, "Re-Auth", "RAR", "RAA", true);
    AA = (265, "AA", "AAR", "AAA", true);
    DIAMETER_EAP = (268, "Diameter-EAP", "DER", "DEA", true);
    ACCOUNTING = (271, "Accounting", "ACR", "ACA", true);
    ABORT_SESSION = (274, "Abort-Session", "ASR", "ASA", true);
    SESSION_TERMINATION = (275, "Session-Termination", "STR", "STA", true);
    DEVICE_WATCHDOG = (280, "Device-Watchdog", "DWR", "DWA", false);
    DISCONNECT_PEER = (282, "Disconnect-Peer", "DPR", "DPA", false);
    USER_AUTHORIZATION = (300, "User-Authorization", "UAR", "UAA", true);
    SERVER_ASSIGNMENT = (301, "Server-Assignment", "SAR", "SAA", true);
    LOCATION_INFO = (302, "Location-Info", "LIR", "LIA", true);
    MULTIMEDIA_AUTH = (303, "Multimedia-Auth", "MAR", "MAA", true);
    REGISTRATION_TERMINATION = (304, "Registration-Termination", "RTR", "RTA", true);
    PUSH_PROFILE = (305, "Push-Profile", "PPR", "PPA", true);
    MIP6 = (325, "MIP6", "MIR", "MIA", true);
}

/// The command with this code.
pub fn lookup(code: u32) -> Option<&'static CommandDef> {
    ALL.iter().find(|c| c.code == code)
}

/// Application identifiers (RFC 6733 §11.3 registry and 3GPP TS 29.230).
pub mod app {
    pub const COMMON: u32 = 0;
    pub const NASREQ: u32 = 1;
    pub const MOBILE_IPV4: u32 = 2;
    pub const BASE_ACCOUNTING: u32 = 3;
    pub const EAP: u32 = 5;
    pub const MIP6I: u32 = 7;
    pub const MIP6A: u32 = 8;
    /// RFC 6942 Diameter ERP.
    pub const ERP: u32 = 13;
    pub const CX: u32 = 16777216;
    pub const STA: u32 = 16777250;
    pub const S6A: u32 = 16777251;
    pub const SWM: u32 = 16777264;
    pub const SWX: u32 = 16777265;
    pub const S6B: u32 = 16777272;
    pub const RELAY: u32 = 0xffff_ffff;

    /// A readable name for an application id.
    pub fn name(id: u32) -> Option<&'static str> {
        Some(match id {
            COMMON => "Diameter Common Messages",
            NASREQ => "NASREQ",
            MOBILE_IPV4 => "Mobile IPv4",
            BASE_ACCOUNTING => "Diameter Base Accounting",
            EAP => "EAP",
            MIP6I => "MIP6I",
            MIP6A => "MIP6A",
            ERP => "Diameter ERP",
            CX => "3GPP Cx",
            STA => "3GPP STa",
            S6A => "3GPP S6a/S6d",
            SWM => "3GPP SWm",
            SWX => "3GPP SWx",
            S6B => "3GPP S6b",
            RELAY => "Relay",
            _ => return None,
        })
    }
}
