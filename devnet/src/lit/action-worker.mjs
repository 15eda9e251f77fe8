// A long-lived Lit Action runner for aip-devnet: one JSON request per line on stdin,
// {"id": N, "code": "..."} (the action with Lit's wrapper already appended); one answer per
// line on stdout, {"id": N, "response": <what setResponse got>} or {"id": N, "error": "..."}.
// Each action runs in a fresh context with WebCrypto, TextEncoder/TextDecoder, console and
// `Lit.Actions.setResponse`, and nothing of Node's own API, as in a Lit node's Deno runtime;
// only the process is reused, so a release does not pay for starting Node three times.
import vm from "node:vm";
import readline from "node:readline";

const answer = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const log = (...parts) => process.stderr.write(`${parts.join(" ")}\n`);

async function run(id, code) {
  let response = null;
  const Lit = { Actions: { setResponse: ({ response: value }) => { response = String(value); } } };
  const context = vm.createContext({
    crypto: globalThis.crypto,
    TextEncoder,
    TextDecoder,
    console: { log, error: log, warn: log, info: log },
    Lit,
  });
  try {
    // Lit's wrapper ends with `litAsyncWrapper();`: the script's value is its promise.
    await vm.runInContext(code, context, { filename: "action.js" });
    answer({ id, response });
  } catch (error) {
    answer({ id, error: `the action failed: ${error && error.stack ? error.stack : error}` });
  }
}

// A promise an action left behind and nobody awaited must not stop the runner.
process.on("unhandledRejection", (error) => log(`an action left a rejected promise: ${error}`));

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    log(`not a request: ${error}`);
    return;
  }
  run(request.id, request.code);
});
lines.on("close", () => process.exit(0));
