/**
 * What a caller needs to read what sits above a project or folder, and a predefined role that
 * grants it (https://cloud.google.com/iam/docs/roles-permissions/resourcemanager and
 * https://cloud.google.com/iam/docs/roles-permissions/browser). The roles named are read-only
 * ones: the least a scanner should be given for the purpose.
 */
export const READ_ABOVE_PERMISSIONS = {
  getProject: { permission: 'resourcemanager.projects.get', role: 'roles/browser' },
  getFolder: { permission: 'resourcemanager.folders.get', role: 'roles/browser' },
  folderPolicy: { permission: 'resourcemanager.folders.getIamPolicy', role: 'roles/iam.securityReviewer' },
  organizationPolicy: { permission: 'resourcemanager.organizations.getIamPolicy', role: 'roles/iam.securityReviewer' },
} as const;

export type ReadAboveCall = keyof typeof READ_ABOVE_PERMISSIONS;

/** "grant resourcemanager.folders.getIamPolicy on folders/1 (e.g. roles/iam.securityReviewer) to the scanner's account". */
export function grantHint(call: ReadAboveCall, resource: string): string {
  const { permission, role } = READ_ABOVE_PERMISSIONS[call];
  return `the scanner's account needs ${permission} on ${resource} (held by ${role}, among others)`;
}
