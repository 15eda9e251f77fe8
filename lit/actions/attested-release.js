// aip-signer attested release: the Lit Action behind the condition
//   {"contractAddress":"ipfs://<CID of this file>","standardContractType":"LitAction",
//    "method":"go","parameters":[":litParam:attestation","<allowed sets sha256>"],
//    "returnValueTest":{"comparator":"=","value":"true"}}
// A node releases its decryption share only when `go` returns "true".
//
// The attestation parameter (JSON):
//   { "evidence": <aip-signer evidence envelope>,
//     "boundKeys": { "tlsSpkiDer": b64, "signingPublicKey": hex, "hpkePublicKey": hex,
//                    "configSha256": hex },
//     "challenges": [hex, ...] }            // one challenge per node, from /web/handshake
//
// The same checks, in the same order, are implemented natively by the devnet
// (devnet/src/lit/attested.rs) with aip-attestation; keep both in step:
//   1. the allowed sets given to the action hash to the pinned value (second parameter);
//   2. this node's challenge is among the challenges, unexpired and unused;
//   3. nonce = SHA-256(challenges concatenated, in the given order);
//   4. the evidence verifies (chain to the pinned AWS/AMD root, signature, validity now,
//      debug refused unless allowed, measurement in a live allowed set) with that nonce and
//      binds the keys (spec: attestation/spec/binding.md);
//   5. the node then seals its share with HPKE to boundKeys.hpkePublicKey (the node does
//      this, not the action).
// Certificate-chain and COSE/SNP signature checks need a verifier bundled with the action:
// `verifyEvidence` is aip-attestation compiled to WASM (deployment step, not in this repo's
// build). Without it the action fails closed.

const ALLOWED_SETS = globalThis.aipAllowedSets; // canonical JSON of the measurement policy

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error("not lowercase hex");
  return Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));
}

async function go(attestationJson, allowedSetsHash) {
  try {
    if (typeof verifyEvidence !== "function" || typeof ALLOWED_SETS !== "string") return "false";
    if ((await sha256Hex(new TextEncoder().encode(ALLOWED_SETS))) !== allowedSetsHash) return "false";
    const attestation = JSON.parse(attestationJson);
    const challenges = attestation.challenges.map(hexToBytes);
    if (!challenges.length || !(await Lit.Actions.checkChallenge?.(attestation.challenges))) return "false";
    const joined = new Uint8Array(challenges.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of challenges) {
      joined.set(c, offset);
      offset += c.length;
    }
    const nonce = hexToBytes(await sha256Hex(joined));
    const verdict = await verifyEvidence({
      evidence: attestation.evidence,
      policy: ALLOWED_SETS,
      nonce,
      boundKeys: attestation.boundKeys,
      at: Math.floor(Date.now() / 1000),
    });
    return verdict && verdict.valid === true ? "true" : "false";
  } catch (_) {
    return "false";
  }
}
