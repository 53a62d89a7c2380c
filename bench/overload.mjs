// Issue 13, "overload is graceful": POST messages open-loop at a given rate (past capacity) and count,
// per answer status, how many were accepted and refused, how fast each answer came, and whether every
// accepted write's mensagem:nova reached the sockets in the ticket's room.
//
//   node bench/overload.mjs BASE RATE SECONDS [SOCKETS]     (run from a folder with socket.io-client)
//
// Prints one JSON line: accepted/refused counts, Retry-After seen, answer latency p50/p99 for each,
// event latency p50/p99 for accepted writes, and accepted writes whose event never came (must be 0).
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/");
const { io } = require("socket.io-client");

const [BASE, RATE, SECS, NS] = [process.argv[2], +(process.argv[3] || 400), +(process.argv[4] || 10), +(process.argv[5] || 4)];
const json = { "content-type": "application/json" };
const login = async (email) =>
  (await (await fetch(BASE + "/auth/login", { method: "POST", headers: json, body: JSON.stringify({ email, senha: "demo-senha" }) })).json()).data.access_token;
const gestor = await login("gestor@demo.local");
const ana = await login("ana@demo.local");
const auth = { ...json, authorization: "Bearer " + gestor };
const lista = await (await fetch(BASE + "/atendimento/tickets", { headers: auth })).json();
const modelo = (lista.data.items || lista.data)[0];
const ticket = (await (await fetch(BASE + "/atendimento/tickets", {
  method: "POST", headers: auth,
  body: JSON.stringify({ clienteId: modelo.clienteId, canalId: modelo.canalId, filaId: modelo.filaId, assunto: "sobrecarga" }),
})).json()).data;

const enviadoEm = new Map(); // conteudo -> send time
const eventos = new Map(); // conteudo -> sockets that got it
const latEvento = [];
const sockets = [];
for (let i = 0; i < NS; i++) {
  const s = io(BASE + "/atendimento", { auth: { token: ana }, transports: ["websocket"], forceNew: true, reconnection: false });
  await new Promise((r) => s.once("connect", r));
  await s.timeout(5000).emitWithAck("ticket:entrar", { ticketId: ticket.id });
  s.on("mensagem:nova", (m) => {
    const t = enviadoEm.get(m.conteudo);
    if (t === undefined) return;
    latEvento.push(performance.now() - t);
    eventos.set(m.conteudo, (eventos.get(m.conteudo) || 0) + 1);
  });
  sockets.push(s);
}

const porStatus = {}; const latPorStatus = {}; let retryAfter = 0; let falhas = 0;
const aceitos = [];
const pedidos = [];
const n = RATE * SECS; const inicio = performance.now();
for (let i = 0; i < n; i++) {
  const devido = inicio + (i * 1000) / RATE; const espera = devido - performance.now();
  if (espera > 0) await new Promise((r) => setTimeout(r, espera));
  const conteudo = "s" + i; const t = performance.now(); enviadoEm.set(conteudo, t);
  pedidos.push(fetch(`${BASE}/atendimento/tickets/${ticket.id}/mensagens`, { method: "POST", headers: auth, body: JSON.stringify({ tipo: "texto", conteudo }) })
    .then(async (r) => {
      await r.arrayBuffer();
      porStatus[r.status] = (porStatus[r.status] || 0) + 1;
      (latPorStatus[r.status] ||= []).push(performance.now() - t);
      if (r.status === 503 && r.headers.get("retry-after")) retryAfter++;
      if (r.status === 201 || r.status === 200) aceitos.push(conteudo);
    })
    .catch(() => { falhas++; }));
}
await Promise.all(pedidos);
await new Promise((r) => setTimeout(r, 2000));
const q = (xs, p) => { if (!xs.length) return null; const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.floor(s.length * p))].toFixed(1); };
const respostas = Object.fromEntries(Object.entries(latPorStatus).map(([k, v]) => [k, { n: v.length, p50_ms: q(v, 0.5), p99_ms: q(v, 0.99), max_ms: q(v, 1) }]));
const semEvento = aceitos.filter((c) => (eventos.get(c) || 0) < NS).length;
console.log(JSON.stringify({
  rate: RATE, seconds: SECS, sockets: NS, sent: n, network_errors: falhas, by_status: respostas,
  refused_with_retry_after: retryAfter, accepted: aceitos.length, accepted_without_all_events: semEvento,
  event_p50_ms: q(latEvento, 0.5), event_p99_ms: q(latEvento, 0.99),
}));
sockets.forEach((s) => s.close());
process.exit(0);
