#!/usr/bin/env node
// Runs an npm script of this package under Node ≥ 22.13, installing dependencies first when needed.
//
// Hardhat 3 needs Node ≥ 22.13, and its native EDR package installs only under Node ≥ 22. Machines whose
// system Node is older (Node 20 here) get Node 22 from the npm registry (`npx node@22`, cached by npm) without
// touching the system. Usage: node scripts/node22.mjs <npm-script> [args…]
//
// Plain JavaScript with no dependencies: it must run on the system Node before anything is installed.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MIN = [22, 18]; // Hardhat 3 needs 22.13; running .ts files directly (type stripping) needs 22.18
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error("usage: node scripts/node22.mjs <npm-script> [args…]");
  process.exit(2);
}

function satisfies(version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN[0] || (major === MIN[0] && minor >= MIN[1]);
}

/** Directory holding a `node` binary ≥ 22.13: this one, or Node 22 from the npm registry. */
function nodeDir() {
  if (satisfies(process.version)) return path.dirname(process.execPath);
  console.error(
    `[node22] system Node ${process.version} is older than ${MIN.join(".")}: using Node 22 from the npm registry`,
  );
  try {
    const execPath = execFileSync("npx", ["-y", "node@22", "-p", "process.execPath"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    return path.dirname(execPath);
  } catch (error) {
    console.error(`[node22] could not get Node 22 with \`npx -y node@22\`: ${error.message}`);
    console.error("[node22] install Node ≥ 22.13 (https://nodejs.org) or make the npm registry reachable, then retry.");
    process.exit(1);
  }
}

const env = { ...process.env, PATH: `${nodeDir()}${path.delimiter}${process.env.PATH}` };
delete env.npm_config_node_version;

/** Installs dependencies when node_modules is missing or older than package-lock.json. */
function ensureInstalled() {
  const lock = path.join(root, "package-lock.json");
  const stamp = path.join(root, "node_modules", ".vetmai-install-stamp");
  const digest = createHash("sha256")
    .update(readFileSync(lock))
    .update(readFileSync(path.join(root, "package.json")))
    .digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
  console.error("[node22] installing dependencies (npm install, lockfile honoured)…");
  // `npm ci` would refuse the lockfile: it lists only this platform's build of Hardhat's EDR.
  execFileSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: root, env, stdio: "inherit" });
  writeFileSync(stamp, digest);
}

ensureInstalled();
const child = spawn("npm", ["run", "--silent", script, "--", ...args], { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
