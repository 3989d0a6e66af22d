import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/**
 * Counts the writes this process makes through one store, so that answers
 * read from it can be kept briefly and dropped at once when anything changes
 * (src/server/recent-answers.ts). It ticks before and after every statement
 * that is not a SELECT (a raw statement counts as a write unless it starts
 * with SELECT), when a transaction ends (Store.transaction: its statements
 * became visible only at the commit), and when a call run in the offload
 * thread, which has its own connection, comes back (Engine.run). Writes made
 * by another process are not seen: readers keep an answer at most a short
 * time for them.
 */
export class WriteClock implements KyselyPlugin {
  #ticks = 0;
  readonly #writes = new WeakSet<object>();

  /** The count so far: an answer read at one count is current while the count stays the same. */
  get now(): number {
    return this.#ticks;
  }

  tick(): void {
    this.#ticks++;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (isWrite(args.node)) {
      this.#writes.add(args.queryId);
      this.#ticks++;
    }
    return args.node;
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#writes.has(args.queryId)) this.#ticks++;
    return Promise.resolve(args.result);
  }
}

function isWrite(node: RootOperationNode): boolean {
  if (node.kind === 'SelectQueryNode') return false;
  if (node.kind === 'RawNode') return !/^\s*select\b/i.test(node.sqlFragments[0] ?? '');
  return true;
}
