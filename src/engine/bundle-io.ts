/**
 * Reading and writing `.ferry` bundles (shared/DESIGN.md "Bundle format",
 * "Storage and scale"). Everything streams: a bundle is produced from an
 * (async) iterable of entities and read back as an async generator, so memory
 * stays flat whatever the package size (1M entities must fit in 512 MB RSS).
 *
 * The codec (line encoding, header schema, digest) is pure and lives in
 * src/core/bundle.ts; the file IO is split by what it does: bundle-read.ts
 * (verify, stream entities), bundle-write.ts (the `.ferry` file),
 * bundle-dir.ts (the reviewable tree). This module is their public face.
 */
export { MAX_LINE_BYTES, readBundleEntities, readBundleEntityBatches, readBundleHeader, verifyBundle } from './bundle-read.js';
export type { BundleSigned, SigningTrust, VerifiedBundle } from './bundle-read.js';
export { writeBundle } from './bundle-write.js';
export { writeBundleDir } from './bundle-dir.js';
