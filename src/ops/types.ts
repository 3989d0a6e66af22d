// The operations runner port is the engine's (its use cases submit work); ops implements it.
export type * from '../engine/operations-port.js';
