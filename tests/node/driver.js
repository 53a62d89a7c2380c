// The stdin/stdout plumbing of both drivers (cliente.js and engine_scenarios.js): one JSON command
// per stdin line, one JSON record per stdout line, a "ready" record once commands are read.
"use strict";

const readline = require("node:readline");

function print(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

// ops maps a command's "op" to the function that runs it. {"op": "exit"} and the end of stdin call
// closeAll, then end the process. A command that throws prints an error record for its client.
function serve(ops, closeAll) {
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
}

module.exports = { print, serve };
