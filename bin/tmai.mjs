#!/usr/bin/env node
// The `tmai` command. The CLI is TypeScript run directly by Node's type stripping (Node ≥ 22.18); on an older
// Node it goes through scripts/node22.mjs, which fetches Node 22 from the npm registry first.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  await import("../src/cli/main.ts");
} else {
  const launcher = fileURLToPath(new URL("../scripts/node22.mjs", import.meta.url));
  const child = spawn(process.execPath, [launcher, "tmai", ...process.argv.slice(2)], { stdio: "inherit" });
  child.on("exit", (code) => process.exit(code ?? 1));
}
