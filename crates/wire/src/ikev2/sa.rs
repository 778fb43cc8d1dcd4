//! Security Association payload (RFC 7296 §3.3): proposals, transforms and transform
//! attributes.

use crate::codec::Writer;
use crate::{Error, ErrorKind, Reader, Result};

use super::{ProtocolId, P};

enum_with_unknown! {
    /// Transform types (IANA "Transform Type Values"; RFC 7296 §3.3.2, RFC 9370).
    pub enum TransformType(u8) {
        Encr = 1 => "ENCR",
        Prf = 2 => "PRF",
        Integ = 3 => "INTEG",
        /// Diffie-Hellman group; renamed Key Exchange Method by RFC 9370.
        Ke = 4 => "D-H",
        Esn = 5 => "ESN",
        AddKe1 = 6 => "ADDKE1",
        AddKe2 = 7 => "ADDKE2",
        AddKe3 = 8 => "ADDKE3",
        AddKe4 = 9 => "ADDKE4",
        AddKe5 = 10 => "ADDKE5",
        AddKe6 = 11 => "ADDKE6",
        AddKe7 = 12 => "ADDKE7",
    }
}

enum_with_unknown! {
    /// Transform Type 1, Encryption Algorithm Transform IDs.
    pub enum EncrId(u16) {
        DesIv64 = 1 => "ENCR_DES_IV64",
        Des = 2 => "ENCR_DES",
        TripleDes = 3 => "ENCR_3DES",
        Rc5 = 4 => "ENCR_RC5",
        Idea = 5 => "ENCR_IDEA",
        Cast = 6 => "ENCR_CAST",
        Blowfish = 7 => "ENCR_BLOWFISH",
        TripleIdea = 8 => "ENCR_3IDEA",
        DesIv32 = 9 => "ENCR_DES_IV32",
        Null = 11 => "ENCR_NULL",
        AesCbc = 12 => "ENCR_AES_CBC",
        AesCtr = 13 => "ENCR_AES_CTR",
        AesCcm8 = 14 => "ENCR_AES_CCM_8",
        AesCcm12 = 15 => "ENCR_AES_CCM_12",
        AesCcm16 = 16 => "ENCR_AES_CCM_16",
        AesGcm8 = 18 => "ENCR_AES_GCM_8",
        AesGcm12 = 19 => "ENCR_AES_GCM_12",
        AesGcm16 = 20 => "ENCR_AES_GCM_16",
        NullAuthAesGmac = 21 => "ENCR_NULL_AUTH_AES_GMAC",
        CamelliaCbc = 23 => "ENCR_CAMELLIA_CBC",
        CamelliaCtr = 24 => "ENCR_CAMELLIA_CTR",
        CamelliaCcm8 = 25 => "ENCR_CAMELLIA_CCM_8",
        CamelliaCcm12 = 26 => "ENCR_CAMELLIA_CCM_12",
        CamelliaCcm16 = 27 => "ENCR_CAMELLIA_CCM_16",
        Chacha20Poly1305 = 28 => "ENCR_CHACHA20_POLY1305",
    }
}

enum_with_unknown! {
    /// Transform Type 2, Pseudorandom Function Transform IDs.
    pub enum PrfId(u16) {
        HmacMd5 = 1 => "PRF_HMAC_MD5",
        HmacSha1 = 2 => "PRF_HMAC_SHA1",
        HmacTiger = 3 => "PRF_HMAC_TIGER",
        Aes128Xcbc = 4 => "PRF_AES128_XCBC",
        HmacSha2_256 = 5 => "PRF_HMAC_SHA2_256",
        HmacSha2_384 = 6 => "PRF_HMAC_SHA2_384",
        HmacSha2_512 = 7 => "PRF_HMAC_SHA2_512",
        Aes128Cmac = 8 => "PRF_AES128_CMAC",
    }
}

enum_with_unknown! {
    /// Transform Type 3, Integrity Algorithm Transform IDs.
    pub enum IntegId(u16) {
        None = 0 => "NONE",
        HmacMd5_96 = 1 => "AUTH_HMAC_MD5_96",
        HmacSha1_96 = 2 => "AUTH_HMAC_SHA1_96",
        DesMac = 3 => "AUTH_DES_MAC",
        KpdkMd5 = 4 => "AUTH_KPDK_MD5",
        AesXcbc96 = 5 => "AUTH_AES_XCBC_96",
        HmacMd5_128 = 6 => "AUTH_HMAC_MD5_128",
        HmacSha1_160 = 7 => "AUTH_HMAC_SHA1_160",
        AesCmac96 = 8 => "AUTH_AES_CMAC_96",
        Aes128Gmac = 9 => "AUTH_AES_128_GMAC",
        Aes192Gmac = 10 => "AUTH_AES_192_GMAC",
        Aes256Gmac = 11 => "AUTH_AES_256_GMAC",
        HmacSha2_256_128 = 12 => "AUTH_HMAC_SHA2_256_128",
        HmacSha2_384_192 = 13 => "AUTH_HMAC_SHA2_384_192",
        HmacSha2_512_256 = 14 => "AUTH_HMAC_SHA2_512_256",
    }
}

enum_with_unknown! {
    /// Transform Type 4, Key Exchange Method (Diffie-Hellman group) Transform IDs.
    pub enum DhGroup(u16) {
        None = 0 => "NONE",
        Modp768 = 1 => "768-bit MODP",
        Modp1024 = 2 => "1024-bit MODP",
        Modp1536 = 5 => "1536-bit MODP",
        Modp2048 = 14 => "2048-bit MODP",
        Modp3072 = 15 => "3072-bit MODP",
        Modp4096 = 16 => "4096-bit MODP",
        Modp6144 = 17 => "6144-bit MODP",
        Modp8192 = 18 => "8192-bit MODP",
        Ecp256 = 19 => "256-bit random ECP",
        Ecp384 = 20 => "384-bit random ECP",
        Ecp521 = 21 => "521-bit random ECP",
        Modp1024s160 = 22 => "1024-bit MODP with 160-bit Prime Order Subgroup",
        Modp2048s224 = 23 => "2048-bit MODP with 224-bit Prime Order Subgroup",
        Modp2048s256 = 24 => "2048-bit MODP with 256-bit Prime Order Subgroup",
        Ecp192 = 25 => "192-bit Random ECP",
        Ecp224 = 26 => "224-bit Random ECP",
        Brainpool224 = 27 => "brainpoolP224r1",
        Brainpool256 = 28 => "brainpoolP256r1",
        Brainpool384 = 29 => "brainpoolP384r1",
        Brainpool512 = 30 => "brainpoolP512r1",
        Curve25519 = 31 => "Curve25519",
        Curve448 = 32 => "Curve448",
    }
}

enum_with_unknown! {
    /// Transform Type 5, Extended Sequence Numbers Transform IDs.
    pub enum EsnId(u16) {
        No = 0 => "No Extended Sequence Numbers",
        Yes = 1 => "Extended Sequence Numbers",
    }
}

/// The protocol's name for a Transform ID of a given type, if known.
pub fn transform_id_name(ty: TransformType, id: u16) -> Option<&'static str> {
    match ty {
        TransformType::Encr => EncrId::from(id).name(),
        TransformType::Prf => PrfId::from(id).name(),
        TransformType::Integ => IntegId::from(id).name(),
        TransformType::Ke
        | TransformType::AddKe1
        | TransformType::AddKe2
        | TransformType::AddKe3
        | TransformType::AddKe4
        | TransformType::AddKe5
        | TransformType::AddKe6
        | TransformType::AddKe7 => DhGroup::from(id).name(),
        TransformType::Esn => EsnId::from(id).name(),
        TransformType::Unknown(_) => None,
    }
}

/// Transform attribute type of the Key Length attribute (RFC 7296 §3.3.5), always TV.
pub const ATTR_KEY_LENGTH: u16 = 14;

/// The value of a transform attribute: TV (AF bit set, 16-bit value) or TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeValue<'a> {
    Tv(u16),
    Tlv(&'a [u8]),
}

/// A transform attribute (RFC 7296 §3.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransformAttribute<'a> {
    /// Attribute Type, 15 bits (the AF bit is implied by the value's form).
    pub attr_type: u16,
    pub value: AttributeValue<'a>,
}

impl<'a> TransformAttribute<'a> {
    /// A Key Length attribute (bits).
    pub const fn key_length(bits: u16) -> Self {
        TransformAttribute {
            attr_type: ATTR_KEY_LENGTH,
            value: AttributeValue::Tv(bits),
        }
    }

    pub fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let t = r.u16("SA.proposal.transform.attribute.type")?;
        let attr_type = t & 0x7fff;
        let value = if t & 0x8000 != 0 {
            AttributeValue::Tv(r.u16("SA.proposal.transform.attribute.value")?)
        } else {
            let len = r.u16("SA.proposal.transform.attribute.length")? as usize;
            AttributeValue::Tlv(r.bytes(len, "SA.proposal.transform.attribute.value")?)
        };
        Ok(TransformAttribute { attr_type, value })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.attr_type > 0x7fff {
            return Err(Error::bad_value(P, "SA.proposal.transform.attribute.type"));
        }
        match self.value {
            AttributeValue::Tv(v) => {
                out.put_u16(0x8000 | self.attr_type);
                out.put_u16(v);
            }
            AttributeValue::Tlv(b) => {
                let len = u16::try_from(b.len())
                    .map_err(|_| Error::too_long(P, "SA.proposal.transform.attribute.length"))?;
                out.put_u16(self.attr_type);
                out.put_u16(len);
                out.put(b);
            }
        }
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        match self.value {
            AttributeValue::Tv(_) => 4,
            AttributeValue::Tlv(b) => 4 + b.len(),
        }
    }
}

/// A transform substructure (RFC 7296 §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transform<'a> {
    pub transform_type: TransformType,
    /// Transform ID; its meaning depends on the type (see [`transform_id_name`]).
    pub transform_id: u16,
    /// The two reserved bytes (after Last Substruc and after Transform Type), as received.
    pub reserved: [u8; 2],
    pub attributes: Vec<TransformAttribute<'a>>,
}

impl<'a> Transform<'a> {
    pub fn new(transform_type: TransformType, transform_id: u16) -> Self {
        Transform {
            transform_type,
            transform_id,
            reserved: [0; 2],
            attributes: Vec::new(),
        }
    }

    /// With a Key Length attribute.
    pub fn with_key_length(mut self, bits: u16) -> Self {
        self.attributes.push(TransformAttribute::key_length(bits));
        self
    }

    /// The Key Length attribute's value, if present.
    pub fn key_length(&self) -> Option<u16> {
        self.attributes
            .iter()
            .find_map(|a| match (a.attr_type, a.value) {
                (ATTR_KEY_LENGTH, AttributeValue::Tv(v)) => Some(v),
                _ => None,
            })
    }

    /// Parses one transform; returns it with its Last Substruc byte.
    fn parse(r: &mut Reader<'a>) -> Result<(Self, u8)> {
        let last = r.u8("SA.proposal.transform.last_substruc")?;
        let res0 = r.u8("SA.proposal.transform.reserved")?;
        let len = r.u16("SA.proposal.transform.length")? as usize;
        if len < 8 {
            return Err(r.err("SA.proposal.transform.length", ErrorKind::BadLength));
        }
        let mut body = r.sub(len - 4, "SA.proposal.transform.length")?;
        let transform_type = TransformType::from(body.u8("SA.proposal.transform.type")?);
        let res1 = body.u8("SA.proposal.transform.reserved")?;
        let transform_id = body.u16("SA.proposal.transform.id")?;
        let mut attributes = Vec::new();
        while !body.is_empty() {
            attributes.push(TransformAttribute::parse(&mut body)?);
        }
        Ok((
            Transform {
                transform_type,
                transform_id,
                reserved: [res0, res1],
                attributes,
            },
            last,
        ))
    }

    fn emit(&self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.put_u8(if last { 0 } else { 3 });
        out.put_u8(self.reserved[0]);
        out.put_u16(0);
        out.put_u8(self.transform_type.into());
        out.put_u8(self.reserved[1]);
        out.put_u16(self.transform_id);
        for a in &self.attributes {
            a.emit(out)?;
        }
        out.patch_len_u16(start + 2, start, 0, P, "SA.proposal.transform.length")
    }

    pub fn buffer_len(&self) -> usize {
        8 + self
            .attributes
            .iter()
            .map(|a| a.buffer_len())
            .sum::<usize>()
    }
}

/// A proposal substructure (RFC 7296 §3.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal<'a> {
    pub number: u8,
    pub protocol_id: ProtocolId,
    /// SPI (empty for an initial IKE SA negotiation; 4 bytes for AH/ESP; 8 for IKE rekey).
    pub spi: &'a [u8],
    /// The reserved byte after Last Substruc, as received.
    pub reserved: u8,
    pub transforms: Vec<Transform<'a>>,
}

impl<'a> Proposal<'a> {
    pub fn new(
        number: u8,
        protocol_id: ProtocolId,
        spi: &'a [u8],
        transforms: Vec<Transform<'a>>,
    ) -> Self {
        Proposal {
            number,
            protocol_id,
            spi,
            reserved: 0,
            transforms,
        }
    }

    fn parse(r: &mut Reader<'a>) -> Result<(Self, u8)> {
        let last = r.u8("SA.proposal.last_substruc")?;
        let reserved = r.u8("SA.proposal.reserved")?;
        let len = r.u16("SA.proposal.length")? as usize;
        if len < 8 {
            return Err(r.err("SA.proposal.length", ErrorKind::BadLength));
        }
        let mut body = r.sub(len - 4, "SA.proposal.length")?;
        let number = body.u8("SA.proposal.number")?;
        let protocol_id = ProtocolId::from(body.u8("SA.proposal.protocol_id")?);
        let spi_size = body.u8("SA.proposal.spi_size")? as usize;
        let num_transforms = body.u8("SA.proposal.num_transforms")? as usize;
        let spi = body.bytes(spi_size, "SA.proposal.spi")?;
        let mut transforms = Vec::with_capacity(num_transforms);
        for i in 0..num_transforms {
            let (t, tlast) = Transform::parse(&mut body)?;
            let want = if i + 1 == num_transforms { 0 } else { 3 };
            if tlast != want {
                return Err(Error::bad_value(P, "SA.proposal.transform.last_substruc"));
            }
            transforms.push(t);
        }
        body.finish("SA.proposal.num_transforms")?;
        Ok((
            Proposal {
                number,
                protocol_id,
                spi,
                reserved,
                transforms,
            },
            last,
        ))
    }

    fn emit(&self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.put_u8(if last { 0 } else { 2 });
        out.put_u8(self.reserved);
        out.put_u16(0);
        out.put_u8(self.number);
        out.put_u8(self.protocol_id.into());
        out.put_u8(
            u8::try_from(self.spi.len()).map_err(|_| Error::too_long(P, "SA.proposal.spi_size"))?,
        );
        out.put_u8(
            u8::try_from(self.transforms.len())
                .map_err(|_| Error::too_long(P, "SA.proposal.num_transforms"))?,
        );
        out.put(self.spi);
        let n = self.transforms.len();
        for (i, t) in self.transforms.iter().enumerate() {
            t.emit(i + 1 == n, out)?;
        }
        out.patch_len_u16(start + 2, start, 0, P, "SA.proposal.length")
    }

    pub fn buffer_len(&self) -> usize {
        8 + self.spi.len()
            + self
                .transforms
                .iter()
                .map(|t| t.buffer_len())
                .sum::<usize>()
    }

    /// The first transform of a type.
    pub fn transform(&self, ty: TransformType) -> Option<&Transform<'a>> {
        self.transforms.iter().find(|t| t.transform_type == ty)
    }
}

/// The body of a Security Association payload: one or more proposals.
///
/// Last Substruc values (0 for the last proposal/transform, 2 or 3 otherwise) and the
/// Number of Transforms are derived when emitting; on parse, values that disagree with the
/// structure are rejected so that re-emitting is exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Sa<'a> {
    pub proposals: Vec<Proposal<'a>>,
}

impl<'a> Sa<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(P, data);
        let mut proposals = Vec::new();
        loop {
            let (p, last) = Proposal::parse(&mut r)?;
            proposals.push(p);
            match (last, r.is_empty()) {
                (0, true) => break,
                (2, false) => continue,
                _ => return Err(Error::bad_value(P, "SA.proposal.last_substruc")),
            }
        }
        Ok(Sa { proposals })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        if self.proposals.is_empty() {
            return Err(Error::bad_value(P, "SA.proposal"));
        }
        let n = self.proposals.len();
        for (i, p) in self.proposals.iter().enumerate() {
            p.emit(i + 1 == n, out)?;
        }
        Ok(())
    }

    pub fn buffer_len(&self) -> usize {
        self.proposals.iter().map(|p| p.buffer_len()).sum()
    }
}
