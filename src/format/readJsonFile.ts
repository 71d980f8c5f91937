import { readFileSync } from "node:fs";
import type { z } from "zod";

/**
 * Reads `file` as JSON and validates it with `schema`; any problem is thrown as `makeError(message)`, the message
 * naming the file and every invalid field by its path (`rewards.0.amount: must be a decimal string …`).
 */
export function readJsonFile<Schema extends z.ZodType>(
  file: string,
  schema: Schema,
  what: string,
  makeError: (message: string) => Error,
): z.output<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw makeError(`cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".") || "(file)"}: ${issue.message}`);
    throw makeError(`${file} is not a valid ${what}:\n${problems.join("\n")}`);
  }
  return parsed.data;
}
