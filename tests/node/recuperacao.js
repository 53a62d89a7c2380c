// Drives socket.io-client with its default options (automatic reconnection on) for the connection
// state recovery tests: the client recovers by itself, as an unmodified front end would.
//
// Commands (JSON lines on stdin):
//   {"op": "connect", "client": "ana", "url": ".../atendimento", "options": {"auth": {...}}}
//   {"op": "drop", "client": "ana"}        lose the transport: socket.io.engine.close()
//   {"op": "auth", "client": "ana", "auth": {...}}   what the next CONNECT sends (a renewed token)
//   {"op": "emit", "client": "ana", "event": "...", "args": [...], "ref": 3}
//   {"op": "disconnect", "client": "ana"}, {"op": "exit"}
// Records: connect (with id, recovered, transport), connect_error, disconnect, event, ack.
"use strict";

const { io } = require("socket.io-client");
const { print, serve } = require("./driver.js");

const sockets = new Map();

function connect(cmd) {
  // forceNew only so that several named clients don't share one Manager; nothing else is changed.
  const socket = io(cmd.url, { forceNew: true, ...(cmd.options || {}) });
  const client = cmd.client;
  sockets.set(client, socket);
  socket.on("connect", () => {
    print({
      client,
      type: "connect",
      id: socket.id,
      recovered: socket.recovered,
      pid: socket._pid, // private in the client; the tests replay and forge it
      transport: socket.io.engine.transport.name,
    });
  });
  socket.on("connect_error", (err) => {
    print({ client, type: "connect_error", message: err.message, data: err.data === undefined ? null : err.data });
  });
  socket.on("disconnect", (reason) => print({ client, type: "disconnect", reason }));
  socket.onAny((event, ...args) => print({ client, type: "event", event, args }));
}

function emit(cmd) {
  const socket = sockets.get(cmd.client);
  const args = cmd.args || [];
  if (cmd.ref === undefined || cmd.ref === null) {
    socket.emit(cmd.event, ...args);
    return;
  }
  socket.timeout(cmd.timeoutMs || 5000).emit(cmd.event, ...args, (err, ...answer) => {
    print({ client: cmd.client, type: "ack", ref: cmd.ref, timeout: Boolean(err), args: err ? [] : answer });
  });
}

serve(
  {
    connect,
    emit,
    drop: (cmd) => sockets.get(cmd.client).io.engine.close(),
    auth: (cmd) => {
      sockets.get(cmd.client).auth = cmd.auth;
    },
    disconnect: (cmd) => sockets.get(cmd.client)?.disconnect(),
  },
  () => {
    for (const socket of sockets.values()) socket.disconnect();
  },
);
