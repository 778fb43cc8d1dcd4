//! Subscribers as CSV: the format of `mobstrap subscriber import` (and of the export that
//! `mobstrap subscriber list --csv --secrets` writes, which imports back unchanged).
//!
//! A header row names the columns, in any order (names are case-insensitive); only `imsi`,
//! `k` and one of `opc` / `op` are required. Empty cells take the default. Lines starting
//! with `#` are comments. Cells are trimmed; a cell holding a comma must be quoted.
//!
//! | column | content | default |
//! |---|---|---|
//! | `imsi` | 6–15 digits | required |
//! | `k` | 32 hex digits | required |
//! | `opc` | 32 hex digits | one of `opc`/`op` |
//! | `op` | 32 hex digits; OPc is computed and stored, OP is not | |
//! | `amf` | 4 hex digits | `8000` |
//! | `mnc_len` | 2 or 3 | 2 |
//! | `sqn` | the USIM's current SQN, 12 hex digits; the next challenge goes above it | fresh card |
//! | `msisdn` | digits | none |
//! | `apns` | `APN=TARGET[+FLAG…]` entries separated by `;` ([`ApnProfile::parse`]) | none |
//! | `default_apn` | one of the APNs | the first |
//! | `static_ipv4` | IPv4 address | none |
//! | `static_ipv6_prefix` | `2001:db8:1::/64` | none |
//! | `home_agent` | address or FQDN of the HA / LMA | none |
//! | `mip4_fha` | address or FQDN of the Mobile IPv4 FHA | none |
//! | `access_types` | `all` or a list of `untrusted-wlan`, `trusted-wlan`, `trusted-non3gpp`, `mip4` separated by spaces or `;` | `all` |
//!
//! Errors name the line and the column, e.g. `line 4, column apns: APN ims: unknown flag
//! "roaming" (visited, ipv4, ipv6, ipv4v6, ipv4-or-ipv6)`.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};

use crate::backend::{Provision, StoredSubscriber};
use crate::model::{
    AccessType, Amf, ApnProfile, FieldError, HostRef, Imsi, Ipv6Prefix, Key128, MncLen, Subscriber,
    SubscriberProfile,
};

/// The columns, in the order the export writes them.
pub const COLUMNS: [&str; 15] = [
    "imsi",
    "mnc_len",
    "k",
    "opc",
    "op",
    "amf",
    "sqn",
    "msisdn",
    "apns",
    "default_apn",
    "static_ipv4",
    "static_ipv6_prefix",
    "home_agent",
    "mip4_fha",
    "access_types",
];

/// One problem in a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// Line in the file (1 is the header).
    pub line: u64,
    /// The column, if the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Every problem found in a file (at most [`MAX_ERRORS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvErrors(pub Vec<CsvError>);

/// Stop collecting after this many errors.
pub const MAX_ERRORS: usize = 50;

impl fmt::Display for CsvErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() >= MAX_ERRORS {
            write!(f, "\n(stopped after {MAX_ERRORS} errors)")?;
        }
        Ok(())
    }
}

impl std::error::Error for CsvErrors {}

fn cell_error(line: u64, e: FieldError) -> CsvError {
    CsvError {
        line,
        column: Some(e.field.to_owned()),
        reason: e.reason,
    }
}

/// Parses a CSV file into subscribers to provision. Either every row is good, or the
/// errors name each bad line and column.
pub fn parse<R: Read>(input: R) -> Result<Vec<Provision>, CsvErrors> {
    let mut rd = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(input);
    let fail = |line: u64, column: Option<&str>, reason: String| {
        CsvErrors(vec![CsvError {
            line,
            column: column.map(str::to_owned),
            reason,
        }])
    };
    let headers = rd
        .headers()
        .map_err(|e| fail(1, None, format!("header row: {e}")))?
        .clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.to_ascii_lowercase();
        let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
            return Err(fail(
                1,
                Some(h),
                format!("unknown column (known: {})", COLUMNS.join(", ")),
            ));
        };
        if index.insert(known, i).is_some() {
            return Err(fail(1, Some(h), "column given twice".into()));
        }
    }
    for required in ["imsi", "k"] {
        if !index.contains_key(required) {
            return Err(fail(1, Some(required), "required column missing".into()));
        }
    }
    if !index.contains_key("opc") && !index.contains_key("op") {
        return Err(fail(
            1,
            Some("opc"),
            "an opc or an op column is required".into(),
        ));
    }

    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for rec in rd.records() {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                let reason = match e.kind() {
                    ::csv::ErrorKind::UnequalLengths {
                        len, expected_len, ..
                    } => format!(
                        "{len} cells but the header has {expected_len} (quote a cell that \
                         contains a comma)"
                    ),
                    _ => e.to_string(),
                };
                errors.push(CsvError {
                    line,
                    column: None,
                    reason,
                });
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let rec_ref = &rec;
        let index_ref = &index;
        let get = |c: &str| index_ref.get(c).and_then(|i| rec_ref.get(*i)).unwrap_or("");
        // Duplicates are reported even when another cell of the first row is bad.
        if let Ok(imsi) = Imsi::new(get("imsi")) {
            if let Some(first) = seen.get(imsi.as_str()) {
                errors.push(CsvError {
                    line,
                    column: Some("imsi".into()),
                    reason: format!("{imsi} already on line {first}"),
                });
                continue;
            }
            seen.insert(imsi.to_string(), line);
        }
        match parse_row(&get) {
            Ok(p) => out.push(p),
            Err(e) => errors.push(cell_error(line, e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(CsvErrors(errors))
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Parses one row given a cell accessor (also used by the CLI's `add`).
pub fn parse_row<'a>(get: &dyn Fn(&str) -> &'a str) -> Result<Provision, FieldError> {
    let imsi = Imsi::new(get("imsi"))?;
    let k = Key128::from_hex("k", get("k"))?;
    let mut s = match (non_empty(get("opc")), non_empty(get("op"))) {
        (Some(opc), None) => Subscriber::new(imsi, k, Key128::from_hex("opc", opc)?),
        (None, Some(op)) => Subscriber::with_op(imsi, k, &Key128::from_hex("op", op)?),
        (Some(_), Some(_)) => return Err(FieldError::new("op", "give opc or op, not both")),
        (None, None) => return Err(FieldError::new("opc", "opc or op is required")),
    };
    if let Some(m) = non_empty(get("mnc_len")) {
        let n = m
            .parse::<u64>()
            .map_err(|_| FieldError::new("mnc_len", format!("{m:?}: must be 2 or 3")))?;
        s.mnc_len = MncLen::from_digits(n)?;
    }
    if let Some(a) = non_empty(get("amf")) {
        s.amf = Amf::from_hex(a)?;
    }
    let sqn = non_empty(get("sqn")).map(parse_sqn).transpose()?;
    s.profile = SubscriberProfile {
        msisdn: non_empty(get("msisdn")).map(str::to_owned),
        apns: ApnProfile::parse_list("apns", get("apns"))?,
        default_apn: non_empty(get("default_apn")).map(str::to_ascii_lowercase),
        static_ipv4: non_empty(get("static_ipv4"))
            .map(|a| {
                a.parse().map_err(|_| {
                    FieldError::new("static_ipv4", format!("{a:?} is not an IPv4 address"))
                })
            })
            .transpose()?,
        static_ipv6_prefix: non_empty(get("static_ipv6_prefix"))
            .map(|p| Ipv6Prefix::parse("static_ipv6_prefix", p))
            .transpose()?,
        home_agent: non_empty(get("home_agent"))
            .map(|h| HostRef::parse("home_agent", h))
            .transpose()?,
        mip4_fha: non_empty(get("mip4_fha"))
            .map(|h| HostRef::parse("mip4_fha", h))
            .transpose()?,
        access_types: AccessType::parse_list("access_types", get("access_types"))?,
    };
    s.validate()?;
    Ok(Provision { subscriber: s, sqn })
}

/// Parses an SQN: 12 hex digits (48 bits).
pub fn parse_sqn(s: &str) -> Result<u64, FieldError> {
    let s = s.trim();
    if s.len() != 12 {
        return Err(FieldError::new(
            "sqn",
            format!("{s:?}: expected 12 hex digits (48 bits)"),
        ));
    }
    u64::from_str_radix(s, 16)
        .map_err(|_| FieldError::new("sqn", format!("{s:?}: expected 12 hex digits (48 bits)")))
}

/// Writes subscribers in the import format. Without `secrets` the `k` and `opc` cells are
/// left empty (the file then does not import). `sqn` is the highest SQN that may have been
/// issued (the last of the reserved range, IND 31).
pub fn write<W: Write>(out: W, subs: &[StoredSubscriber], secrets: bool) -> std::io::Result<()> {
    let mut w = ::csv::WriterBuilder::new().from_writer(out);
    w.write_record(COLUMNS)?;
    for st in subs {
        let s = &st.subscriber;
        let p = &s.profile;
        let (k, opc) = if secrets {
            (s.k.to_hex(), s.opc.to_hex())
        } else {
            (String::new(), String::new())
        };
        let sqn = if st.seq_hwm > 1 {
            format!(
                "{:012x}",
                crate::sqn::compose(st.seq_hwm - 1, crate::sqn::IND_COUNT - 1)
            )
        } else {
            String::new()
        };
        let row = [
            s.imsi.to_string(),
            s.mnc_len.digits().to_string(),
            k,
            opc,
            String::new(),
            s.amf.to_string(),
            sqn,
            p.msisdn.clone().unwrap_or_default(),
            ApnProfile::format_list(&p.apns),
            p.default_apn.clone().unwrap_or_default(),
            p.static_ipv4.map(|a| a.to_string()).unwrap_or_default(),
            p.static_ipv6_prefix
                .map(|a| a.to_string())
                .unwrap_or_default(),
            p.home_agent
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            p.mip4_fha
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            AccessType::format_list(&p.access_types).replace(',', " "),
        ];
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# test subscribers
imsi,k,opc,op,amf,mnc_len,sqn,apns,default_apn,static_ipv4,access_types
001010000000001,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,,,,,internet=gw:192.0.2.10;ims=fqdn:pgw.ims.example+visited,ims,10.0.0.1,untrusted-wlan trusted-wlan
001010000000002,465b5ce8b199b49faa5f0a2ee238a6bc,,cdc202d5123e20f62b6d676ac72cb318,9001,3,0000000000ff,\"internet=dynamic,visited\",,,
";

    #[test]
    fn parses_a_good_file() {
        let subs = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(subs.len(), 2);
        let a = &subs[0].subscriber;
        assert_eq!(a.profile.apns.len(), 2);
        assert_eq!(a.profile.default_apn().unwrap().apn, "ims");
        assert_eq!(a.profile.access_types.len(), 2);
        let b = &subs[1];
        assert!(b.subscriber.opc_from_op);
        assert_eq!(
            b.subscriber.opc.to_hex(),
            "cd63cb71954a9f4e48a5994e37a02baf"
        );
        assert_eq!(b.subscriber.mnc_len, MncLen::Three);
        assert_eq!(b.subscriber.amf, Amf([0x90, 0x01]));
        assert_eq!(b.sqn, Some(0xff));
        assert!(b.subscriber.profile.apns[0].visited_allowed);
    }

    fn errors(text: &str) -> Vec<CsvError> {
        parse(text.as_bytes()).unwrap_err().0
    }

    #[test]
    fn errors_name_line_and_column() {
        let h = "imsi,k,opc,apns\n";
        let k = "465b5ce8b199b49faa5f0a2ee238a6bc";
        let e = errors(&format!(
            "{h}001010000000001,{k},{k},internet=dynamic+roaming\n\
             0010100000x0002,{k},{k},\n\
             001010000000003,{k},12,\n\
             001010000000001,{k},{k},\n"
        ));
        assert_eq!(e.len(), 4, "{e:?}");
        assert_eq!((e[0].line, e[0].column.as_deref()), (2, Some("apns")));
        assert!(e[0].reason.contains("roaming"));
        assert_eq!((e[1].line, e[1].column.as_deref()), (3, Some("imsi")));
        assert_eq!((e[2].line, e[2].column.as_deref()), (4, Some("opc")));
        assert!(!e[2].reason.contains("12,"), "no echo of key material");
        assert_eq!((e[3].line, e[3].column.as_deref()), (5, Some("imsi")));
        assert!(e[3].reason.contains("already on line 2"));
        let shown = CsvErrors(e).to_string();
        assert!(shown.starts_with("line 2, column apns: "), "{shown}");
    }

    #[test]
    fn header_and_shape_errors() {
        let e = errors("imsi,k,opc,colour\n");
        assert_eq!(e[0].column.as_deref(), Some("colour"));
        let e = errors("imsi,k\n1,2\n");
        assert!(e[0].reason.contains("opc or an op"));
        let e = errors("imsi,k,opc,apns\n001010000000001,x,y,a=dynamic,visited\n");
        assert_eq!(e[0].line, 2);
        assert!(e[0].reason.contains("quote"), "{}", e[0].reason);
        let e = errors("imsi,k,opc,op\n001010000000001,465b5ce8b199b49faa5f0a2ee238a6bc,465b5ce8b199b49faa5f0a2ee238a6bc,465b5ce8b199b49faa5f0a2ee238a6bc\n");
        assert_eq!(e[0].column.as_deref(), Some("op"));
        let e = errors("imsi,k,opc,sqn\n001010000000001,465b5ce8b199b49faa5f0a2ee238a6bc,465b5ce8b199b49faa5f0a2ee238a6bc,32\n");
        assert_eq!(e[0].column.as_deref(), Some("sqn"));
        let e = errors("imsi,k,opc,apns,default_apn\n001010000000001,465b5ce8b199b49faa5f0a2ee238a6bc,465b5ce8b199b49faa5f0a2ee238a6bc,a=dynamic,b\n");
        assert_eq!(e[0].column.as_deref(), Some("default_apn"));
    }

    #[test]
    fn export_imports_back() {
        let subs = parse(GOOD.as_bytes()).unwrap();
        let stored: Vec<StoredSubscriber> = subs
            .iter()
            .map(|p| StoredSubscriber {
                subscriber: p.subscriber.clone(),
                seq_hwm: p.seq_hwm(),
                created_at: 0,
                updated_at: 0,
            })
            .collect();
        let mut buf = Vec::new();
        write(&mut buf, &stored, true).unwrap();
        let back = parse(buf.as_slice()).unwrap();
        for (a, b) in subs.iter().zip(&back) {
            assert_eq!(a.subscriber.imsi, b.subscriber.imsi);
            assert_eq!(a.subscriber.profile, b.subscriber.profile);
            assert_eq!(a.subscriber.opc, b.subscriber.opc);
            assert_eq!(
                Provision::seq_hwm(a),
                Provision::seq_hwm(b),
                "SQN survives the round trip"
            );
        }
        let mut buf = Vec::new();
        write(&mut buf, &stored, false).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains("465b5ce8"), "no secrets without --secrets");
    }
}
