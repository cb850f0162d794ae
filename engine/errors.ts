/** Bad input from the user (arguments, files): printed as one line, exit code 2, no stack. */
export class UserError extends Error {
  override name = "UserError";
}
