// Migrations are written against the schema as it was then, not today's typed schema.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DialectCapabilities } from './dialect.js';

/**
 * Schema migrations, run at every start (Kysely Migrator). Written once for
 * both dialects; the only difference (how an auto-increment key is spelled)
 * comes from the capability flags.
 */
function migrations(caps: DialectCapabilities): Record<string, Migration> {
  return {
    '0001_core': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('environments')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('uid', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('tier', 'text', (c) => c.notNull())
          .addColumn('hosts', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('parameters', 'text', (c) => c.notNull())
          .addColumn('target_owned', 'text', (c) => c.notNull())
          .addColumn('cloned_from', 'text')
          .addColumn('locked_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('objects')
          .addColumn('env_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('fields', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('nkey', 'text')
          .addColumn('owner_id', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('objects_pk', ['env_id', 'type', 'id'])
          .execute();
        await db.schema.createIndex('objects_nkey').on('objects').columns(['env_id', 'type', 'nkey']).execute();
        await db.schema.createIndex('objects_owner').on('objects').columns(['env_id', 'owner_id']).execute();

        await db.schema
          .createTable('packages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('source_env_id', 'text', (c) => c.notNull())
          .addColumn('source_env_uid', 'text', (c) => c.notNull())
          .addColumn('source_url', 'text', (c) => c.notNull())
          .addColumn('source_tier', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('object_collections', 'text', (c) => c.notNull())
          .addColumn('removals', 'text', (c) => c.notNull())
          .addColumn('metadata', 'text', (c) => c.notNull())
          .addColumn('entity_count', 'integer', (c) => c.notNull())
          .addColumn('counts_by_type', 'text', (c) => c.notNull())
          .addColumn('assembly_error', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('published_at', 'text')
          .addColumn('retired_at', 'text')
          .addColumn('created_by', 'text')
          .execute();

        await db.schema
          .createTable('package_entities')
          .addColumn('package_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('fields', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('ord', 'integer', (c) => c.notNull())
          .addColumn('via', 'text')
          .addPrimaryKeyConstraint('package_entities_pk', ['package_id', 'type', 'id'])
          .execute();
        await db.schema.createIndex('package_entities_ord').on('package_entities').columns(['package_id', 'ord']).execute();

        await db.schema
          .createTable('installations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('package_id', 'text', (c) => c.notNull())
          .addColumn('package_version', 'integer', (c) => c.notNull())
          .addColumn('target_env_id', 'text', (c) => c.notNull())
          .addColumn('source_env_uid', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('prepared_at_version', 'integer', (c) => c.notNull())
          .addColumn('force', 'integer', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('registered_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('installed_at', 'text')
          .addColumn('rolled_back_at', 'text')
          .execute();
        await db.schema.createIndex('installations_package').on('installations').column('package_id').execute();
        await db.schema.createIndex('installations_target').on('installations').column('target_env_id').execute();

        await db.schema
          .createTable('installation_entries')
          .addColumn('installation_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('source_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('auto_action', 'text', (c) => c.notNull())
          .addColumn('is_valid', 'integer', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('target_id', 'text')
          .addColumn('match', 'text', (c) => c.notNull())
          .addColumn('drift', 'integer', (c) => c.notNull())
          .addColumn('changes', 'text', (c) => c.notNull())
          .addColumn('ord', 'integer', (c) => c.notNull())
          .addColumn('installation_status', 'text', (c) => c.notNull())
          .addColumn('status_reason', 'text')
          .addPrimaryKeyConstraint('installation_entries_pk', ['installation_id', 'type', 'source_id'])
          .execute();
        await db.schema.createIndex('installation_entries_ord').on('installation_entries').columns(['installation_id', 'ord']).execute();

        await db.schema
          .createTable('id_map')
          .addColumn('env_id', 'text', (c) => c.notNull())
          .addColumn('source_uid', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('source_id', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('installation_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('id_map_pk', ['env_id', 'source_uid', 'type', 'source_id'])
          .execute();

        await db.schema
          .createTable('restore_points')
          .addColumn('installation_id', 'text', (c) => c.notNull())
          .addColumn('env_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text', (c) => c.notNull())
          .addColumn('before', 'text')
          .addColumn('after_hash', 'text')
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('restore_points_pk', ['installation_id', 'seq'])
          .execute();

        await db.schema
          .createTable('decisions')
          .addColumn('env_id', 'text', (c) => c.notNull())
          .addColumn('source_uid', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('source_id', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target_id', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('decisions_pk', ['env_id', 'source_uid', 'type', 'source_id'])
          .execute();

        await db.schema
          .createTable('audit')
          .addColumn('seq', sql.raw(caps.autoIncrementType), (c) => {
            const pk = c.primaryKey();
            return caps.autoIncrementKeyword ? pk.autoIncrement() : pk;
          })
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text')
          .addColumn('address', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('env_id', 'text')
          .addColumn('subject', 'text')
          .addColumn('result', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_env').on('audit').columns(['env_id', 'seq']).execute();
      },
    },
    // The server (issue 3): users, roles, API keys, sessions, operations, file index.
    '0002_server': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('username', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text')
          .addColumn('admin', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('user_roles')
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('env_id', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'env_id'])
          .execute();
        await db.schema.createIndex('user_roles_env').on('user_roles').column('env_id').execute();

        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('prefix', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('api_keys_user').on('api_keys').column('user_id').execute();

        await db.schema
          .createTable('sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();

        await db.schema
          .createTable('operations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('progress', 'integer', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('env_id', 'text')
          .addColumn('subject', 'text')
          .addColumn('params', 'text', (c) => c.notNull())
          .addColumn('result', 'text')
          .addColumn('error', 'text')
          .addColumn('created_by', 'text')
          .addColumn('address', 'text')
          .addColumn('server', 'text')
          .addColumn('worker', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('cancel_requested', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text')
          .addColumn('finished_at', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('heartbeat_at', 'text')
          .execute();
        await db.schema.createIndex('operations_status').on('operations').columns(['status', 'created_at']).execute();
        await db.schema.createIndex('operations_env').on('operations').columns(['env_id', 'created_at']).execute();

        await db.schema
          .createTable('files')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('bytes', 'bigint', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('env_id', 'text')
          .addColumn('package_id', 'text')
          .addColumn('created_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    // Install records (issue 4): the id each CREATE will get is minted when
    // the plan is prepared (time-ordered, so the install appends to the
    // objects index), the plan keeps what its refs outside the package
    // resolved to, and restore points are kept in chunks of a few thousand
    // per row instead of one row per object.
    '0003_install_records': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('installation_entries').addColumn('new_id', 'text').execute();
        await db.schema.alterTable('installations').addColumn('externals', 'text').execute();
        await db.schema
          .createTable('restore_chunks')
          .addColumn('installation_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('points', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('restore_chunks_pk', ['installation_id', 'seq'])
          .execute();
      },
    },
    // A plan keeps the rules it was prepared with (match policy, no
    // automatic UPDATE), so re-validating it after overrides judges it by
    // them; operations are found by what they work on (is an install of
    // this plan queued or running?).
    '0004_plan_rules': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('installations').addColumn('plan_rules', 'text').execute();
        await db.schema.createIndex('operations_subject').on('operations').columns(['subject', 'created_at']).execute();
      },
    },
    // The file repository expires files (issue 12): each file records when.
    '0005_file_expiry': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('files').addColumn('expires_at', 'text').execute();
        await db.schema.createIndex('files_expires').on('files').column('expires_at').execute();
      },
    },
    // Project duplication (issue 13): the records of 004 and the project
    // properties an environment lacks (description, locales).
    '0006_duplications': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('duplications')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('progress', 'integer', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('source_env_id', 'text')
          .addColumn('target_env_id', 'text')
          .addColumn('operation_id', 'text')
          .addColumn('file_id', 'text')
          .addColumn('created_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('duplications_created').on('duplications').columns(['created_at', 'id']).execute();
        await db.schema
          .createTable('project_properties')
          .addColumn('env_uid', 'text', (c) => c.primaryKey())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('default_locale', 'integer', (c) => c.notNull())
          .addColumn('locales', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    // The install lock names its owner (issue 9): a lock left by a process
    // that died (a kill during a rollback) is recognised and released, at
    // start or by any process that meets it. It moves out of `environments`
    // into its own table (see schema.ts EnvironmentLocksTable). A lock taken
    // before this migration has no owner to ask; its heartbeat is set to the
    // epoch so it counts as stale at once (an upgrade restarts every process).
    '0007_lock_owner': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('environment_locks')
          .addColumn('env_id', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('owner_host', 'text', (c) => c.notNull())
          .addColumn('owner_pid', 'integer', (c) => c.notNull())
          .addColumn('owner_instance', 'text', (c) => c.notNull())
          .addColumn('owner_started', 'text')
          .addColumn('acquired_at', 'text', (c) => c.notNull())
          .addColumn('heartbeat_at', 'text', (c) => c.notNull())
          .execute();
        const epoch = new Date(0).toISOString();
        await db
          .insertInto('environment_locks')
          .columns(['env_id', 'holder', 'purpose', 'owner_host', 'owner_pid', 'owner_instance', 'owner_started', 'acquired_at', 'heartbeat_at'])
          .expression(
            db
              .selectFrom('environments')
              .select([
                'id',
                'locked_by',
                sql<string>`'install'`.as('purpose'),
                sql<string>`''`.as('owner_host'),
                sql<number>`0`.as('owner_pid'),
                sql<string>`'before-0007'`.as('owner_instance'),
                sql<null>`null`.as('owner_started'),
                sql<string>`${sql.lit(epoch)}`.as('acquired_at'),
                sql<string>`${sql.lit(epoch)}`.as('heartbeat_at'),
              ])
              .where('locked_by', 'is not', null),
          )
          .execute();
        await db.schema.alterTable('environments').dropColumn('locked_by').execute();
      },
    },
    // Scale out (issue 15): on PostgreSQL the file store keeps its files in
    // the database, in chunks, so processes on several machines share them
    // without a shared disk; failed logins are counted in the database, so
    // every server process sees the same count.
    '0008_scale_out': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('file_chunks')
          .addColumn('file_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('data', sql.raw(caps.binaryType), (c) => c.notNull())
          .addPrimaryKeyConstraint('file_chunks_pk', ['file_id', 'seq'])
          .execute();
        await db.schema
          .createTable('login_failures')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    // Signed bundles (issue 9): the server's signing key, one row that every
    // server process on this database shares, and the keys an environment
    // trusts (a JSON array of fingerprints; null for none).
    '0009_signing_keys': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('server_keys')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('algorithm', 'text', (c) => c.notNull())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('private_key', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.alterTable('environments').addColumn('trusted_signing_keys', 'text').execute();
      },
    },
  };
}

export function migrationProvider(caps: DialectCapabilities): MigrationProvider {
  return { getMigrations: async () => migrations(caps) };
}
