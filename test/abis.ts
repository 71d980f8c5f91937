import { readFileSync } from "node:fs";
import { expect } from "chai";
import { ABI_SOURCES } from "../scripts/abiSources.ts";
import {
  revenueDistributorAbi,
  stakingScoreAbi,
  testTmaiAbi,
  tmaiGovernorAbi,
  votingEscrowAbi,
} from "../src/chain/abis.ts";

const generated = { votingEscrowAbi, stakingScoreAbi, tmaiGovernorAbi, testTmaiAbi, revenueDistributorAbi };

describe("src/chain/abis.ts", () => {
  for (const [name, path] of Object.entries(ABI_SOURCES)) {
    it(`${name} matches the compiled artifact (run \`npm run build\` if not)`, () => {
      const { abi } = JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), "utf8")) as { abi: unknown };
      expect(generated[name as keyof typeof generated]).to.deep.equal(abi);
    });
  }
});
