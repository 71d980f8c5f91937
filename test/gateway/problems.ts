import { readFileSync } from "node:fs";
import { expect } from "chai";
import { PROBLEM_TYPES } from "../../src/gateway/problems.ts";

describe("gateway problem types", () => {
  it("lists in the README exactly the problem types the gateway sends, with their statuses", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const documented = Object.fromEntries(
      [...readme.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z-]+)`\s*\|/gm)].map(([, status, type]) => [type, Number(status)]),
    );
    const sent = Object.fromEntries(Object.entries(PROBLEM_TYPES).map(([type, [status]]) => [type, status]));
    expect(documented).to.deep.equal(sent);
  });
});
