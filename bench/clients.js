// Load generator for the gateway benchmarks: raw Engine.IO v4 WebSocket clients on one namespace,
// spread over one or more servers, then rounds of broadcasts triggered over HTTP; it times each
// delivery from a wall-clock timestamp inside the payload and reads the servers' CPU from /proc.
//
//   NODE_PATH=/tmp/atendimento-bench-main/node_modules node bench/clients.js config.json
//
// config.json (written by bench/gateway_fanout.py and bench/cluster_fanout.py):
//   targets:   [{port, tokens: [jwt, ...]}]        one client per token, on that server
//   namespace: "/atendimento"; event: "ticket:novo"
//   stamp:     regex source whose group 1 is the emit time in ms (e.g. "bench \\d+ ([0-9.]+)")
//   trigger:   {port, kind: "gateway", empresa} → GET /bench/ticket-novo?empresa=E&count=C
//              {port, kind: "peer", room, payload} → GET /bench/emit?q={room,event,count,payload}
//              {kind: "emitter", redis, key, room} → @socket.io/redis-emitter (tests/node's, pinned;
//                 NODE_PATH): C × of(namespace).to(room).emit(event, {tipo, dados: {t}}), then a PING
//              {port, kind: "rest", token} → C concurrent POST /notificacoes {tipo, dados: {t}}
//   pids:      server pids whose utime+stime (/proc/<pid>/stat) are summed; also the threads'
//              schedstat on-CPU ns (finer; misses threads that ended during the round)
//   modes:     [{name, count, events}]: `events` events per round, `count` per trigger (a burst);
//              each round waits for every delivery of a trigger before the next trigger
//   rounds:    rounds per mode (median of them is reported); warmup: events before the first mode
// Prints one JSON line: {connect: {...}, modes: {name: {rounds: [...], median: {...}}}}.
'use strict';
const fs = require('fs');
const http = require('http');
const WebSocket = require('ws');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const now = () => performance.timeOrigin + performance.now();
const stamp = new RegExp(cfg.stamp);
const prefix = '42' + cfg.namespace + ',["' + cfg.event + '"';
const pids = cfg.pids || [];
const CLK = 100; // USER_HZ on Linux

function cpuOf(pid) { // ms
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (+f[11] + +f[12]) * (1000 / CLK);
}
function cpuMs() { let total = 0; for (const pid of pids) total += cpuOf(pid); return total; }
function cpuNs() { // on-CPU time of the live threads (schedstat, ns): finer than the 10 ms ticks of stat
  let total = 0;
  for (const pid of pids) {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try { total += +fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]; } catch (e) { /* gone */ }
    }
  }
  return total;
}
function rssKb() {
  let total = 0;
  for (const pid of pids) {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    total += m ? +m[1] : 0;
  }
  return total;
}
function pct(sorted, q) { return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] : null; }
function median(xs) { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; }

const clients = [];
let ready = 0, total = 0, received = 0, target = 0, done = null, lastOther = 0;
let lat = []; // [targetIndex, ms] pairs for the current round, flattened
for (const t of cfg.targets) total += t.tokens.length;

function open(targetIndex, token) {
  const port = cfg.targets[targetIndex].port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
  clients.push(ws);
  ws.on('message', (buf) => {
    const s = buf.toString();
    if (s.startsWith(prefix)) {
      const m = stamp.exec(s);
      if (m) lat.push(targetIndex, now() - +m[1]);
      if (++received === target && done) done();
    } else if (s === '2') ws.send('3');
    else if (s[0] === '0') ws.send('40' + cfg.namespace + ',' + JSON.stringify({ token }));
    else if (s.startsWith('40' + cfg.namespace)) { if (++ready === total) connected(); }
    else if (s.startsWith('44')) { console.error('connect error', s); process.exit(1); }
    else lastOther = now(); // other events (atendente:online from presence, ...): ignored
  });
  ws.on('error', (e) => { console.error('ws error', e.message); process.exit(1); });
  ws.on('close', () => { if (!finished) { console.error('socket closed by the server'); process.exit(1); } });
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => resolve(body));
    });
    req.on('error', reject); req.end();
  });
}
function post(port, path, token, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), authorization: 'Bearer ' + token };
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
      res.resume(); res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`POST ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject); req.end(data);
  });
}
let emitter = null;
async function emitterTrigger(t, count) {
  if (emitter === null) {
    const client = require('redis').createClient({ url: t.redis });
    await client.connect();
    const { Emitter } = require('@socket.io/redis-emitter');
    emitter = { client, op: new Emitter(client, { key: t.key }).of(cfg.namespace).to(t.room) };
  }
  for (let i = 0; i < count; i++) emitter.op.emit(cfg.event, { tipo: 'bench', dados: { t: now() } });
  await emitter.client.ping(); // commands go in order: the PUBLISHes are done
}
function trigger(count) {
  const t = cfg.trigger;
  if (t.kind === 'emitter') return emitterTrigger(t, count);
  if (t.kind === 'rest') {
    return Promise.all(Array.from({ length: count }, () => post(t.port, '/notificacoes', t.token, { tipo: 'bench', dados: { t: now() } })));
  }
  if (t.kind === 'gateway') return get(t.port, `/bench/ticket-novo?empresa=${encodeURIComponent(t.empresa)}&count=${count}`);
  const q = JSON.stringify({ room: t.room, event: cfg.event, count, payload: t.payload });
  return get(t.port, '/bench/emit?q=' + encodeURIComponent(q));
}
async function fire(count) { // one trigger; resolves when every client got `count` events
  target = received + count * total;
  const all = new Promise((r) => { done = r; });
  await trigger(count);
  await all;
  done = null;
}
async function quiet(ms) { // wait until no other traffic (presence edges) for `ms`
  while (now() - lastOther < ms) await new Promise((r) => setTimeout(r, ms));
}

async function round(mode) {
  lat = [];
  const triggers = Math.max(1, Math.round(mode.events / mode.count));
  const t0 = now(); const c0 = cpuMs(); const n0 = cpuNs(); const each0 = pids.map(cpuOf);
  for (let i = 0; i < triggers; i++) await fire(mode.count);
  const ms = now() - t0; const cpu = cpuMs() - c0; const ns = cpuNs() - n0;
  const deliveries = triggers * mode.count * total;
  const all = []; const per = cfg.targets.map(() => []);
  for (let i = 0; i < lat.length; i += 2) { all.push(lat[i + 1]); per[lat[i]].push(lat[i + 1]); }
  all.sort((a, b) => a - b); per.forEach((p) => p.sort((a, b) => a - b));
  const r = {
    deliveries, ms: +ms.toFixed(1), perSec: Math.round(deliveries / ms * 1000),
    cpuUsPerDelivery: +(cpu * 1000 / deliveries).toFixed(3), cpuMs: cpu,
    schedUsPerDelivery: +(ns / 1000 / deliveries).toFixed(3),
    p50: +pct(all, 0.5).toFixed(3), p99: +pct(all, 0.99).toFixed(3), max: +all[all.length - 1].toFixed(3),
  };
  if (pids.length > 1) r.cpuUsPerDeliveryByPid = pids.map((pid, i) => +((cpuOf(pid) - each0[i]) * 1000 / deliveries).toFixed(3));
  if (cfg.targets.length > 1) r.perTarget = per.map((p) => ({ p50: +pct(p, 0.5).toFixed(3), p99: +pct(p, 0.99).toFixed(3) }));
  return r;
}

let finished = false;
const rss0 = pids.length ? rssKb() : 0;
const t0c = now();
let connectStats;
async function connected() {
  const t1 = now();
  connectStats = {
    connected: total, connectMs: Math.round(t1 - t0c), connectsPerSec: Math.round(total / (t1 - t0c) * 1000),
    rssKbPerConnection: pids.length ? +((rssKb() - rss0) / total).toFixed(2) : null,
  };
  lastOther = now();
  await quiet(cfg.settleMs || 500);
  for (let i = 0; i < (cfg.warmup || 0); i++) await fire(1);
  const modes = {};
  for (const mode of cfg.modes) {
    const rounds = [];
    for (let k = 0; k < (cfg.rounds || 3); k++) rounds.push(await round(mode));
    const med = {};
    for (const key of ['cpuUsPerDelivery', 'schedUsPerDelivery', 'perSec', 'p50', 'p99', 'max']) med[key] = median(rounds.map((r) => r[key]));
    if (pids.length > 1) med.cpuUsPerDeliveryByPid = pids.map((_, i) => median(rounds.map((r) => r.cpuUsPerDeliveryByPid[i])));
    if (cfg.targets.length > 1) {
      med.perTarget = cfg.targets.map((_, i) => ({
        p50: median(rounds.map((r) => r.perTarget[i].p50)), p99: median(rounds.map((r) => r.perTarget[i].p99)),
      }));
    }
    modes[mode.name] = { count: mode.count, events: mode.events, rounds, median: med };
  }
  finished = true;
  console.log(JSON.stringify({ connect: connectStats, modes }));
  for (const ws of clients) ws.terminate();
  process.exit(0);
}

// Open the clients 50 at a time every 5 ms, round-robin over the targets' token lists.
const queue = [];
for (let i = 0, more = true; more; i++) {
  more = false;
  cfg.targets.forEach((t, ti) => { if (i < t.tokens.length) { queue.push([ti, t.tokens[i]]); more = true; } });
}
let qi = 0;
(function openSome() { for (let k = 0; k < 50 && qi < queue.length; k++, qi++) open(queue[qi][0], queue[qi][1]); if (qi < queue.length) setTimeout(openSome, 5); })();
setTimeout(() => { console.error('timeout; ready', ready, 'of', total, 'received', received, 'target', target); process.exit(2); }, cfg.timeoutMs || 240000);
