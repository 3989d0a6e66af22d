import { Repository, storeError } from './repository.js';

/** One key of the server, as stored (base64 texts). */
export interface ServerKeyRow {
  name: string;
  algorithm: string;
  publicKey: string;
  privateKey: string;
  createdAt: string;
}

/**
 * The server's own keys (today: the bundle signing key). Several server
 * processes share one database: the first to start inserts the key, the
 * others find it, so every process signs with the same key.
 */
export class ServerKeysRepository extends Repository {
  async get(name: string, from = this.read): Promise<ServerKeyRow | undefined> {
    const r = await from.selectFrom('server_keys').selectAll().where('name', '=', name).executeTakeFirst();
    return r && { name: r.name, algorithm: r.algorithm, publicKey: r.public_key, privateKey: r.private_key, createdAt: r.created_at };
  }

  /** Insert the key unless one of that name exists (a process that started at the same moment won): then the stored one. */
  async getOrInsert(row: ServerKeyRow): Promise<ServerKeyRow> {
    try {
      await this.db
        .insertInto('server_keys')
        .values({ name: row.name, algorithm: row.algorithm, public_key: row.publicKey, private_key: row.privateKey, created_at: row.createdAt })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    } catch (e) {
      storeError(e);
    }
    // Read back through the writer: the reader may not see the row yet.
    const stored = await this.get(row.name, this.db);
    if (stored === undefined) throw new Error(`server key ${row.name} vanished after insert`);
    return stored;
  }
}
