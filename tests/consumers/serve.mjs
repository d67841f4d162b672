// A tiny static file server for the consumer apps' built output, on loopback.
// The app is served from its own origin; the coordinator (the reference
// server) runs on another port, so the SDK's requests are cross-origin as in
// a real deployment.
//
//   const srv = await serveStatic({ "/": "dist", "/sdk/": "unpacked/package" });
//   srv.url  // http://127.0.0.1:<port>
//   await srv.close();
//
// Also runnable by hand: node tests/consumers/serve.mjs <dir> [port]
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm", // needed for WebAssembly.instantiateStreaming
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** mounts: { urlPrefix: directory }, longest prefix wins. Resolves once listening. */
export function serveStatic(mounts, { port = 0, host = "127.0.0.1" } = {}) {
  const table = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    requests.push(path);
    const mount = table.find(([prefix]) => path.startsWith(prefix) || `${path}/` === prefix);
    if (!mount) return send(res, 404, "no mount");
    const [prefix, dir] = mount;
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return send(res, 403, "outside the served folder");
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      send(res, 404, `not found: ${path}`);
    }
  });
  return new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(port, host, () => {
      const { port } = server.address();
      res({
        url: `http://${host}:${port}`,
        requests,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

function send(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${text}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir = ".", port = "0"] = process.argv.slice(2);
  const srv = await serveStatic({ "/": dir }, { port: Number(port) });
  console.log(`serving ${resolve(dir)} at ${srv.url}/`);
}
