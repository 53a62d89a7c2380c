// Drives the real socket.io-client for the Python tests.
//
// Reads one JSON command per line on stdin and prints one JSON record per line on stdout, so a
// test can run several named clients in one node process:
//   {"op": "connect", "client": "ana", "url": "http://127.0.0.1:PORT/atendimento", "options": {...}}
//   {"op": "emit", "client": "ana", "event": "ticket:entrar", "args": [{...}], "ref": 3}
//        (with "ref" the emit asks for an ack and its answer comes back as {"type": "ack", "ref": 3})
//   {"op": "disconnect", "client": "ana"}
//   {"op": "exit"}
// Records: connect, connect_error, disconnect, event, ack, upgrade, error; each carries "client".
"use strict";

const { io } = require("socket.io-client");
const { print, serve } = require("./driver.js");

const sockets = new Map();

function connect(cmd) {
  // No reconnection: a test wants to see exactly what the server did, not a client retrying.
  const socket = io(cmd.url, { forceNew: true, reconnection: false, ...(cmd.options || {}) });
  const client = cmd.client;
  sockets.set(client, socket);
  socket.on("connect", () => {
    const engine = socket.io.engine;
    print({ client, type: "connect", id: socket.id, transport: engine.transport.name });
    engine.on("upgrade", (transport) => print({ client, type: "upgrade", transport: transport.name }));
  });
  socket.on("connect_error", (err) => {
    print({ client, type: "connect_error", message: err.message, data: err.data === undefined ? null : err.data });
  });
  socket.on("disconnect", (reason) => print({ client, type: "disconnect", reason }));
  socket.onAny((event, ...args) => print({ client, type: "event", event, args }));
}

function emit(cmd) {
  const socket = sockets.get(cmd.client);
  if (!socket) {
    print({ client: cmd.client, type: "error", message: "unknown client" });
    return;
  }
  const args = cmd.args || [];
  if (cmd.ref === undefined || cmd.ref === null) {
    socket.emit(cmd.event, ...args);
    return;
  }
  socket.timeout(cmd.timeoutMs || 5000).emit(cmd.event, ...args, (err, ...answer) => {
    if (err) {
      print({ client: cmd.client, type: "ack", ref: cmd.ref, timeout: true, args: [] });
    } else {
      print({ client: cmd.client, type: "ack", ref: cmd.ref, args: answer });
    }
  });
}

function closeAll() {
  for (const socket of sockets.values()) socket.disconnect();
}

serve(
  {
    connect,
    emit,
    disconnect: (cmd) => sockets.get(cmd.client)?.disconnect(),
  },
  closeAll,
);
