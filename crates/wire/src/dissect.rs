//! A protocol tree for `mobstrap decode`, in the spirit of `tshark -V`.
//!
//! Each codec renders a parsed message as a [`Node`] tree. A node may carry the Wireshark
//! display-filter field it corresponds to and the value tshark prints for that field with
//! `-T fields` (decimal integers, `0x..` for hex-based fields, lower-case hex for bytes,
//! addresses in their canonical text form). That lets tests compare our decoding with tshark's
//! field by field instead of by eye.

use core::fmt::Write as _;

/// The Wireshark field a node corresponds to, and the value tshark should print for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// Display-filter name, e.g. `diameter.cmd.code`.
    pub name: String,
    /// The value as `tshark -T fields -e name` prints it.
    pub value: String,
}

/// One line of the tree: `label: value`, with children indented below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub label: String,
    pub value: String,
    pub field: Option<FieldRef>,
    pub children: Vec<Node>,
}

impl Node {
    /// A line with a label and a display value.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Node {
            label: label.into(),
            value: value.into(),
            field: None,
            children: Vec::new(),
        }
    }

    /// A heading line (a protocol, a payload, an AVP) with no value of its own.
    pub fn branch(label: impl Into<String>) -> Self {
        Node::new(label, "")
    }

    /// Ties this node to a Wireshark field and the value tshark prints for it.
    pub fn field(mut self, name: impl Into<String>, tshark_value: impl Into<String>) -> Self {
        self.field = Some(FieldRef {
            name: name.into(),
            value: tshark_value.into(),
        });
        self
    }

    /// An unsigned integer shown in decimal; tshark prints it the same way.
    pub fn uint(label: impl Into<String>, v: u64, field: &str) -> Self {
        let s = v.to_string();
        let n = Node::new(label, s.clone());
        if field.is_empty() {
            n
        } else {
            n.field(field, s)
        }
    }

    /// A code point shown as `Name (n)`; tshark prints the number.
    pub fn code(
        label: impl Into<String>,
        name: impl core::fmt::Display,
        v: u64,
        field: &str,
    ) -> Self {
        let n = Node::new(label, format!("{name} ({v})"));
        if field.is_empty() {
            n
        } else {
            n.field(field, v.to_string())
        }
    }

    /// Bytes shown as lower-case hex (tshark prints FT_BYTES fields the same way).
    pub fn bytes(label: impl Into<String>, b: &[u8], field: &str) -> Self {
        let s = hex(b);
        let n = Node::new(label, s.clone());
        if field.is_empty() {
            n
        } else {
            n.field(field, s)
        }
    }

    /// Appends a child and returns self, for building trees in one expression.
    pub fn with(mut self, child: Node) -> Self {
        self.children.push(child);
        self
    }

    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }

    /// Renders the tree as indented text, four spaces per level.
    pub fn render(&self, out: &mut String) {
        self.render_at(out, 0);
    }

    fn render_at(&self, out: &mut String, depth: usize) {
        for _ in 0..depth {
            out.push_str("    ");
        }
        if self.value.is_empty() {
            out.push_str(&self.label);
        } else {
            let _ = write!(out, "{}: {}", self.label, self.value);
        }
        out.push('\n');
        for c in &self.children {
            c.render_at(out, depth + 1);
        }
    }

    /// Every (field, tshark value) pair in the tree, in document order.
    pub fn fields(&self) -> Vec<(&str, &str)> {
        let mut v = Vec::new();
        self.collect(&mut v);
        v
    }

    fn collect<'s>(&'s self, v: &mut Vec<(&'s str, &'s str)>) {
        if let Some(f) = &self.field {
            v.push((f.name.as_str(), f.value.as_str()));
        }
        for c in &self.children {
            c.collect(v);
        }
    }
}

/// Lower-case hex without separators.
pub fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// Text for a 4- or 16-byte address; hex for anything else.
pub fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => {
            let a: [u8; 4] = [b[0], b[1], b[2], b[3]];
            core::net::Ipv4Addr::from(a).to_string()
        }
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            core::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex(b),
    }
}

/// Text for a byte string that is meant to be UTF-8 (identities, names); escapes the rest.
pub fn text(b: &[u8]) -> String {
    match core::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.escape_ascii().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_collects_fields() {
        let t = Node::branch("Demo")
            .with(Node::uint("Length", 20, "demo.len"))
            .with(Node::branch("Inner").with(Node::bytes("Data", &[0xab, 1], "demo.data")));
        let mut s = String::new();
        t.render(&mut s);
        assert_eq!(s, "Demo\n    Length: 20\n    Inner\n        Data: ab01\n");
        assert_eq!(t.fields(), vec![("demo.len", "20"), ("demo.data", "ab01")]);
    }

    #[test]
    fn address_text() {
        assert_eq!(ip_text(&[192, 0, 2, 1]), "192.0.2.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = 1;
        assert_eq!(ip_text(&v6), "2001:db8::1");
    }
}
