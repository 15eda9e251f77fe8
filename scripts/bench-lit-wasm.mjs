// Lit's own WASM (@lit-protocol/wasm) on the inputs scripts/bench generated: blsDecrypt with
// the threshold's shares (Lit combines and decrypts), and blsCombine + blsVerify +
// blsDecrypt (every check, as our path does). Prints medians in milliseconds as JSON.
// Usage: node bench-lit-wasm.mjs INPUTS.json RUNS   (with @lit-protocol/wasm resolvable)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.cwd() + "/");
const { blsCombine, blsDecrypt, blsVerify } = require("@lit-protocol/wasm");

const [inputsPath, runsText] = process.argv.slice(2);
const runs = Number(runsText || 20);
const input = JSON.parse(readFileSync(inputsPath, "utf8"));
const ciphertext = Uint8Array.from(Buffer.from(input.ciphertext, "base64"));
const key = Uint8Array.from(Buffer.from(input.networkPublicKey, "hex"));
const identity = new TextEncoder().encode(input.identity);
const expected = input.plaintextHex;

async function median(fn) {
  await fn(); // warm-up, and the correctness check inside fn
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const decryptOnly = await median(async () => {
  const plaintext = await blsDecrypt(ciphertext, input.shares);
  if (Buffer.from(plaintext).toString("hex") !== expected) throw new Error("Lit's blsDecrypt gave another plaintext");
});
const everyCheck = await median(async () => {
  const signature = await blsCombine(input.shares);
  await blsVerify(key, identity, signature);
  const plaintext = await blsDecrypt(ciphertext, input.shares);
  if (Buffer.from(plaintext).toString("hex") !== expected) throw new Error("Lit's blsDecrypt gave another plaintext");
});
console.log(JSON.stringify({ blsDecrypt_median_ms: decryptOnly, combine_verify_decrypt_median_ms: everyCheck, runs }));
