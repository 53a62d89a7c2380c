// Sizing ATENDIMENTO_HANDSHAKES_PER_SECOND: open socket.io-client connections (default options:
// polling, then the upgrade) at a steady RATE per second for SECONDS, against a server whose budget
// is off. bench/handshake_rate.sh runs it beside a probe of the server's responsiveness in another
// process (this one's own loop is busy with the clients).
//
//   cd tests/node && node ../../bench/handshake_rate.mjs URL TOKENS_FILE RATE [SECONDS]
//
// Prints one JSON line: {rate, opened, connected, connectP50Ms, connectMaxMs}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const require = createRequire(process.cwd() + "/");
const { io } = require("socket.io-client");

const [url, tokensFile, rateArg, secondsArg = "5"] = process.argv.slice(2);
const tokens = readFileSync(tokensFile, "utf8").split("\n").filter(Boolean);
const rate = Number(rateArg), seconds = Number(secondsArg);
const total = Math.round(rate * seconds);
const sockets = [], connects = [];
let opened = 0;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]) : null;
};

const start = performance.now();
const opener = setInterval(() => {
  const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
  while (opened < due) {
    const t0 = performance.now();
    const socket = io(url + "/atendimento", { auth: { token: tokens[opened % tokens.length] }, forceNew: true });
    socket.once("connect", () => connects.push(performance.now() - t0));
    sockets.push(socket);
    opened++;
  }
  if (opened >= total) clearInterval(opener);
}, 10);

setTimeout(() => {
  const out = {
    rate, opened, connected: connects.length,
    connectP50Ms: pct(connects, 0.5), connectMaxMs: pct(connects, 1),
  };
  console.log(JSON.stringify(out));
  for (const s of sockets) s.disconnect();
  setTimeout(() => process.exit(0), 200);
}, (seconds + 3) * 1000);
