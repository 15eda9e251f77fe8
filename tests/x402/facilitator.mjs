// x402's reference facilitator for the `exact` scheme on Solana (@x402/svm's ExactSvmScheme,
// the code a resource server's facilitator runs), driven by the Rust tests: one JSON request
// on stdin, one JSON answer on stdout.
//
//   {"command": "verify" | "settle", "payload": PaymentPayload, "requirements": PaymentRequirements,
//    "rpc_url": "https://...", "fee_payer_secret": [64 bytes]}
//
// `verify` answers x402's VerifyResponse; `settle` its SettleResponse (it signs as the fee payer
// and sends the transaction to `rpc_url`). The devnet's CA is trusted through NODE_EXTRA_CA_CERTS.
import { createKeyPairSignerFromBytes } from "@solana/kit";
import { toFacilitatorSvmSigner } from "@x402/svm";
import { ExactSvmScheme } from "@x402/svm/exact/facilitator";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const keypair = await createKeyPairSignerFromBytes(Uint8Array.from(request.fee_payer_secret));
const signer = toFacilitatorSvmSigner(keypair, { defaultRpcUrl: request.rpc_url });
const scheme = new ExactSvmScheme(signer);

let answer;
switch (request.command) {
  case "verify":
    answer = await scheme.verify(request.payload, request.requirements);
    break;
  case "settle":
    answer = await scheme.settle(request.payload, request.requirements);
    break;
  default:
    throw new Error(`unknown command ${request.command}`);
}
process.stdout.write(JSON.stringify(answer, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
