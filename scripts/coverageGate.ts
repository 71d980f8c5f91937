/**
 * Coverage gate for `contracts/` (outside `dev/`): lines from Hardhat's own lcov report, branches computed here.
 *
 * Hardhat 3 reports line and statement coverage only (EDR records statements, not branches). Every statement
 * has a deterministic tag, which EDR's instrumentation function gives back with the statement's source range;
 * with the hit counts Hardhat saves under `coverage/data` (the number of test runs that reached a statement),
 * each `if` is scored as two branches. Taken: the first statement of its body ran. Not taken: its `else` ran;
 * or, for an `if` whose body always leaves (return, revert, break, continue), the statement after it ran;
 * otherwise the `if` ran in more test runs than its body.
 *
 * Usage (after `hardhat test --coverage`): node scripts/coverageGate.ts [--lines 100] [--branches 95]
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { addStatementCoverageInstrumentation, latestSupportedSolidityVersion } from "@nomicfoundation/edr";
import { parse, visit } from "@solidity-parser/parser";
import type { IfStatement, Statement } from "@solidity-parser/parser/dist/src/ast-types.js";

const { values } = parseArgs({
  options: { lines: { type: "string", default: "100" }, branches: { type: "string", default: "95" } },
});
const root = process.cwd();

/** Hit counts by statement tag, summed over every saved run. */
function loadHits(): Map<string, number> {
  const hits = new Map<string, number>();
  const dir = path.join(root, "coverage", "data");
  for (const runner of readdirSync(dir)) {
    for (const file of readdirSync(path.join(dir, runner))) {
      const data = JSON.parse(readFileSync(path.join(dir, runner, file), "utf8")) as Record<string, number>;
      for (const [tag, count] of Object.entries(data)) hits.set(tag, (hits.get(tag) ?? 0) + count);
    }
  }
  return hits;
}

/** Lines found and hit per file, from Hardhat's lcov report. */
function loadLines(): Map<string, { found: number; hit: number; missing: number[] }> {
  const files = new Map<string, { found: number; hit: number; missing: number[] }>();
  let current = { found: 0, hit: 0, missing: [] as number[] };
  for (const line of readFileSync(path.join(root, "coverage", "lcov.info"), "utf8").split("\n")) {
    if (line.startsWith("SF:")) {
      current = { found: 0, hit: 0, missing: [] };
      files.set(line.slice(3), current);
    } else if (line.startsWith("DA:")) {
      const [lineNo, count] = line.slice(3).split(",").map(Number);
      current.found++;
      if (count !== undefined && count > 0) current.hit++;
      else if (lineNo !== undefined) current.missing.push(lineNo);
    }
  }
  return files;
}

function solidityFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return rel === "contracts/dev" ? [] : solidityFiles(rel);
    return entry.name.endsWith(".sol") ? [rel] : [];
  });
}

/** Whether control never falls through the end of `statement`. */
function leaves(statement: Statement): boolean {
  if (statement.type === "Block") {
    const last = statement.statements.at(-1) as Statement | undefined;
    return last !== undefined && leaves(last);
  }
  if (statement.type === "UncheckedStatement") return leaves(statement.block);
  return ["ReturnStatement", "RevertStatement", "BreakStatement", "ContinueStatement"].includes(statement.type);
}

function firstStatement(statement: Statement): Statement | undefined {
  if (statement.type === "Block") return statement.statements[0] as Statement | undefined;
  if (statement.type === "UncheckedStatement") return firstStatement(statement.block);
  return statement;
}

interface BranchReport {
  found: number;
  hit: number;
  missing: string[];
}

function branchesOf(file: string, hits: Map<string, number>): BranchReport {
  const source = readFileSync(path.join(root, file), "utf8");
  const { metadata } = addStatementCoverageInstrumentation(source, `project/${file}`, latestSupportedSolidityVersion());
  const statements = metadata.map((statement) => ({
    start: statement.startUtf16,
    end: statement.endUtf16,
    hits: hits.get(Buffer.from(statement.tag).toString("hex")) ?? 0,
  }));
  // An instrumented range runs from the end of the previous statement to the end of this one (leading blanks and
  // comments included): a node's statement is the narrowest range that encloses it.
  const count = (node: Statement | undefined): number => {
    const [start, end] = node?.range ?? [-1, -1];
    let best: (typeof statements)[number] | undefined;
    for (const candidate of statements) {
      const encloses = candidate.start <= start && candidate.end > end;
      if (encloses && (best === undefined || candidate.end - candidate.start < best.end - best.start)) best = candidate;
    }
    if (best === undefined) throw new Error(`${file}: no instrumented statement encloses offset ${start}`);
    return best.hits;
  };
  const lineOf = (offset: number) => source.slice(0, offset).split("\n").length;
  const report: BranchReport = { found: 0, hit: 0, missing: [] };
  // The statement that follows each `if` in its block (an `else if` shares its parent's).
  const nextOf = new Map<IfStatement, Statement | undefined>();
  const link = (node: Statement, next: Statement | undefined) => {
    if (node.type !== "IfStatement") return;
    nextOf.set(node, next);
    if (node.falseBody?.type === "IfStatement") link(node.falseBody, next);
  };
  const ast = parse(source, { range: true });
  visit(ast, {
    Block(block) {
      const body = block.statements as Statement[];
      for (const [i, statement] of body.entries()) link(statement, body[i + 1]);
    },
  });
  visit(ast, {
    IfStatement(node: IfStatement) {
      const times = count(node);
      const trueTimes = count(firstStatement(node.trueBody));
      const next = nextOf.get(node);
      let falseTaken: boolean;
      if (node.falseBody) falseTaken = count(firstStatement(node.falseBody)) > 0;
      else if (leaves(node.trueBody) && next !== undefined) falseTaken = count(next) > 0;
      else falseTaken = times > trueTimes;
      const line = lineOf(node.range?.[0] ?? 0);
      report.found += 2;
      report.hit += Number(trueTimes > 0) + Number(falseTaken);
      if (trueTimes === 0) report.missing.push(`${line} (true)`);
      if (!falseTaken) report.missing.push(`${line} (false)`);
    },
    Conditional(node) {
      throw new Error(`${file}:${lineOf(node.range?.[0] ?? 0)}: ternaries are not scored by this gate; use an if`);
    },
  });
  return report;
}

const hits = loadHits();
const lines = loadLines();
const totals = { linesFound: 0, linesHit: 0, branchesFound: 0, branchesHit: 0 };
const rows: string[] = [];
for (const file of solidityFiles("contracts")) {
  const lineReport = lines.get(file);
  if (lineReport === undefined && /^\s*interface\s/m.test(readFileSync(path.join(root, file), "utf8"))) continue;
  if (lineReport === undefined)
    throw new Error(`${file} is missing from coverage/lcov.info: run \`hardhat test --coverage\` first`);
  const branchReport = branchesOf(file, hits);
  totals.linesFound += lineReport.found;
  totals.linesHit += lineReport.hit;
  totals.branchesFound += branchReport.found;
  totals.branchesHit += branchReport.hit;
  const pct = (hit: number, found: number) => (found === 0 ? "100.00" : ((100 * hit) / found).toFixed(2));
  rows.push(
    `${file.padEnd(40)} lines ${pct(lineReport.hit, lineReport.found).padStart(6)} %  branches ${pct(branchReport.hit, branchReport.found).padStart(6)} % (${branchReport.hit}/${branchReport.found})` +
      (lineReport.missing.length ? `  missing lines: ${lineReport.missing.join(", ")}` : "") +
      (branchReport.missing.length ? `  missing branches at line ${branchReport.missing.join(", ")}` : ""),
  );
}
const linePct = (100 * totals.linesHit) / totals.linesFound;
const branchPct = totals.branchesFound === 0 ? 100 : (100 * totals.branchesHit) / totals.branchesFound;
console.log(rows.join("\n"));
console.log(
  `\ncontracts/ (outside dev/): lines ${linePct.toFixed(2)} % (${totals.linesHit}/${totals.linesFound}), branches ${branchPct.toFixed(2)} % (${totals.branchesHit}/${totals.branchesFound})`,
);
const failures = [
  linePct < Number(values.lines) ? `line coverage ${linePct.toFixed(2)} % is below ${values.lines} %` : "",
  branchPct < Number(values.branches) ? `branch coverage ${branchPct.toFixed(2)} % is below ${values.branches} %` : "",
].filter(Boolean);
if (failures.length > 0) {
  console.error(`Coverage gate failed: ${failures.join("; ")}. Add tests for the lines and branches listed above.`);
  process.exit(1);
}
