// Lists and calls the tools of an MCP stdio server with the client of the TypeScript MCP SDK, so
// that the interop tests can check that a client other than ours can use the tools our Server
// serves. The SDK is the one installed (as a dependency of the reference servers) by
// .ci/mcp-setup.sh. Usage:
//
//   node ts_client.cjs SERVERS_DIR COMMAND [ARG...]
//
// The server inherits this process's environment. Prints one JSON object: the listed tools and the
// results of a few calls.
"use strict";
const path = require("node:path");
const { createRequire } = require("node:module");

const [dir, command, ...args] = process.argv.slice(2);
const sdk = createRequire(path.join(path.resolve(dir), "package.json"));
const { Client } = sdk("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } = sdk("@modelcontextprotocol/sdk/client/stdio.js");

async function main() {
  const transport = new StdioClientTransport({ command, args, env: { ...process.env } });
  const client = new Client({ name: "ts-interop", version: "1.0.0" });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const out = {
    server: client.getServerVersion(),
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
    echo: await client.callTool({ name: "echo", arguments: { text: "from ts" } }),
    fail: await client.callTool({ name: "fail", arguments: {} }),
    invalid: await client.callTool({ name: "ordered", arguments: { alpha: 0 } }),
  };
  try {
    await client.callTool({ name: "no_such_tool", arguments: {} });
    out.unknown = "no error";
  } catch (e) {
    out.unknown = String(e && e.message);
  }
  await client.close();
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
