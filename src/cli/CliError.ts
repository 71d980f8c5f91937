/** An error the user can fix: the message says what went wrong and what to do. Printed without a stack trace. */
export class CliError extends Error {
  override name = "CliError";
}
