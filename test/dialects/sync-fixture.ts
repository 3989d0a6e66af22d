// A development environment as the product's Admin API samples show one
// (ApiExamples/AdminApi in Intelledox/Infiniti): a project with its data
// source, data object, publish folder and published project, and the
// environment-wide users, groups, roles, custom fields and connector settings.
import { fileURLToPath } from 'node:url';

export const SMARTIQ_CATALOG = fileURLToPath(new URL('../../catalogs/smartiq.json', import.meta.url));

export const IDS = {
  project: '74f3d62e-b2ad-4934-9b08-2feaf499c575',
  project2: '597ec154-d49c-421b-9232-a385782daae6',
  fragment: '1d0a4c37-5a41-4a39-9b7c-2e8c55b0f6a1',
  dataSource: '5c58fc10-f07a-4887-a9a5-97c8be044bb3',
  dataObject: '0c8cb9c3-8ee5-4ce7-9184-ed0e5c9f787f',
  publishFolder: '4eb98bc5-3351-440a-a1cf-7c29ae55db41',
  admin: 'cfaacf2c-a6c1-41e6-b6e0-3646da572904',
  group: '4396fd90-f339-4443-b9ba-f8264fe6ae6f',
  role: '94d5653a-a8fe-4bde-8fef-61577a88ece0',
  customField: '6bdc587c-5bb1-4e77-bbb7-f606fce7856f',
  connector: 'aad2b622-5e9c-4cdc-b3eb-a0e0d12e6b07',
} as const;

export function devObjects(): { type: string; id: string; name: string; fields: Record<string, unknown> }[] {
  return [
    {
      type: 'PROJECT',
      id: IDS.project,
      name: 'Generate-AnswerLabels (NamedValuePairs)',
      fields: {
        version: '5.0',
        modifiedUtc: '2018-11-06T02:32:09.65Z',
        folderName: '',
        metadata: { type: 'Content', modifiedBy: IDS.admin },
        definition: '<Intelledox_TemplateFile version="2.5.0"><HeaderInfo><Name>Generate-AnswerLabels</Name></HeaderInfo></Intelledox_TemplateFile>',
        dataSourceIds: [IDS.dataSource],
        fragmentIds: [IDS.fragment],
      },
    },
    {
      type: 'PROJECT',
      id: IDS.fragment,
      name: 'Address block',
      fields: { version: '1.0', folderName: '', metadata: { type: 'Fragment', modifiedBy: IDS.admin }, definition: '<Intelledox_TemplateFile />' },
    },
    {
      type: 'PROJECT',
      id: IDS.project2,
      name: 'Generate-ProvidedData (XML, JSON, CSV)',
      fields: { version: '7.0', folderName: '', metadata: { type: 'Content', modifiedBy: IDS.admin }, definition: '<Intelledox_TemplateFile />' },
    },
    {
      type: 'DATASOURCE',
      id: IDS.dataSource,
      name: 'SampleXml',
      fields: {
        connectionType: 'SQL',
        connectionString: 'Data Source=dev-sql;Initial Catalog=devForms',
        allowConnectionExport: true,
        defaultData: '<sampleData><username>admin</username></sampleData>',
        exportDefaultData: true,
        credentials: { method: 'None' },
      },
    },
    {
      type: 'DATAOBJECT',
      id: IDS.dataObject,
      name: 'sampleData',
      fields: { dataSourceId: IDS.dataSource, displayName: 'sampleData', dataObjectName: 'sampleData', filters: [{ name: 'username', isFilter: true }] },
    },
    { type: 'PUBFOLDER', id: IDS.publishFolder, name: 'PublishFolder', fields: { groups: ['Infiniti Users'] } },
    {
      type: 'PUBPROJECT',
      id: IDS.project,
      name: IDS.project,
      fields: { projectId: IDS.project, folderId: IDS.publishFolder, layoutId: null, options: { allowSave: true } },
    },
    {
      type: 'USER',
      id: IDS.admin,
      name: 'admin',
      fields: { username: 'admin', firstName: 'Admin', lastName: 'Administrator', roles: ['Global Administrator'], groups: ['Infiniti Users'] },
    },
    { type: 'GROUP', id: IDS.group, name: 'Infiniti Users', fields: { external: false, system: true, roles: [] } },
    { type: 'ROLE', id: IDS.role, name: 'Global Administrator', fields: { permissions: ['Design projects', 'Manage data sources'] } },
    { type: 'CUSTOMFIELD', id: IDS.customField, name: 'transactionId', fields: { validationType: 'Text', location: 'ResponseMetadata' } },
    {
      type: 'CONNSETTING',
      id: IDS.connector,
      name: 'Default SQL Server Connection String',
      fields: {
        value: 'Data Source=dev-sql',
        metadata: { typeId: 'b772a946-1096-4357-8275-4a8c015929f3', description: 'Default SQL Server Connection String' },
      },
    },
  ];
}

/** The export body of the C# sample (`ProjectSyncExportImport`), for one project. */
export function csharpExportBody(projectId: string): unknown {
  return {
    projects: [{ id: projectId }],
    options: {
      projects: true,
      projectFragments: true,
      dataSources: true,
      connectionStrings: true,
      defaultData: true,
      publishFolders: false,
      groups: false,
      users: false,
      customFields: false,
      connectorSettings: false,
      roles: false,
    },
  };
}

/** The export body of the Postman collection, misspelt `"defaultData "` included. */
export function postmanExportBody(projectIds: string[]): unknown {
  return {
    projects: projectIds.map((id) => ({ id })),
    options: {
      projects: true,
      projectFragments: true,
      dataSources: true,
      connectionStrings: true,
      'defaultData ': true,
      publishFolders: true,
      groups: true,
      users: true,
      customFields: true,
      connectorSettings: true,
      roles: true,
    },
  };
}

/** The import options of the Postman collection. */
export const POSTMAN_IMPORT_OPTIONS = {
  projects: 'Always',
  contentLibraryItems: 'Always',
  dataSources: 'Always',
  contentFolders: 'Always',
  publishedProjects: 'Always',
  publishFolders: 'Always',
  users: 'Always',
  groups: 'Always',
  roles: 'Always',
  customFields: 'Always',
  connectorSettings: 'Always',
};

export { PACK_ARRAYS } from '../../src/core/sync-pack.js';
