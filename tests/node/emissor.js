// An unmodified @socket.io/redis-emitter 5.1 (with the `redis` client it is documented with), driven
// by the Python tests (tests/apoio_emissores.py) and the bench: one JSON command per stdin line, one
// JSON record per stdout line ("ready" first). Every command is published through the emitter exactly
// as a NestJS service would; the "done" record comes once Redis has answered a PING sent after it (the
// client sends commands in order, so the PUBLISH has been applied by then).
//
//   node emissor.js REDIS_URL KEY
//   {"ref", "op": "emit", "nsp", "rooms": [...], "except": [...], "event", "args": [...]}
//   {"ref", "op": "join" | "leave", "nsp", "rooms", "except", "target": [...]}   socketsJoin/Leave
//   {"ref", "op": "disconnect", "nsp", "rooms", "except", "close": bool}        disconnectSockets
//   {"ref", "op": "burst", "nsp", "rooms", "event", "count", "payload"}          count emits, timed
"use strict";

const readline = require("node:readline");
const { createClient } = require("redis");
const { Emitter } = require("@socket.io/redis-emitter");

const [url, key] = process.argv.slice(2);

function print(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

function operator(emitter, command) {
  let op = emitter.of(command.nsp || "/atendimento");
  for (const room of command.rooms || []) op = op.to(room);
  for (const room of command.except || []) op = op.except(room);
  return op;
}

async function main() {
  const client = createClient({ url });
  client.on("error", (error) => print({ type: "error", message: String(error) }));
  await client.connect();
  const emitter = new Emitter(client, key ? { key } : undefined);
  print({ type: "ready" });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const command = JSON.parse(line);
    try {
      const started = process.hrtime.bigint();
      const op = operator(emitter, command);
      if (command.op === "emit") op.emit(command.event, ...(command.args || []));
      else if (command.op === "join") op.socketsJoin(command.target);
      else if (command.op === "leave") op.socketsLeave(command.target);
      else if (command.op === "disconnect") op.disconnectSockets(Boolean(command.close));
      else if (command.op === "burst") {
        for (let i = 0; i < command.count; i++) op.emit(command.event, { ...command.payload, i });
      } else if (command.op === "exit") break;
      else throw new Error(`unknown op ${command.op}`);
      await client.ping();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      print({ type: "done", ref: command.ref, ms });
    } catch (error) {
      print({ type: "error", ref: command.ref, message: String(error) });
    }
  }
  await client.quit();
}

main().catch((error) => {
  print({ type: "error", message: String(error) });
  process.exit(1);
});
