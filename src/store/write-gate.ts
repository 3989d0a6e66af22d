import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';
import type { QueryCompiler } from 'kysely';

/**
 * SQLite takes one writer at a time, and better-sqlite3 waits for a busy
 * database by sleeping in the calling thread (busy_timeout). With the long
 * use cases running in an offload thread (src/engine/offload.ts) on a writer
 * connection of its own, a main-thread write arriving during an install
 * would sleep the event loop until the install commits. So every writer
 * connection of a process takes this gate before it touches the database:
 * the main thread's writer directly, an offload thread's through messages
 * to the main thread (offload.ts). Waiting for the gate is a promise, never
 * a sleep. One holder at a time, first come first served.
 */
export interface WriteGate {
  /** Resolves once this caller holds the gate; call the returned function to let the next one in. */
  acquire(): Promise<() => void>;
}

/** The gate itself (main thread): a FIFO of waiters. */
export class LocalWriteGate implements WriteGate {
  #held = false;
  readonly #waiting: (() => void)[] = [];

  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.#held = true;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          const next = this.#waiting.shift();
          if (next) next();
          else this.#held = false;
        });
      };
      if (this.#held) this.#waiting.push(grant);
      else grant();
    });
  }
}

/**
 * A Kysely dialect whose driver holds `gate` from acquiring its connection
 * to releasing it: a transaction holds it from BEGIN to COMMIT, a single
 * statement for itself. Everything else is the wrapped dialect's.
 */
export function gatedDialect(inner: Dialect, gate: WriteGate): Dialect {
  return {
    createDriver: () => new GatedDriver(inner.createDriver(), gate),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db: Parameters<Dialect['createIntrospector']>[0]) => inner.createIntrospector(db),
  };
}

class GatedDriver implements Driver {
  readonly #inner: Driver;
  readonly #gate: WriteGate;
  /** Releases of the gate, by connection (SQLite has one; kept general). */
  readonly #releases = new Map<DatabaseConnection, () => void>();

  constructor(inner: Driver, gate: WriteGate) {
    this.#inner = inner;
    this.#gate = gate;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#gate.acquire();
    try {
      const connection = await this.#inner.acquireConnection();
      this.#releases.set(connection, release);
      return connection;
    } catch (e) {
      release();
      throw e;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.releaseConnection(connection);
    } finally {
      const release = this.#releases.get(connection);
      this.#releases.delete(connection);
      release?.();
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compile);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
