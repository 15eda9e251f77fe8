//! The Nitro attestation document: COSE_Sign1 (ES384) around a CBOR map, parsed strictly
//! against the schema AWS publishes ("Verifying the root of trust"):
//!
//! ```text
//! AttestationDocument = {
//!     module_id: text, timestamp: uint .size 8, digest: "SHA384",
//!     pcrs: { + index => pcr }, certificate: cert, cabundle: [* cert],
//!     ? public_key: user_data, ? user_data: user_data, ? nonce: user_data }
//! cert = bytes .size (1..1024)   user_data = bytes .size (0..1024)
//! pcr = bytes .size (32/48/64)   index = 0..31
//! ```
//!
//! Unknown or repeated keys, wrong types and out-of-range sizes are refused: a verifier must
//! not accept a document it only partly understands.

use std::collections::BTreeMap;

use ciborium::value::Value;
use coset::{iana, CborSerializable, CoseSign1, TaggedCborSerializable};

use crate::error::VerifyError;

/// Documents are about 4.5 KiB; anything far larger is not a Nitro document.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;
const MAX_CERT_BYTES: usize = 1024;
const MAX_USER_DATA_BYTES: usize = 1024;
const PCR_COUNT: u8 = 32;
/// The PCR length for the only digest AWS uses, SHA-384.
pub const PCR_BYTES: usize = 48;
/// ES384 signatures are r || s, 48 bytes each.
const SIGNATURE_BYTES: usize = 96;

/// The decoded payload of a Nitro attestation document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NitroDocument {
    pub module_id: String,
    pub timestamp_ms: u64,
    pub digest: String,
    pub pcrs: BTreeMap<u8, Vec<u8>>,
    pub certificate: Vec<u8>,
    pub cabundle: Vec<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
}

impl NitroDocument {
    /// Debug-mode enclaves report PCR0, PCR1 and PCR2 as all zeros.
    pub fn is_debug(&self) -> bool {
        [0u8, 1, 2].iter().all(|index| {
            self.pcrs
                .get(index)
                .is_some_and(|pcr| pcr.iter().all(|b| *b == 0))
        })
    }

    /// Encodes the payload map in the field order the NSM uses.
    pub fn to_cbor(&self) -> Result<Vec<u8>, ciborium::ser::Error<std::io::Error>> {
        let bytes_or_null = |v: &Option<Vec<u8>>| match v {
            Some(b) => Value::Bytes(b.clone()),
            None => Value::Null,
        };
        let map = Value::Map(vec![
            (text("module_id"), text(&self.module_id)),
            (text("digest"), text(&self.digest)),
            (text("timestamp"), Value::Integer(self.timestamp_ms.into())),
            (
                text("pcrs"),
                Value::Map(
                    self.pcrs
                        .iter()
                        .map(|(i, v)| (Value::Integer((*i).into()), Value::Bytes(v.clone())))
                        .collect(),
                ),
            ),
            (text("certificate"), Value::Bytes(self.certificate.clone())),
            (
                text("cabundle"),
                Value::Array(self.cabundle.iter().cloned().map(Value::Bytes).collect()),
            ),
            (text("public_key"), bytes_or_null(&self.public_key)),
            (text("user_data"), bytes_or_null(&self.user_data)),
            (text("nonce"), bytes_or_null(&self.nonce)),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&map, &mut out)?;
        Ok(out)
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A parsed but not yet verified document: the COSE envelope and its decoded payload.
#[derive(Debug, Clone)]
pub struct SignedDocument {
    pub sign1: CoseSign1,
    pub document: NitroDocument,
}

/// Parses a COSE_Sign1 Nitro document (tagged or untagged) without verifying anything.
pub fn parse(bytes: &[u8]) -> Result<SignedDocument, VerifyError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(VerifyError::malformed(format!(
            "the document is {} bytes, more than the {MAX_DOCUMENT_BYTES} a Nitro document can be",
            bytes.len()
        )));
    }
    // Tag 18 (COSE_Sign1) is one byte, 0xd2; the NSM emits the untagged form.
    let sign1 = if bytes.first() == Some(&0xd2) {
        CoseSign1::from_tagged_slice(bytes)
    } else {
        CoseSign1::from_slice(bytes)
    }
    .map_err(|e| VerifyError::malformed(format!("not a COSE_Sign1 structure: {e}")))?;

    let protected = &sign1.protected.header;
    if protected.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::ES384)) {
        return Err(VerifyError::malformed(
            "the protected header does not name ES384",
        ));
    }
    if !protected.crit.is_empty() {
        return Err(VerifyError::malformed(
            "the protected header lists critical parameters",
        ));
    }
    if sign1.signature.len() != SIGNATURE_BYTES {
        return Err(VerifyError::malformed(format!(
            "the signature is {} bytes, ES384 needs {SIGNATURE_BYTES}",
            sign1.signature.len()
        )));
    }
    let payload = sign1
        .payload
        .as_deref()
        .ok_or_else(|| VerifyError::malformed("the document has no payload"))?;
    let document = parse_payload(payload)?;
    Ok(SignedDocument { sign1, document })
}

/// Decodes the payload map against the schema.
pub fn parse_payload(payload: &[u8]) -> Result<NitroDocument, VerifyError> {
    let mut reader = payload;
    let value: Value = ciborium::from_reader(&mut reader)
        .map_err(|e| VerifyError::malformed(format!("the payload is not CBOR: {e}")))?;
    if !reader.is_empty() {
        return Err(VerifyError::malformed("bytes follow the payload map"));
    }
    let Value::Map(entries) = value else {
        return Err(VerifyError::malformed("the payload is not a map"));
    };
    let mut fields = Fields::default();
    for (key, value) in entries {
        let Value::Text(key) = key else {
            return Err(VerifyError::malformed("a payload key is not text"));
        };
        fields.set(&key, value)?;
    }
    fields.finish()
}

#[derive(Default)]
struct Fields {
    module_id: Option<String>,
    timestamp: Option<u64>,
    digest: Option<String>,
    pcrs: Option<BTreeMap<u8, Vec<u8>>>,
    certificate: Option<Vec<u8>>,
    cabundle: Option<Vec<Vec<u8>>>,
    public_key: Option<Option<Vec<u8>>>,
    user_data: Option<Option<Vec<u8>>>,
    nonce: Option<Option<Vec<u8>>>,
}

impl Fields {
    fn set(&mut self, key: &str, value: Value) -> Result<(), VerifyError> {
        let repeated = || VerifyError::malformed(format!("the payload repeats {key}"));
        match key {
            "module_id" => put(&mut self.module_id, module_id(value)?, repeated),
            "timestamp" => put(&mut self.timestamp, timestamp(value)?, repeated),
            "digest" => put(&mut self.digest, digest(value)?, repeated),
            "pcrs" => put(&mut self.pcrs, pcrs(value)?, repeated),
            "certificate" => put(&mut self.certificate, cert(value, "certificate")?, repeated),
            "cabundle" => put(&mut self.cabundle, cabundle(value)?, repeated),
            "public_key" => put(&mut self.public_key, user_data(value, key)?, repeated),
            "user_data" => put(&mut self.user_data, user_data(value, key)?, repeated),
            "nonce" => put(&mut self.nonce, user_data(value, key)?, repeated),
            other => Err(VerifyError::malformed(format!(
                "the payload has an unknown field {other:?}"
            ))),
        }
    }

    fn finish(self) -> Result<NitroDocument, VerifyError> {
        let missing = |field: &str| VerifyError::malformed(format!("the payload has no {field}"));
        Ok(NitroDocument {
            module_id: self.module_id.ok_or_else(|| missing("module_id"))?,
            timestamp_ms: self.timestamp.ok_or_else(|| missing("timestamp"))?,
            digest: self.digest.ok_or_else(|| missing("digest"))?,
            pcrs: self.pcrs.ok_or_else(|| missing("pcrs"))?,
            certificate: self.certificate.ok_or_else(|| missing("certificate"))?,
            cabundle: self.cabundle.ok_or_else(|| missing("cabundle"))?,
            public_key: self.public_key.flatten(),
            user_data: self.user_data.flatten(),
            nonce: self.nonce.flatten(),
        })
    }
}

fn put<T>(
    slot: &mut Option<T>,
    value: T,
    repeated: impl FnOnce() -> VerifyError,
) -> Result<(), VerifyError> {
    if slot.is_some() {
        return Err(repeated());
    }
    *slot = Some(value);
    Ok(())
}

fn module_id(value: Value) -> Result<String, VerifyError> {
    match value {
        Value::Text(s) if !s.is_empty() => Ok(s),
        _ => Err(VerifyError::malformed("module_id is not non-empty text")),
    }
}

fn timestamp(value: Value) -> Result<u64, VerifyError> {
    match value {
        Value::Integer(i) => u64::try_from(i)
            .ok()
            .filter(|t| *t > 0)
            .ok_or_else(|| VerifyError::malformed("timestamp is not a positive 64-bit integer")),
        _ => Err(VerifyError::malformed("timestamp is not an integer")),
    }
}

fn digest(value: Value) -> Result<String, VerifyError> {
    match value {
        Value::Text(s) if s == "SHA384" => Ok(s),
        Value::Text(s) => Err(VerifyError::malformed(format!(
            "digest {s:?} is not SHA384, the only digest Nitro uses"
        ))),
        _ => Err(VerifyError::malformed("digest is not text")),
    }
}

fn pcrs(value: Value) -> Result<BTreeMap<u8, Vec<u8>>, VerifyError> {
    let Value::Map(entries) = value else {
        return Err(VerifyError::malformed("pcrs is not a map"));
    };
    if entries.is_empty() || entries.len() > usize::from(PCR_COUNT) {
        return Err(VerifyError::malformed(format!(
            "pcrs has {} entries, Nitro reports 1 to {PCR_COUNT}",
            entries.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (index, pcr) in entries {
        let index = match index {
            Value::Integer(i) => u8::try_from(i).ok().filter(|i| *i < PCR_COUNT),
            _ => None,
        }
        .ok_or_else(|| VerifyError::malformed("a PCR index is not an integer in 0..31"))?;
        let Value::Bytes(pcr) = pcr else {
            return Err(VerifyError::malformed(format!(
                "PCR{index} is not a byte string"
            )));
        };
        if pcr.len() != PCR_BYTES {
            return Err(VerifyError::malformed(format!(
                "PCR{index} is {} bytes, SHA-384 PCRs are {PCR_BYTES}",
                pcr.len()
            )));
        }
        if out.insert(index, pcr).is_some() {
            return Err(VerifyError::malformed(format!("PCR{index} appears twice")));
        }
    }
    Ok(out)
}

fn cert(value: Value, what: &str) -> Result<Vec<u8>, VerifyError> {
    match value {
        Value::Bytes(b) if (1..=MAX_CERT_BYTES).contains(&b.len()) => Ok(b),
        Value::Bytes(b) => Err(VerifyError::malformed(format!(
            "{what} is {} bytes, certificates are 1 to {MAX_CERT_BYTES}",
            b.len()
        ))),
        _ => Err(VerifyError::malformed(format!(
            "{what} is not a byte string"
        ))),
    }
}

fn cabundle(value: Value) -> Result<Vec<Vec<u8>>, VerifyError> {
    let Value::Array(items) = value else {
        return Err(VerifyError::malformed("cabundle is not an array"));
    };
    if items.is_empty() {
        return Err(VerifyError::malformed("cabundle is empty"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| cert(item, &format!("cabundle[{i}]")))
        .collect()
}

fn user_data(value: Value, what: &str) -> Result<Option<Vec<u8>>, VerifyError> {
    match value {
        Value::Null => Ok(None),
        Value::Bytes(b) if b.len() <= MAX_USER_DATA_BYTES => Ok(Some(b)),
        Value::Bytes(b) => Err(VerifyError::malformed(format!(
            "{what} is {} bytes, at most {MAX_USER_DATA_BYTES} allowed",
            b.len()
        ))),
        _ => Err(VerifyError::malformed(format!(
            "{what} is neither bytes nor null"
        ))),
    }
}
