import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from '../../../core/bundle.js';
import { ValidationError } from '../../../core/errors.js';
import type { Engine } from '../../../engine/engine.js';
import { PRODUCT_VERSION } from './sessions.js';

/**
 * GET /api/projectDuplications/versions: what another server needs to know
 * to exchange packages with this one. The SDK posts it, as it is, to the
 * other server's /validations before a cross-server duplication.
 */
export function compatibility(engine: Engine) {
  return {
    iServerVersion: PRODUCT_VERSION,
    packageFormat: BUNDLE_FORMAT,
    packageFormatVersion: BUNDLE_FORMAT_VERSION,
    catalogVersion: engine.catalog.version,
    types: Object.keys(engine.catalog.types).sort(),
  };
}

/**
 * POST /api/projectDuplications/validations: the other server's versions
 * against this one's. Compatible (200) when this server reads the other's
 * package format and knows every type it has; a different catalog version
 * alone is only a warning. Otherwise 400 saying why.
 */
export function validateCompatibility(engine: Engine, body: unknown) {
  const v = body as Partial<ReturnType<typeof compatibility>> | null;
  if (!v || typeof v !== 'object' || typeof v.packageFormat !== 'string' || typeof v.packageFormatVersion !== 'number' || !Array.isArray(v.types)) {
    throw new ValidationError(
      'the body must be what GET /api/projectDuplications/versions answers on the other server (packageFormat, packageFormatVersion, types)',
    );
  }
  if (v.packageFormat !== BUNDLE_FORMAT || v.packageFormatVersion !== BUNDLE_FORMAT_VERSION) {
    throw new ValidationError(
      `not compatible: the other server writes packages as ${v.packageFormat} version ${v.packageFormatVersion}; this server reads ${BUNDLE_FORMAT} version ${BUNDLE_FORMAT_VERSION}`,
    );
  }
  const unknown = v.types.filter((t): t is string => typeof t === 'string' && !engine.catalog.types[t]);
  if (unknown.length > 0) throw new ValidationError(`not compatible: this server's catalog does not know the other server's types ${unknown.join(', ')}`);
  const warnings =
    v.catalogVersion && v.catalogVersion !== engine.catalog.version
      ? [`the catalogs differ in version (${String(v.catalogVersion)} there, ${engine.catalog.version} here)`]
      : [];
  return { compatible: true, warnings };
}
