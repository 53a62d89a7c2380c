// The one node driver of the Python tests (tests/apoio_node.py, ``NodeClients``): the real
// socket.io-client 4.8.1, many named clients in one process, one JSON command per stdin line and one
// JSON record per stdout line ("ready" once commands are read; {"op": "exit"} or the end of stdin
// closes every client and ends the process; a command that throws prints an "error" record).
//
// Commands:
//   {"op": "connect", "client": "ana", "url": "http://127.0.0.1:PORT/ns", "options": {...}}
//        No reconnection unless the options ask for it ({"reconnection": true}: the client's own
//        defaults, as an unmodified front end recovering after a network cut).
//   {"op": "connect", "client": "b", "via": "ana", "namespace": "/chat"}: multiplexing, a namespace
//        opened on the Manager (the one Engine.IO connection) of client "ana";
//   {"op": "emit", "client", "event", "args": [...]} (with "ref" and "timeoutMs" it asks for an ack,
//        answered by {"type": "ack", "ref", "args"} or {"type": "ack", "ref", "timeout": true});
//   {"op": "ack", "client", "ack": n, "args": [...]}: answer an ack the SERVER asked for (the event
//        record carries "ack": n; a test may also never answer, to test the timeout);
//   {"op": "burst", "client", "event", "count", "payload"?}: emit event(i[, payload]) for i in
//        0..count-1 synchronously, in one loop turn;
//   {"op": "state", "client", "ref"}: connected, active, id, engine id and transport name, right now;
//   {"op": "drop", "client"}: lose the transport (socket.io.engine.close()), as a network cut does;
//   {"op": "auth", "client", "auth": {...}}: what the next CONNECT sends (a renewed token);
//   {"op": "disconnect", "client"}, {"op": "exit"}.
// Binary values: {"$buffer": "<base64>"} is a Buffer and {"$arraybuffer": "<base64>"} an ArrayBuffer,
// in commands and in records, at any depth.
// Records: ready, open, connect (id, recovered, pid, transport), connect_error, disconnect, upgrade,
// ping, reconnect_attempt, event, ack, state, error; each carries "client". open (an Engine.IO
// connection opened), connect, event and ack carry "transport": the transport the packet ARRIVED on.
// socket.io-client hands decoded packets to the socket one tick later (setTimeout 0), by which time an
// upgrade may have switched the engine's transport, so the name is taken when Engine.IO delivers the
// message and matched in order.
"use strict";

const readline = require("node:readline");
const { io } = require("socket.io-client");

function print(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

const sockets = new Map();
const pendingAcks = new Map(); // "client#n" -> the ack function socket.io-client gave the listener
let nextAck = 1;

function toWire(value) {
  if (Buffer.isBuffer(value)) return { $buffer: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $arraybuffer: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    return { $buffer: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = toWire(item);
    return out;
  }
  return value;
}

function fromWire(value) {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$buffer") return Buffer.from(value.$buffer, "base64");
    if (keys.length === 1 && keys[0] === "$arraybuffer") {
      const bytes = Buffer.from(value.$arraybuffer, "base64");
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    }
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromWire(item);
    return out;
  }
  return value;
}

function transportOf(socket) {
  const engine = socket.io.engine;
  return engine && engine.transport ? engine.transport.name : null;
}

// Per Manager: the transport of each text message Engine.IO delivered and Socket.IO has not decoded yet
// (every Socket.IO packet starts with exactly one text message), and the one of the packet in hand.
const arrivals = new WeakMap();

function arrivedOn(socket) {
  const state = arrivals.get(socket.io);
  return state ? state.current : null;
}

function trackManager(client, manager) {
  const state = { pending: [], current: null };
  arrivals.set(manager, state);
  // Registered before any Socket subscribes to the Manager, so this runs first for every packet.
  manager.on("packet", () => {
    state.current = state.pending.shift() || null;
  });
  manager.on("reconnect_attempt", (attempt) => print({ client, type: "reconnect_attempt", attempt }));
  // Every Engine.IO connection the Manager opens (the first one and each reconnection).
  manager.on("open", () => {
    const engine = manager.engine;
    state.pending = [];
    print({ client, type: "open", transport: engine.transport.name, engineId: engine.id });
    engine.on("packet", (packet) => {
      if (packet.type === "message" && typeof packet.data === "string") state.pending.push(engine.transport.name);
    });
    engine.on("upgrade", (transport) => print({ client, type: "upgrade", transport: transport.name }));
    engine.on("ping", () => print({ client, type: "ping", transport: engine.transport.name }));
  });
}

function watch(client, socket) {
  socket.on("connect", () => {
    print({
      client,
      type: "connect",
      id: socket.id,
      recovered: socket.recovered,
      pid: socket._pid === undefined ? null : socket._pid, // private in the client; tests replay and forge it
      transport: arrivedOn(socket),
    });
  });
  socket.on("connect_error", (err) => {
    print({
      client,
      type: "connect_error",
      message: err.message,
      data: err.data === undefined ? null : toWire(err.data),
      active: socket.active,
    });
  });
  socket.on("disconnect", (reason) => {
    print({ client, type: "disconnect", reason, active: socket.active });
  });
  socket.onAny((event, ...args) => {
    const record = { client, type: "event", event, transport: arrivedOn(socket) };
    if (args.length && typeof args[args.length - 1] === "function") {
      const n = nextAck++;
      pendingAcks.set(client + "#" + n, args.pop());
      record.ack = n;
    }
    record.args = toWire(args);
    print(record);
  });
}

function connect(cmd) {
  const client = cmd.client;
  let socket;
  if (cmd.via) {
    const other = sockets.get(cmd.via);
    if (!other) throw new Error("unknown client " + cmd.via);
    socket = other.io.socket(cmd.namespace, cmd.options || {});
    watch(client, socket);
    socket.connect();
  } else {
    // No reconnection unless a test asks for it: a test wants to see exactly what the server did.
    socket = io(cmd.url, { forceNew: true, reconnection: false, autoConnect: false, ...(cmd.options || {}) });
    trackManager(client, socket.io);
    watch(client, socket);
    socket.connect();
  }
  sockets.set(client, socket);
}

function socketOf(cmd) {
  const socket = sockets.get(cmd.client);
  if (!socket) throw new Error("unknown client " + cmd.client);
  return socket;
}

function emit(cmd) {
  const socket = socketOf(cmd);
  const args = fromWire(cmd.args || []);
  if (cmd.ref === undefined || cmd.ref === null) {
    socket.emit(cmd.event, ...args);
    return;
  }
  socket.timeout(cmd.timeoutMs || 5000).emit(cmd.event, ...args, (err, ...answer) => {
    const record = { client: cmd.client, type: "ack", ref: cmd.ref, transport: arrivedOn(socket) };
    if (err) {
      record.timeout = true;
      record.args = [];
    } else {
      record.args = toWire(answer);
    }
    print(record);
  });
}

function ack(cmd) {
  const key = cmd.client + "#" + cmd.ack;
  const answer = pendingAcks.get(key);
  if (!answer) throw new Error("no pending ack " + key);
  pendingAcks.delete(key);
  answer(...fromWire(cmd.args || []));
}

function burst(cmd) {
  const socket = socketOf(cmd);
  const extra = cmd.payload === undefined ? [] : [fromWire(cmd.payload)];
  for (let i = 0; i < cmd.count; i++) socket.emit(cmd.event, i, ...extra);
}

function state(cmd) {
  const socket = socketOf(cmd);
  const engine = socket.io.engine;
  print({
    client: cmd.client,
    type: "state",
    ref: cmd.ref,
    connected: socket.connected,
    active: socket.active,
    id: socket.id === undefined ? null : socket.id,
    engineId: engine && engine.id ? engine.id : null,
    transport: transportOf(socket),
  });
}

function closeAll() {
  for (const socket of sockets.values()) socket.disconnect();
}

const ops = {
  connect,
  emit,
  ack,
  burst,
  state,
  drop: (cmd) => socketOf(cmd).io.engine.close(),
  auth: (cmd) => {
    socketOf(cmd).auth = cmd.auth;
  },
  disconnect: (cmd) => socketOf(cmd).disconnect(),
};

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    print({ type: "error", message: "bad command: " + err.message });
    return;
  }
  try {
    if (cmd.op === "exit") {
      closeAll();
      process.exit(0);
    } else if (Object.prototype.hasOwnProperty.call(ops, cmd.op)) ops[cmd.op](cmd);
    else print({ type: "error", message: "unknown op " + cmd.op });
  } catch (err) {
    print({ client: cmd.client, type: "error", message: String(err && err.message) });
  }
});
rl.on("close", () => {
  closeAll();
  process.exit(0);
});
print({ type: "ready" });
