// A resource behind HTTP 402 (x402 v2, `exact` on Solana), its facilitator being x402's own
// code (@x402/svm's ExactSvmScheme): for the README's walkthrough and the tests.
//
//   node tests/x402/resource-server.mjs --rpc URL --pay-to ADDRESS --amount BASE_UNITS
//        [--asset MINT] [--network CAIP2] [--port N] [--body JSON]
//
// It makes a fee-payer key, funds it with an airdrop from the RPC, and prints one JSON line,
// {"url", "fee_payer"}, once it listens. GET without PAYMENT-SIGNATURE: 402 with the
// requirements in PAYMENT-REQUIRED (base64 JSON) and the body. GET with it: the payload's
// `accepted` must equal the requirement (key order aside, as @x402/core compares), then
// ExactSvmScheme verifies and settles it on the RPC; 200 with the body and PAYMENT-RESPONSE.
// An https RPC with a private CA needs NODE_EXTRA_CA_CERTS.
import http from "node:http";
import { parseArgs } from "node:util";
import { generateKeyPairSigner, createSolanaRpc, lamports } from "@solana/kit";
import { toFacilitatorSvmSigner } from "@x402/svm";
import { ExactSvmScheme } from "@x402/svm/exact/facilitator";

const { values: args } = parseArgs({
  options: {
    rpc: { type: "string" },
    "pay-to": { type: "string" },
    amount: { type: "string" },
    asset: { type: "string", default: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v" },
    network: { type: "string", default: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1" },
    port: { type: "string", default: "0" },
    body: { type: "string", default: '{"forecast":"sunny"}' },
  },
});
for (const required of ["rpc", "pay-to", "amount"]) {
  if (!args[required]) throw new Error(`--${required} is required`);
}

const feePayer = await generateKeyPairSigner();
await createSolanaRpc(args.rpc).requestAirdrop(feePayer.address, lamports(1_000_000_000n)).send();
const scheme = new ExactSvmScheme(toFacilitatorSvmSigner(feePayer, { defaultRpcUrl: args.rpc }));

const sorted = (value) =>
  Array.isArray(value)
    ? value.map(sorted)
    : value && typeof value === "object"
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]))
      : value;
const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
const base64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64");
const bigints = (_, v) => (typeof v === "bigint" ? v.toString() : v);

const server = http.createServer(async (request, response) => {
  const url = `http://${request.headers.host}${request.url}`;
  const requirement = {
    scheme: "exact",
    network: args.network,
    amount: args.amount,
    asset: args.asset,
    payTo: args["pay-to"],
    maxTimeoutSeconds: 60,
    extra: { feePayer: feePayer.address },
  };
  const ask = (error) => {
    const required = {
      x402Version: 2,
      error,
      resource: { url, description: "a paid resource", mimeType: "application/json" },
      accepts: [requirement],
    };
    response.writeHead(402, { "content-type": "application/json", "PAYMENT-REQUIRED": base64(required) });
    response.end(JSON.stringify(required));
  };
  const header = request.headers["payment-signature"];
  if (!header) return ask("PAYMENT-SIGNATURE header is required");
  let payload;
  try {
    payload = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  } catch {
    return ask("the PAYMENT-SIGNATURE header does not decode");
  }
  if (!same(payload.accepted, requirement)) return ask("the payment accepted other requirements");
  try {
    const verified = await scheme.verify(payload, requirement);
    if (!verified.isValid) return ask(`payment invalid: ${verified.invalidReason}`);
    const settled = await scheme.settle(payload, requirement);
    if (!settled.success) return ask(`payment not settled: ${settled.errorReason}`);
    response.writeHead(200, {
      "content-type": "application/json",
      "PAYMENT-RESPONSE": Buffer.from(JSON.stringify(settled, bigints)).toString("base64"),
    });
    response.end(args.body);
  } catch (error) {
    ask(`facilitator error: ${error.message}`);
  }
});
server.listen(Number(args.port), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/resource`, fee_payer: feePayer.address }));
});
