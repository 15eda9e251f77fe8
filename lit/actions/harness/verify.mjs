// Runs lit/actions/attested-release.js the way a Lit node's Deno runtime would see it (a fresh
// context with WebCrypto, TextEncoder/TextDecoder and nothing of Node's), and answers
// verification requests for tests: one JSON object per input line,
//   {"id": n, "envelope": {...}, "sets": <canonical allowed sets> | null, "at": unix_seconds,
//    "devRoot": base64 DER | null}
// one JSON line back per request: {"id": n, "ok": bool, "kind": failure class | null,
// "what": reason | null}. Usage: node verify.mjs ACTION_FILE < requests
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import vm from "node:vm";

const code = readFileSync(process.argv[2], "utf8");
const context = vm.createContext({ crypto: globalThis.crypto, TextEncoder, TextDecoder });
const action = vm.runInContext(`${code}\n;({ verifyEvidence, go, fromBase64 })`, context);

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  let answer;
  try {
    const options = request.devRoot ? { devRoot: action.fromBase64(request.devRoot) } : {};
    await action.verifyEvidence(request.envelope, request.sets, request.at, options);
    answer = { id: request.id, ok: true, kind: null, what: null };
  } catch (error) {
    answer = { id: request.id, ok: false, kind: error.kind || "exception", what: String(error.message) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
