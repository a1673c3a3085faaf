/**
 * A mistake in what the user supplied (arguments, configuration, a missing release).
 * The CLI prints its message alone, with no stack trace, and exits with code 2.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit code for a user mistake: bad arguments or bad configuration. */
export const USER_ERROR_EXIT_CODE = 2;
