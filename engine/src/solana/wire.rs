//! Strict decoding and encoding of Solana wire transactions and messages (legacy and v0).
//!
//! We parse the bytes ourselves instead of trusting a permissive deserializer: every length is
//! bounded by the input before anything is allocated, compact-u16 lengths must be canonical,
//! trailing bytes are an error, and the structural rules the runtime enforces (header
//! consistency, index ranges, no duplicate keys) are checked here, so that what the policy
//! engine reasons about is exactly what a validator would execute. Decoding then encoding gives
//! back the input byte for byte.

use serde::Serialize;
use solana_address::Address;
use solana_hash::Hash;

use super::error::DecodeError;

/// Bit set in the first byte of a versioned message.
const VERSION_PREFIX: u8 = 0x80;
/// First byte of a SIMD-0385 V1 message, which we refuse.
const V1_PREFIX: u8 = 0x81;
/// Size of an ed25519 signature on the wire.
pub const SIGNATURE_LEN: usize = 64;

/// Which message format the bytes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageVersion {
    Legacy,
    V0,
}

/// The three counts that say which accounts sign and which are writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    pub num_required_signatures: u8,
    pub num_readonly_signed: u8,
    pub num_readonly_unsigned: u8,
}

/// An instruction as it sits in the message: indices into the account list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledInstruction {
    pub program_id_index: u8,
    pub accounts: Vec<u8>,
    pub data: Vec<u8>,
}

/// A v0 address-table lookup. Decoded so the message round-trips, refused by the explainer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressTableLookup {
    pub table: Address,
    pub writable_indexes: Vec<u8>,
    pub readonly_indexes: Vec<u8>,
}

/// A decoded message (legacy or v0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub version: MessageVersion,
    pub header: MessageHeader,
    pub account_keys: Vec<Address>,
    pub recent_blockhash: Hash,
    pub instructions: Vec<CompiledInstruction>,
    pub address_table_lookups: Vec<AddressTableLookup>,
}

/// A decoded transaction: signatures (in signer order) and the message they sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub signatures: Vec<[u8; SIGNATURE_LEN]>,
    pub message: Message,
}

/// What a byte string turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Transaction(Transaction),
    Message(Message),
}

impl Decoded {
    /// Decodes a wire transaction or a bare message, whichever the bytes are.
    ///
    /// A first byte with the high bit set can only start a versioned message (a transaction
    /// would need 128 or more signatures), so it is never read as a transaction. Otherwise the
    /// bytes are tried as a transaction first, then as a legacy message; if both fail, the
    /// transaction error is reported.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        match bytes.first() {
            None => Err(DecodeError::Empty),
            Some(first) if first & VERSION_PREFIX != 0 => {
                Message::from_bytes(bytes).map(Self::Message)
            }
            Some(_) => match Transaction::from_bytes(bytes) {
                Ok(tx) => Ok(Self::Transaction(tx)),
                Err(tx_error) => Message::from_bytes(bytes)
                    .map(Self::Message)
                    .map_err(|_| tx_error),
            },
        }
    }

    pub fn message(&self) -> &Message {
        match self {
            Self::Transaction(tx) => &tx.message,
            Self::Message(message) => message,
        }
    }

    /// Re-encodes in the same form it was decoded from.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Transaction(tx) => tx.to_bytes(),
            Self::Message(message) => message.to_bytes(),
        }
    }
}

impl Transaction {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let count = reader.short_vec_len("signature count")?;
        let mut signatures = Vec::with_capacity(reader.bounded_capacity(count, SIGNATURE_LEN));
        for _ in 0..count {
            signatures.push(reader.array::<SIGNATURE_LEN>("signature")?);
        }
        let message = Message::read(&mut reader)?;
        reader.finish()?;
        let required = usize::from(message.header.num_required_signatures);
        if signatures.len() != required {
            return Err(DecodeError::SignatureCountMismatch {
                signatures: signatures.len(),
                required,
            });
        }
        Ok(Self {
            signatures,
            message,
        })
    }

    /// An unsigned transaction for `message`: one all-zero signature per required signer.
    pub fn unsigned(message: Message) -> Self {
        let count = usize::from(message.header.num_required_signatures);
        Self {
            signatures: vec![[0u8; SIGNATURE_LEN]; count],
            message,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_short_vec_len(&mut out, self.signatures.len());
        for signature in &self.signatures {
            out.extend_from_slice(signature);
        }
        self.message.write(&mut out);
        out
    }
}

impl Message {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let message = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(message)
    }

    /// The bytes a signature covers.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let first = reader.peek("message header")?;
        let version = if first & VERSION_PREFIX == 0 {
            MessageVersion::Legacy
        } else {
            reader.u8("version prefix")?;
            match first {
                VERSION_PREFIX => MessageVersion::V0,
                V1_PREFIX => return Err(DecodeError::MessageV1Refused),
                other => return Err(DecodeError::UnsupportedVersion(other & !VERSION_PREFIX)),
            }
        };
        let header = MessageHeader {
            num_required_signatures: reader.u8("header")?,
            num_readonly_signed: reader.u8("header")?,
            num_readonly_unsigned: reader.u8("header")?,
        };
        let key_count = reader.short_vec_len("account key count")?;
        let mut account_keys = Vec::with_capacity(reader.bounded_capacity(key_count, 32));
        for _ in 0..key_count {
            account_keys.push(Address::new_from_array(reader.array::<32>("account key")?));
        }
        let recent_blockhash = Hash::new_from_array(reader.array::<32>("recent blockhash")?);
        let instruction_count = reader.short_vec_len("instruction count")?;
        // Each instruction takes at least 3 bytes (program index and two empty lengths).
        let mut instructions = Vec::with_capacity(reader.bounded_capacity(instruction_count, 3));
        for _ in 0..instruction_count {
            instructions.push(CompiledInstruction {
                program_id_index: reader.u8("program id index")?,
                accounts: reader.byte_vec("instruction accounts")?.to_vec(),
                data: reader.byte_vec("instruction data")?.to_vec(),
            });
        }
        let mut address_table_lookups = Vec::new();
        if version == MessageVersion::V0 {
            let lookup_count = reader.short_vec_len("address table lookup count")?;
            address_table_lookups.reserve(reader.bounded_capacity(lookup_count, 34));
            for _ in 0..lookup_count {
                address_table_lookups.push(AddressTableLookup {
                    table: Address::new_from_array(reader.array::<32>("lookup table address")?),
                    writable_indexes: reader.byte_vec("lookup writable indexes")?.to_vec(),
                    readonly_indexes: reader.byte_vec("lookup readonly indexes")?.to_vec(),
                });
            }
        }
        let message = Self {
            version,
            header,
            account_keys,
            recent_blockhash,
            instructions,
            address_table_lookups,
        };
        message.sanitize()?;
        Ok(message)
    }

    fn write(&self, out: &mut Vec<u8>) {
        if self.version == MessageVersion::V0 {
            out.push(VERSION_PREFIX);
        }
        out.extend_from_slice(&[
            self.header.num_required_signatures,
            self.header.num_readonly_signed,
            self.header.num_readonly_unsigned,
        ]);
        write_short_vec_len(out, self.account_keys.len());
        for key in &self.account_keys {
            out.extend_from_slice(key.as_ref());
        }
        out.extend_from_slice(self.recent_blockhash.as_ref());
        write_short_vec_len(out, self.instructions.len());
        for instruction in &self.instructions {
            out.push(instruction.program_id_index);
            write_byte_vec(out, &instruction.accounts);
            write_byte_vec(out, &instruction.data);
        }
        if self.version == MessageVersion::V0 {
            write_short_vec_len(out, self.address_table_lookups.len());
            for lookup in &self.address_table_lookups {
                out.extend_from_slice(lookup.table.as_ref());
                write_byte_vec(out, &lookup.writable_indexes);
                write_byte_vec(out, &lookup.readonly_indexes);
            }
        }
    }

    /// The structural rules a validator enforces before executing anything.
    fn sanitize(&self) -> Result<(), DecodeError> {
        let header = &self.header;
        let static_keys = self.account_keys.len();
        let required = usize::from(header.num_required_signatures);
        if required == 0 {
            return Err(DecodeError::InvalidHeader(
                "no required signatures: there is no fee payer",
            ));
        }
        if header.num_readonly_signed >= header.num_required_signatures {
            return Err(DecodeError::InvalidHeader(
                "the fee payer would be read-only",
            ));
        }
        if required.saturating_add(usize::from(header.num_readonly_unsigned)) > static_keys {
            return Err(DecodeError::InvalidHeader(
                "header counts exceed the account keys",
            ));
        }
        let loaded: usize = self
            .address_table_lookups
            .iter()
            .map(|l| {
                l.writable_indexes
                    .len()
                    .saturating_add(l.readonly_indexes.len())
            })
            .sum();
        for lookup in &self.address_table_lookups {
            if lookup.writable_indexes.is_empty() && lookup.readonly_indexes.is_empty() {
                return Err(DecodeError::InvalidHeader(
                    "an address table lookup loads nothing",
                ));
            }
        }
        let total_keys = static_keys.saturating_add(loaded);
        if total_keys > 256 {
            return Err(DecodeError::InvalidHeader("more than 256 accounts"));
        }
        for (position, key) in self.account_keys.iter().enumerate() {
            if self
                .account_keys
                .iter()
                .take(position)
                .any(|earlier| earlier == key)
            {
                return Err(DecodeError::DuplicateAccountKey(*key));
            }
        }
        for (index, instruction) in self.instructions.iter().enumerate() {
            let program = usize::from(instruction.program_id_index);
            // Programs cannot be loaded through lookup tables, and the fee payer is no program.
            if program == 0 || program >= static_keys {
                return Err(DecodeError::InvalidProgramIndex {
                    instruction: index,
                    program_index: instruction.program_id_index,
                });
            }
            if let Some(&account) = instruction
                .accounts
                .iter()
                .find(|&&a| usize::from(a) >= total_keys)
            {
                return Err(DecodeError::AccountIndexOutOfRange {
                    instruction: index,
                    account_index: account,
                });
            }
        }
        Ok(())
    }

    /// Whether the account at `index` must sign.
    pub fn is_signer(&self, index: usize) -> bool {
        index < usize::from(self.header.num_required_signatures)
    }

    /// Whether the account at `index` is writable (static keys only; loaded keys are unknown).
    pub fn is_writable(&self, index: usize) -> bool {
        let header = &self.header;
        let required = usize::from(header.num_required_signatures);
        let static_keys = self.account_keys.len();
        if index < required {
            index < required.saturating_sub(usize::from(header.num_readonly_signed))
        } else if index < static_keys {
            index < static_keys.saturating_sub(usize::from(header.num_readonly_unsigned))
        } else {
            false
        }
    }

    /// The accounts that must sign, in signature order.
    pub fn signers(&self) -> &[Address] {
        let required =
            usize::from(self.header.num_required_signatures).min(self.account_keys.len());
        self.account_keys.get(..required).unwrap_or_default()
    }

    pub fn fee_payer(&self) -> Option<&Address> {
        self.account_keys.first()
    }
}

/// A bounds-checked cursor over the input.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, position: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    /// Capacity to reserve for `count` items of at least `min_size` bytes: never more than the
    /// input could hold, so a forged length cannot make us allocate.
    fn bounded_capacity(&self, count: usize, min_size: usize) -> usize {
        count.min(self.remaining() / min_size.max(1))
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .position
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(DecodeError::Truncated {
                what,
                offset: self.position,
            })?;
        let slice = self
            .bytes
            .get(self.position..end)
            .ok_or(DecodeError::Truncated {
                what,
                offset: self.position,
            })?;
        self.position = end;
        Ok(slice)
    }

    fn peek(&self, what: &'static str) -> Result<u8, DecodeError> {
        self.bytes
            .get(self.position)
            .copied()
            .ok_or(DecodeError::Truncated {
                what,
                offset: self.position,
            })
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let byte = self.peek(what)?;
        self.position = self.position.saturating_add(1);
        Ok(byte)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn byte_vec(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.short_vec_len(what)?;
        self.take(len, what)
    }

    /// A compact-u16 length: 7 bits per byte, at most 3 bytes, canonical (no redundant zero
    /// continuation), at most u16::MAX; exactly the rules of Solana's `short_vec`.
    fn short_vec_len(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let offset = self.position;
        let mut value: u32 = 0;
        for byte_index in 0..3u32 {
            let byte = self.u8(what)?;
            let bits = u32::from(byte & 0x7f);
            if byte_index > 0 && byte == 0 {
                return Err(DecodeError::NonCanonicalLength { what, offset });
            }
            value |= bits << (7 * byte_index);
            if byte & 0x80 == 0 {
                if value > u32::from(u16::MAX) {
                    return Err(DecodeError::LengthOverflow { what, offset });
                }
                return usize::try_from(value)
                    .map_err(|_| DecodeError::LengthOverflow { what, offset });
            }
            if byte_index == 2 {
                return Err(DecodeError::LengthOverflow { what, offset });
            }
        }
        Err(DecodeError::LengthOverflow { what, offset })
    }

    fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes {
                count,
                offset: self.position,
            }),
        }
    }
}

fn write_short_vec_len(out: &mut Vec<u8>, len: usize) {
    let mut rest = len;
    loop {
        let low = u8::try_from(rest & 0x7f).unwrap_or_default();
        rest >>= 7;
        if rest == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn write_byte_vec(out: &mut Vec<u8>, bytes: &[u8]) {
    write_short_vec_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short_vec(bytes: &[u8]) -> Result<usize, DecodeError> {
        Reader::new(bytes).short_vec_len("test")
    }

    #[test]
    fn short_vec_matches_solana_encoding() {
        for (len, encoded) in [
            (0usize, vec![0x00]),
            (0x7f, vec![0x7f]),
            (0x80, vec![0x80, 0x01]),
            (0x3fff, vec![0xff, 0x7f]),
            (0x4000, vec![0x80, 0x80, 0x01]),
            (0xffff, vec![0xff, 0xff, 0x03]),
        ] {
            let mut out = Vec::new();
            write_short_vec_len(&mut out, len);
            assert_eq!(out, encoded, "encoding {len}");
            assert_eq!(short_vec(&encoded).unwrap(), len, "decoding {len}");
        }
    }

    #[test]
    fn short_vec_refuses_non_canonical_and_overflow() {
        assert!(matches!(
            short_vec(&[0x80, 0x00]),
            Err(DecodeError::NonCanonicalLength { .. })
        ));
        assert!(matches!(
            short_vec(&[0x80, 0x80, 0x00]),
            Err(DecodeError::NonCanonicalLength { .. })
        ));
        assert!(matches!(
            short_vec(&[0xff, 0xff, 0x04]),
            Err(DecodeError::LengthOverflow { .. })
        ));
        assert!(matches!(
            short_vec(&[0x80, 0x80, 0x80]),
            Err(DecodeError::LengthOverflow { .. })
        ));
        assert!(matches!(
            short_vec(&[0x80]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn refuses_v1_and_unknown_versions() {
        assert_eq!(
            Message::from_bytes(&[0x81, 1, 0, 0]),
            Err(DecodeError::MessageV1Refused)
        );
        assert_eq!(
            Message::from_bytes(&[0x85, 1, 0, 0]),
            Err(DecodeError::UnsupportedVersion(5))
        );
        assert_eq!(
            Decoded::from_bytes(&[0x81, 1, 0, 0]),
            Err(DecodeError::MessageV1Refused)
        );
    }
}
