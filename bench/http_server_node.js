// The HTTP server benchmark's Node peer (bench/http_peers.py): Node's own `http` module, the
// same routes as bench/http_server.lua. Prints "PORT <n>", serves until SIGTERM.
//   GET /hello -> "hi" (text/plain)
//   GET /json  -> {"message":"hello","n":42,"ok":true} (application/json), encoded per request
"use strict";
const http = require("http");
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/hello") {
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": 2 });
    res.end("hi");
  } else if (req.method === "GET" && req.url === "/json") {
    const body = JSON.stringify({ message: "hello", n: 42, ok: true });
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.keepAliveTimeout = 75000;
server.listen(0, "127.0.0.1", () => console.log(`PORT ${server.address().port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
