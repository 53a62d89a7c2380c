// Builds the console into atendimento/console/static/ (app.js, app.css, index.html): `make console`.
// esbuild bundles our code with the pinned socket.io-client; nothing here fetches anything.
import { build } from "esbuild";
import { copyFile, mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const aqui = dirname(fileURLToPath(import.meta.url));
const destino = join(aqui, "..", "atendimento", "console", "static");

await mkdir(destino, { recursive: true });
await build({
  entryPoints: { app: join(aqui, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir: destino,
  legalComments: "eof",
  logLevel: "warning",
  // socket.io-client's debug logging is stripped: it is dead weight in a production bundle.
  define: { "process.env.NODE_ENV": '"production"' },
});
await build({
  entryPoints: { app: join(aqui, "src", "estilo.css") },
  bundle: true,
  minify: true,
  outdir: destino,
  logLevel: "warning",
});
await copyFile(join(aqui, "src", "index.html"), join(destino, "index.html"));
for (const nome of ["app.js", "app.css", "index.html"]) {
  const { size } = await stat(join(destino, nome));
  console.log(`console: ${nome} ${(size / 1024).toFixed(1)} KiB`);
}
