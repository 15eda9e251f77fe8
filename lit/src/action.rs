//! The attested-release Lit Action: its code (kept in `lit/actions/`) and its IPFS CID, which
//! the condition names as `ipfs://<CID>`.

/// The JavaScript of the attested-release action, byte for byte as deployed.
pub const ATTESTED_RELEASE_JS: &str = include_str!("../actions/attested-release.js");

/// The CID of the attested-release action.
pub fn attested_release_cid() -> String {
    cid_v0(ATTESTED_RELEASE_JS.as_bytes())
}

/// The CIDv0 `ipfs add` gives a file of at most 256 KiB (one chunk): base58btc of the
/// SHA-256 multihash of a dag-pb node whose Data is a UnixFS File message.
pub fn cid_v0(content: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let len = content.len() as u64;
    let mut unixfs = vec![0x08, 0x02]; // Type = File
    if !content.is_empty() {
        unixfs.push(0x12); // Data
        varint(&mut unixfs, len);
        unixfs.extend_from_slice(content);
    }
    unixfs.push(0x18); // filesize
    varint(&mut unixfs, len);
    let mut node = vec![0x0a]; // PBNode.Data
    varint(&mut node, unixfs.len() as u64);
    node.extend_from_slice(&unixfs);
    let mut multihash = vec![0x12, 0x20]; // sha2-256, 32 bytes
    multihash.extend_from_slice(&Sha256::digest(&node));
    bs58::encode(multihash).into_string()
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cids_match_ipfs_add() {
        // Well-known `ipfs add` results: the empty file and "hello world\n".
        assert_eq!(
            cid_v0(b""),
            "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
        );
        assert_eq!(
            cid_v0(b"hello world\n"),
            "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
        );
        assert!(attested_release_cid().starts_with("Qm"));
    }
}
