import { FerryError } from '../core/errors.js';

/**
 * Failures of the database itself (not of a query): PostgreSQL stopped or
 * unreachable, SQLite's file read-only or its disk full. They are the
 * operator's to fix, not the caller's, so they answer 503 (507 for a full
 * disk) with a message in words, never the driver's text (which may name
 * the connection or the file), and never a 500. A request that meets one
 * wrote nothing: every write is one transaction.
 */
export class DatabaseUnavailableError extends FerryError {
  constructor(why: string, options?: { cause?: unknown }) {
    super(
      'DATABASE_UNAVAILABLE',
      503,
      `the database is unavailable (${why}); nothing was written by this request: retry once an operator has fixed it`,
      options,
    );
  }
}

export class DatabaseFullError extends FerryError {
  constructor(why: string, options?: { cause?: unknown }) {
    super('DATABASE_FULL', 507, `the database has no room left (${why}); nothing was written by this request: retry once an operator has made room`, options);
  }
}

/**
 * PostgreSQL killed this transaction to let another one go on: a deadlock
 * (40P01) or a serialization failure (40001). Not the operator's fault nor
 * the caller's: the same request made again normally succeeds. Writes take
 * their row locks in one order (engine/context.ts lockForWrite) so that this
 * should not happen; when it still does, the caller gets a retryable 503 in
 * words, not the driver's text. The transaction was rolled back, so nothing
 * it wrote remains.
 */
export class TransactionConflictError extends FerryError {
  constructor(why: string, options?: { cause?: unknown }) {
    super(
      'TRANSACTION_CONFLICT',
      503,
      `the database stopped this request because it collided with another one (${why}); nothing was written by this request: retry it`,
      options,
    );
  }
}

/** PostgreSQL SQLSTATE codes (class 08: connection exception) and their words. */
const PG: Record<string, string> = {
  '57P01': 'the database server is shutting down',
  '57P02': 'the database server crashed',
  '57P03': 'the database server is starting up',
  '53300': 'the database server has too many connections',
  '25006': 'the database is read-only',
};
const PG_FULL: Record<string, string> = { '53100': "the database server's disk is full", '53200': 'the database server is out of memory' };
const NET: Record<string, string> = {
  ECONNREFUSED: 'the database server refuses connections',
  ECONNRESET: 'the connection to the database server was reset',
  EPIPE: 'the connection to the database server was closed',
  ETIMEDOUT: 'the database server does not answer',
  EHOSTUNREACH: 'the database server cannot be reached',
  ENETUNREACH: 'the database server cannot be reached',
  ENOTFOUND: "the database server's host name is unknown",
  EAI_AGAIN: "the database server's host name cannot be resolved",
};

/** SQLSTATE codes of a transaction PostgreSQL rolled back for colliding with another. */
const PG_CONFLICT: Record<string, string> = { '40P01': 'a deadlock', '40001': 'a serialization failure' };

/** The transaction conflict `e` is (or wraps), as the error to answer; undefined when it is something else. */
export function transactionConflict(e: unknown): TransactionConflictError | undefined {
  for (let x: unknown = e, i = 0; x && i < 4; x = (x as { cause?: unknown }).cause, i++) {
    if (x instanceof TransactionConflictError) return x;
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && PG_CONFLICT[code]) return new TransactionConflictError(PG_CONFLICT[code], { cause: e });
  }
  return undefined;
}

/**
 * What a failure of the database (`databaseFault`) or a transaction it
 * killed (`transactionConflict`) answers; undefined for anything else.
 */
export function databaseError(e: unknown): FerryError | undefined {
  return databaseFault(e) ?? transactionConflict(e);
}

/** The database failure `e` is (or wraps), as the error to answer; undefined when it is something else. */
export function databaseFault(e: unknown): FerryError | undefined {
  for (let x: unknown = e, i = 0; x && i < 4; x = (x as { cause?: unknown }).cause, i++) {
    if (x instanceof DatabaseUnavailableError || x instanceof DatabaseFullError) return x;
    const code = (x as { code?: unknown }).code;
    const message = x instanceof Error ? x.message : '';
    if (typeof code === 'string') {
      if (code === 'SQLITE_FULL') return new DatabaseFullError('no space left on the device', { cause: e });
      if (code.startsWith('SQLITE_READONLY')) return new DatabaseUnavailableError('its file is read-only', { cause: e });
      if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN'))
        return new DatabaseUnavailableError('its file cannot be read or written', { cause: e });
      if (code === 'SQLITE_BUSY') return new DatabaseUnavailableError('another process holds it for too long', { cause: e });
      if (code.startsWith('08')) return new DatabaseUnavailableError('the connection to the database server failed', { cause: e });
      if (PG[code]) return new DatabaseUnavailableError(PG[code], { cause: e });
      if (PG_FULL[code]) return new DatabaseFullError(PG_FULL[code], { cause: e });
      if (NET[code]) return new DatabaseUnavailableError(NET[code], { cause: e });
    }
    // node-postgres says these in words only.
    if (
      /^Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable/.test(
        message,
      )
    )
      return new DatabaseUnavailableError('the connection to the database server was lost', { cause: e });
  }
  return undefined;
}
