// Runs one Lit Action for aip-devnet, the way a Lit node's Deno runtime sees it: the code
// (with Lit's wrapper already appended) comes on stdin and runs in a fresh context with
// WebCrypto, TextEncoder/TextDecoder, console and `Lit.Actions.setResponse`, and nothing of
// Node's own API. Prints {"response": <what setResponse got>} once the action has finished.
import vm from "node:vm";

let code = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) code += chunk;

let response = null;
const Lit = { Actions: { setResponse: ({ response: value }) => { response = String(value); } } };
const log = (...parts) => process.stderr.write(`${parts.join(" ")}\n`);
const context = vm.createContext({ crypto: globalThis.crypto, TextEncoder, TextDecoder, console: { log, error: log, warn: log, info: log }, Lit });
process.on("unhandledRejection", (error) => {
  process.stderr.write(`the action failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
process.once("beforeExit", () => {
  process.stdout.write(`${JSON.stringify({ response })}\n`);
});
vm.runInContext(code, context, { filename: "action.js" });
