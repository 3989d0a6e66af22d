import type { Environment } from '../../../core/types.js';
import type { Principal } from '../../../engine/auth.js';
import type { DuplicationRecord, Party, ProjectProperties } from '../../../engine/duplication.js';

/** The product's timestamps: `2026-12-01T10:00:00.000+0000` (what the SDK's `%Y-%m-%dT%H:%M:%S.%f%z` parses). */
export function productDate(iso: string): string {
  return new Date(iso).toISOString().replace('Z', '+0000');
}

/** A Ferry user as the document's `creator` (ids are 32 hex digits there, like every id). */
export function creatorOf(p: Principal): { id: string; name: string } {
  return { id: p.userId.replaceAll('-', '').toUpperCase(), name: p.username };
}

function party(p: Party) {
  return { environment: p.environment, project: p.project, ...(p.creator ? { creator: p.creator } : {}) };
}

/** A duplication record as 004 shows it (status words in upper case, as the product answers and the SDK requires). */
export function recordShape(r: DuplicationRecord) {
  return {
    id: r.id,
    source: party(r.source),
    target: party(r.target),
    createdDate: productDate(r.createdAt),
    lastUpdatedDate: productDate(r.updatedAt),
    status: r.status,
    progress: r.progress,
    message: r.message,
    settings: r.settings,
  };
}

/** Project status 0: loaded and active (the SDK's ProjectStatus.ACTIVE). */
const ACTIVE = 0;

/** A project (an environment) as GET /api/projects lists it. */
export function projectShape(env: Environment, props: ProjectProperties) {
  return {
    id: env.uid,
    name: env.name,
    alias: '',
    description: props.description,
    status: ACTIVE,
    dateCreated: productDate(env.createdAt),
    dateModified: productDate(env.updatedAt),
  };
}

/** A project as an object (GET /api/objects/{id}?type=32): type 32, subtype 8192 (project). */
export function projectObjectShape(env: Environment, props: ProjectProperties) {
  return {
    id: env.uid,
    name: env.name,
    type: 32,
    subtype: 8192,
    extType: 0,
    description: props.description,
    dateCreated: productDate(env.createdAt),
    dateModified: productDate(env.updatedAt),
    ancestors: [],
    hidden: false,
  };
}
