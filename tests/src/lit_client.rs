//! A Naga client for tests, blocking, over HTTPS with the devnets' CA: the bytes are built by
//! aip-lit's `naga` (what the enclave sends), or changed by the test on purpose.

use aip_enclave::release::ReleaseKey;
use aip_lit::e2ee::BoxKey;
use aip_lit::naga::{
    capability_message, handshake_request, open_answer, read_handshake, seal, Capability,
    DecryptionRequest, NodeHandshake, SessionTerms, HANDSHAKE_PATH, SIGN_PATH,
};
use aip_lit::session_sig::SessionKey;
use aip_lit::siwe::{rfc3339, SiweMessage};
use aip_lit::{Conditions, NetworkKey};
use serde_json::Value;

/// A node after its handshake.
#[derive(Debug, Clone)]
pub struct NagaNode {
    pub url: String,
    /// `host:port`, what a session signature must name.
    pub address: String,
    pub handshake: NodeHandshake,
}

/// Handshakes with the node at `url`; `Err` if it is down or not on `network_key`.
pub fn handshake(
    agent: &ureq::Agent,
    url: &str,
    network_key: &NetworkKey,
) -> Result<NagaNode, String> {
    let (_, answer) = post(
        agent,
        &format!("{url}{HANDSHAKE_PATH}"),
        &handshake_request("test", "00"),
    )?;
    let handshake = read_handshake(&answer, network_key).map_err(|e| e.to_string())?;
    Ok(NagaNode {
        url: url.to_owned(),
        address: crate::devnet::host_port(url).to_owned(),
        handshake,
    })
}

/// POSTs JSON; the status and body of any answer.
pub fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Result<(u16, Vec<u8>), String> {
    let response = match agent.post(url).send_json(body.clone()) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(e) => return Err(e.to_string()),
    };
    let status = response.status();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut bytes)
        .map_err(|e| e.to_string())?;
    Ok((status, bytes))
}

/// Asks `node` for its share of `request`'s identity: the share JSON, or the node's reason.
pub fn ask(
    agent: &ureq::Agent,
    node: &NagaNode,
    request: &DecryptionRequest,
) -> Result<String, String> {
    let sealed = request
        .seal_for(&node.address, &node.handshake, crate::unix_now())
        .map_err(|e| e.to_string())?;
    let (_, answer) = post(
        agent,
        &format!("{}{SIGN_PATH}", node.url),
        &serde_json::to_value(&sealed.payload).unwrap(),
    )?;
    sealed.open_answer(&answer).map_err(|e| error_chain(&e))
}

/// Sends an opened sign request `body` of the test's own making, sealed with `box_key`.
pub fn ask_with_body(
    agent: &ureq::Agent,
    node: &NagaNode,
    box_key: &BoxKey,
    body: &Value,
) -> Result<String, String> {
    let sealed =
        seal(box_key, body, &node.handshake, crate::unix_now()).map_err(|e| e.to_string())?;
    let (_, answer) = post(
        agent,
        &format!("{}{SIGN_PATH}", node.url),
        &serde_json::to_value(sealed).unwrap(),
    )?;
    open_answer(box_key, &node.handshake, &answer).map_err(|e| error_chain(&e))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    aip_wire::process::error_chain(error)
}

/// The sign-in a test wallet signs at `now` to delegate decrypting `identity` to `session`:
/// no sign-in resources, valid from a minute before `now` for ten minutes.
pub fn wallet_capability(
    wallet: &ReleaseKey,
    session: &SessionKey,
    identity: &str,
    now: i64,
) -> SiweMessage {
    capability_message(
        Capability {
            address: wallet.address(),
            domain: "localhost",
            statement: "aip-signer tests.",
            nonce: "0123456789abcdef",
            issued_at: now - 60,
            expiration: now + 600,
            extra_resources: vec![],
        },
        session,
        identity,
    )
}

/// The session terms of a test request at `now`: the sign-in's window, no price.
pub fn session_terms(now: i64) -> SessionTerms {
    SessionTerms {
        issued_at: rfc3339(now - 60).unwrap(),
        expiration: rfc3339(now + 600).unwrap(),
        max_price: "0".into(),
    }
}

/// A wallet's request to decrypt under `conditions` (conditions that need no sign-in
/// resources), valid for ten minutes.
pub fn wallet_request(
    wallet: &ReleaseKey,
    conditions: &Conditions,
    data_hash: &str,
) -> DecryptionRequest {
    let now = crate::unix_now();
    let session = SessionKey::generate();
    let message = wallet_capability(wallet, &session, &conditions.identity(data_hash), now);
    let capability = wallet.sign_in(&message).unwrap();
    DecryptionRequest::new(
        conditions.clone(),
        data_hash,
        capability,
        session,
        session_terms(now),
    )
}
