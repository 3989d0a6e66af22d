import type { FastifyBaseLogger } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type Options = Parameters<FastifyBaseLogger['child']>[1];
type LogFn = FastifyBaseLogger['info'];
const METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * A request's logger (`request.log`), made only when something logs
 * through it. Fastify makes a child logger carrying the request id for every
 * request; most requests log nothing through it (the access line is written
 * with the request id by the server's logger, app.ts), and a child per
 * request was part of what a status poll costs. Once made, it is pino's own
 * child, with the same bindings and options.
 *
 * @example
 * Fastify({ logger, childLoggerFactory: (logger, bindings, opts) => new LazyChildLogger(logger, bindings, opts) });
 */
export class LazyChildLogger implements FastifyBaseLogger {
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;
  declare silent: LogFn;
  #real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: Options,
  ) {}

  /** pino's child, made at the first use. */
  real(): FastifyBaseLogger {
    return (this.#real ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.#real?.level ?? this.options?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  child(bindings: Bindings, options?: Options): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

for (const method of METHODS) {
  LazyChildLogger.prototype[method] = function (this: LazyChildLogger, ...args: unknown[]) {
    const real = this.real();
    Reflect.apply(real[method], real, args);
  };
}
