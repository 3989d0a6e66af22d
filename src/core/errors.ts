/**
 * Few, precondition-named errors with a stable code and an HTTP status
 * (Changesets `@changesets/errors`). The CLI maps them to exit code 1 and a
 * one-line reason; the server maps them to `{code, message}` responses.
 * Expected outcomes (an invalid plan entry) are values, not errors.
 */
export class FerryError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: a malformed file, an unknown field value, a bad selection. */
export class ValidationError extends FerryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_REQUEST', 400, message, options);
  }
}

export class NotFoundError extends FerryError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', 404, `${what} ${id} not found`);
  }
}

/** The request is well-formed but the current state refuses it (stale plan, status gate, drift since install). */
export class ConflictError extends FerryError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

/** The environment is being written by an install. */
export class LockedError extends FerryError {
  constructor(envId: string) {
    super('ENVIRONMENT_LOCKED', 423, `environment ${envId} is locked by a running installation`);
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}
