// A presence storm: N atendentes of one tenant connect at once (after a restart, say), with
// socket.io-client's default options; how long until everyone is connected and has seen the whole
// team online, and how many presence deliveries it cost.
//
//   cd tests/node && node ../../bench/presence_storm.mjs URL TOKENS_FILE legado|lote [SECONDS]
//
// TOKENS_FILE: one JWT per line, each an atendente of the same tenant (bench/presence_storm.sh makes
// them). "lote" asks for batched presence (auth.presenca = "lote", event atendente:presenca); "legado"
// counts the seed's atendente:online. Done: for "lote", when every client's team (whole team on
// connect, then the batches) has all N online; for "legado", when every client is connected and no
// presence event arrived for 2 s (a legacy client cannot tell it has the whole team: it would read
// GET /atendimento/atendentes once and follow the events). Also samples GET /health every 50 ms: its
// worst latency stands for the server's event loop lag during the storm.
// Prints one JSON line: {n, mode, connectedS, wholeTeamS, deliveries, perClient, handshakeRetries, healthMaxMs}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
const require = createRequire(process.cwd() + "/");
const { io } = require("socket.io-client");

const [url, tokensFile, mode = "lote", limitS = "300"] = process.argv.slice(2);
const tokens = readFileSync(tokensFile, "utf8").split("\n").filter(Boolean);
const n = tokens.length;
const ids = tokens.map((t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url").toString()).sub);
const start = performance.now();
const secs = () => (performance.now() - start) / 1000;
let connected = 0, deliveries = 0, retries = 0, lastPresence = start, connectedS = null, wholeTeamS = null;
let complete = 0, healthMaxMs = 0;
const sockets = [];

for (let i = 0; i < n; i++) {
  const auth = mode === "lote" ? { token: tokens[i], presenca: "lote" } : { token: tokens[i] };
  const socket = io(url + "/atendimento", { auth, forceNew: true });
  const team = new Map();
  let done = false;
  socket.on("connect", () => {
    if (++connected === n) connectedS = secs();
  });
  socket.on("connect_error", (err) => {
    if (err.data) console.error("CONNECT_ERROR", JSON.stringify(err.data)); // the server refused: a bug here
    retries++;
  });
  socket.on("atendente:online", () => {
    deliveries++;
    lastPresence = performance.now();
  });
  socket.on("atendente:presenca", (lote) => {
    deliveries++;
    lastPresence = performance.now();
    if (lote.completo) team.clear();
    for (const a of lote.atendentes) team.set(a.atendenteId, a.online);
    if (!done && ids.every((id) => team.get(id) === true)) {
      done = true;
      if (++complete === n) wholeTeamS = secs();
    }
  });
  sockets.push(socket);
}

const health = setInterval(async () => {
  const t0 = performance.now();
  try {
    await fetch(url + "/health");
    healthMaxMs = Math.max(healthMaxMs, performance.now() - t0);
  } catch {}
}, 50);

const timer = setInterval(() => {
  const quiet = connected === n && performance.now() - lastPresence > 2000;
  if (mode === "legado" && quiet && wholeTeamS === null) wholeTeamS = Math.max(connectedS, (lastPresence - start) / 1000);
  if (wholeTeamS !== null || secs() > Number(limitS)) {
    clearInterval(timer);
    clearInterval(health);
    const out = { n, mode, connectedS, wholeTeamS, deliveries, perClient: +(deliveries / n).toFixed(1), handshakeRetries: retries, healthMaxMs: Math.round(healthMaxMs) };
    console.log(JSON.stringify(out));
    for (const s of sockets) s.disconnect();
    setTimeout(() => process.exit(wholeTeamS === null ? 1 : 0), 200);
  }
}, 100);
