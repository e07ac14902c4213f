import { defineRule, type RuleResult } from '../src/engine/define-rule.js';
import type { Inventory } from '../src/model/inventory.js';
import type { AccessVerdict } from '../src/model/iam.js';
import type { KnownPermission } from '../src/model/predefined-roles.js';
import { SERVERLESS_TARGET_KINDS, type Target } from '../src/model/types.js';
import { describeJob, invokerGrant, targetNotInInventoryFix } from '../src/fixes/gcloud-fixes.js';
import { serviceAccountProject } from '../src/engine/predicates.js';
import { gcloud } from '../src/fixes/shell.js';

type M = 'granted' | 'iamCheckDisabled' | 'denied' | 'deniedGen2WrongRole' | 'unverifiable' | 'targetUnknown' | 'grantedViaGroup' | 'deniedGroupsChecked';

export default defineRule<M>({
  meta: {
    id: 'oidc-sa-can-invoke-target',
    title: "OIDC token's service account can invoke the target",
    severity: 'high',
    appliesTo: SERVERLESS_TARGET_KINDS,
    docs: {
      description:
        "The token's service account must hold `run.routes.invoke` on a Cloud Run service (2nd gen functions: on their underlying " +
        'Run service, where `roles/cloudfunctions.invoker` does not help) or `cloudfunctions.functions.invoke` on a 1st gen ' +
        "function, through effective IAM: the resource's own policy and its project's, folders' and organization's, with " +
        'predefined roles from a dated table and custom roles from the inventory (a DISABLED or deleted custom role grants nothing). ' +
        'A principal set of service accounts (`principalSet://cloudresourcemanager.googleapis.com/projects|folders|organizations/N/type/ServiceAccount`) ' +
        "covers the account when the account's project is, or lies under, that project, folder or organization.",
      rationale:
        'A valid token from an account without the invoke permission is refused with 403. Only an account the inventory shows ' +
        'holding the permission passes; only a group, a domain, an IAM condition or a custom role missing from the inventory could ' +
        'grant it → unverifiable, never pass.',
      sources: [
        'https://cloud.google.com/run/docs/securing/managing-access',
        'https://cloud.google.com/functions/docs/securing/authenticating (2nd gen needs roles/run.invoker on the underlying service)',
        'https://cloud.google.com/scheduler/docs/http-target-auth',
        'iann0036/iam-dataset gcp/roles (2026-08): predefined roles holding run.routes.invoke / cloudfunctions.functions.invoke',
        'cloud asset v1 assets.proto: IAM_POLICY holds only the policy set on the resource; the effective policy is the union with ancestors',
        'https://cloud.google.com/iam/docs/reference/rest/v1/organizations.roles (RoleLaunchStage DISABLED: "This role is disabled and will not contribute permissions to any principals it is granted to in policies")',
        'https://cloud.google.com/iam/docs/principal-identifiers (principalSet://cloudresourcemanager.googleapis.com/{projects|folders|organizations}/N/type/ServiceAccount: all service accounts in that project, or in the projects under that folder or organization)',
        'https://cloud.google.com/iam/docs/reference/rest/v1/Policy#Binding (allAuthenticatedUsers: anyone authenticated with a Google account or a service account)',
      ],
      fix: {
        gcloud:
          'gcloud run services add-iam-policy-binding SERVICE --region=REGION --member=serviceAccount:SA_EMAIL --role=roles/run.invoker\n' +
          '# 1st gen: gcloud functions add-iam-policy-binding FUNCTION --region=REGION --member=serviceAccount:SA_EMAIL --role=roles/cloudfunctions.invoker',
        terraform:
          'resource "google_cloud_run_v2_service_iam_member" "scheduler" {\n  name     = "SERVICE"\n  location = "REGION"\n  role     = "roles/run.invoker"\n  member   = "serviceAccount:SA_EMAIL"\n}',
      },
      limitations: [
        'Group and domain membership, IAM conditions and IAM deny policies are not in Cloud Asset Inventory: grants that depend on them are unverifiable; with --resolve-groups, Cloud Identity settles group membership into pass or fail.',
        "A principal set of service accounts whose account's project or ancestry the inventory does not show is unverifiable; workload and workforce pool sets and principal:// identifiers are not resolved (unverifiable).",
        'A project, folder or organization policy missing from the inventory makes a denial unverifiable (coverage gap).',
      ],
    },
    messages: {
      granted: '{{sa}} holds {{permission}} on {{target}} through {{via}}.',
      iamCheckDisabled: '{{target}} has the invoker IAM check disabled; any token is let through.',
      denied: '{{sa}} does not hold {{permission}} on {{target}}: no policy in the inventory grants it ({{checked}}); calls get 403.',
      deniedGen2WrongRole:
        '{{sa}} has roles/cloudfunctions.invoker on 2nd gen function {{function}}, which does not let it call; it needs run.routes.invoke on {{target}}: calls get 403.',
      unverifiable: 'Whether {{sa}} holds {{permission}} on {{target}} cannot be confirmed: {{reasons}}.',
      targetUnknown: 'The target {{target}} is not in the inventory; who may invoke it is unknown.',
      // Used when --resolve-groups settles an `unverifiable` verdict (src/evidence/groups).
      grantedViaGroup: '{{sa}} holds {{permission}} on {{target}} through {{via}}, as a member: {{path}}.',
      deniedGroupsChecked: '{{sa}} is not a member of {{groups}}, the only grants of {{permission}} on {{target}}: calls get 403.',
    },
    remediation: { summary: "Grant the token's service account roles/run.invoker (Cloud Run, 2nd gen) or roles/cloudfunctions.invoker (1st gen) on the target.", automatic: true },
  },
  // The verdict depends only on the target and the token's account.
  memoKey: (job) => job.http?.oidcToken?.serviceAccountEmail,
  evaluate(job, { inventory, target }) {
    const sa = job.http?.oidcToken?.serviceAccountEmail;
    return sa ? judge(inventory, target, sa) : [];
  },
  // Resource level only: a binding on the service or function itself, never on a project,
  // folder or organization, and nothing else in the policy changes.
  remediate(job, { target, inventory }, result) {
    const sa = job.http?.oidcToken?.serviceAccountEmail;
    if (!sa || (result.messageId !== 'denied' && result.messageId !== 'deniedGen2WrongRole')) return { manual: 'only a confirmed denial is fixed automatically' };
    // Granting a role to an account that is disabled or gone fixes nothing (token-sa-exists-and-enabled says what to do).
    const account = inventory.serviceAccount(sa);
    if (account?.disabled) return { manual: `${sa} is disabled: enable it or point the job at another account first` };
    const saProject = /@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(sa.toLowerCase())?.[1];
    if (!account && saProject && inventory.coversServiceAccountsOf(saProject)) return { manual: `${sa} does not exist in project ${saProject}` };
    // Scheduler uses only an account of the job's own project (OidcToken docs): a grant to another
    // project's account fixes nothing (token-sa-in-job-project says what to do).
    if (saProject && saProject !== job.projectId && (inventory.projectNumber(saProject) ?? saProject) !== (inventory.projectNumber(job.projectId) ?? job.projectId)) {
      return { manual: `${sa} belongs to project ${saProject}, not the job's project ${job.projectId}: use an account of ${job.projectId} first` };
    }
    const member = `serviceAccount:${sa}`;
    const grant = (api: 'run' | 'functions-v1', resource: string, role: string, what: string) => ({
      change: { kind: 'iam-member' as const, api, resource, role, member, before: { memberPresent: false }, after: { memberPresent: true } },
      why: `grant ${role} to ${member} on ${what} ${resource} (resource level only)`,
    });
    switch (target.kind) {
      case 'cloud-run':
        return grant('run', target.service.name, 'roles/run.invoker', 'the Cloud Run service');
      case 'function-gen2':
        return target.service ? grant('run', target.service.name, 'roles/run.invoker', 'the underlying Run service of 2nd gen function ' + target.fn.name + ',') : { manual: 'the underlying Run service is not in the inventory' };
      case 'function-gen1':
        return grant('functions-v1', target.fn.name, 'roles/cloudfunctions.invoker', 'the 1st gen function');
      default:
        return { manual: 'the target is not in the inventory' };
    }
  },
  fix({ messageId, data, job, target, inventory }) {
    const sa = String(data.sa ?? job.http?.oidcToken?.serviceAccountEmail ?? '');
    const grant = invokerGrant(target, `serviceAccount:${sa}`);
    const project = serviceAccountProject(inventory, sa);
    if (messageId !== 'targetUnknown' && !inventory.serviceAccount(sa) && project && inventory.coversServiceAccountsOf(project)) {
      // Nothing can be granted to an account that does not exist: the job needs another account first.
      return {
        summary: `${sa} does not exist, so no role can be granted to it: point the job at an existing account (see the token-sa-exists-and-enabled finding), then grant that account ${grant ? grant.what : 'the invoker role'}.`,
        commands: [describeJob(job)],
      };
    }
    switch (messageId) {
      case 'denied':
      case 'deniedGen2WrongRole':
        if (!grant) return undefined;
        return {
          summary:
            `Grant ${sa} ${grant.what}.` +
            (messageId === 'deniedGen2WrongRole' ? ' roles/cloudfunctions.invoker on a 2nd gen function does not let it call; remove that binding if nothing else needs it.' : ''),
          commands: [grant.command],
          terraform: grant.terraform,
        };
      case 'unverifiable':
        return {
          summary: `Confirm whether ${sa} can invoke the target through a group, domain, condition or custom role the inventory cannot show; if not, grant ${grant ? grant.what : 'it the invoker role'}.`,
          commands: [...policyReads(target), ...(grant ? [grant.command] : [])],
          ...(grant ? { terraform: grant.terraform } : {}),
        };
      case 'targetUnknown':
        return targetNotInInventoryFix(String(data.target), job);
      default:
        return undefined;
    }
  },
});

function judge(inventory: Inventory, target: Target, sa: string): RuleResult<M>[] {
  const member = `serviceAccount:${sa}`;
  switch (target.kind) {
    case 'cloud-run':
    case 'function-gen2': {
      const service = target.service;
      if (!service) return [unknown(`${target.kind === 'function-gen2' ? target.fn.name : target.url} (its Run service)`, sa)];
      if (service.invokerIamDisabled) {
        return [{ status: 'pass', messageId: 'iamCheckDisabled', data: { target: service.name }, evidence: { invokerIamDisabled: true } }];
      }
      const permission: KnownPermission = 'run.routes.invoke';
      const verdict = inventory.access({ member, permission, resource: service.source.assetName, ancestors: inventory.ancestorsOf(service) });
      if (verdict.result === 'denied' && target.kind === 'function-gen2' && holdsFunctionsInvoker(inventory, member, target.fn.source.assetName)) {
        return [
          {
            status: 'fail',
            messageId: 'deniedGen2WrongRole',
            data: { sa, function: target.fn.name, target: service.name },
            evidence: { checkedPolicies: verdict.checkedPolicies },
            cause: sa,
          },
        ];
      }
      return [fromVerdict(verdict, sa, permission, service.name)];
    }
    case 'function-gen1': {
      const permission: KnownPermission = 'cloudfunctions.functions.invoke';
      const fn = target.fn;
      const verdict = inventory.access({ member, permission, resource: fn.source.assetName, ancestors: inventory.ancestorsOf(fn) });
      return [fromVerdict(verdict, sa, permission, fn.name)];
    }
    case 'unknown-run':
    case 'unknown-function':
      return [unknown(target.url, sa)];
    default:
      return [];
  }
}

function unknown(target: string, sa: string): RuleResult<M> {
  return { status: 'unverifiable', messageId: 'targetUnknown', data: { target }, severity: 'low', cause: sa };
}

function fromVerdict(verdict: AccessVerdict, sa: string, permission: string, target: string): RuleResult<M> {
  const data = { sa, permission, target };
  switch (verdict.result) {
    case 'granted': {
      const g = verdict.grants[0]!;
      return { status: 'pass', messageId: 'granted', data: { ...data, via: `${g.role} for ${g.member} on ${g.resource}` }, evidence: { grants: verdict.grants }, cause: sa };
    }
    case 'denied':
      return {
        status: 'fail',
        messageId: 'denied',
        data: { ...data, checked: verdict.checkedPolicies.join(', ') },
        evidence: { checkedPolicies: verdict.checkedPolicies },
        cause: sa,
      };
    case 'unverifiable':
      return {
        status: 'unverifiable',
        messageId: 'unverifiable',
        severity: 'medium',
        data: { ...data, reasons: verdict.reasons.join('; ') },
        // Account, permission, target and gaps let group membership settle the verdict later.
        evidence: { reasons: verdict.reasons, possibleGrants: verdict.possibleGrants, checkedPolicies: verdict.checkedPolicies, gaps: verdict.gaps, account: sa, permission, target },
        cause: sa,
      };
  }
}

/** Whether the function's own policy gives the account roles/cloudfunctions.invoker: the usual wrong fix for 2nd gen. */
function holdsFunctionsInvoker(inv: Inventory, member: string, functionAsset: string): boolean {
  const policy = inv.policy(functionAsset);
  return policy?.bindings.some((b) => b.role === 'roles/cloudfunctions.invoker' && b.members.some((m) => m.toLowerCase() === member.toLowerCase())) ?? false;
}

/** Commands that show the target's own IAM policy, to read grants the inventory could not confirm. */
function policyReads(target: Target): string[] {
  if (target.kind === 'function-gen1') {
    return [gcloud(['functions', 'get-iam-policy', target.fn.functionName], { region: target.fn.region, project: target.fn.project })];
  }
  const service = target.kind === 'cloud-run' ? target.service : target.kind === 'function-gen2' ? target.service : undefined;
  return service ? [gcloud(['run', 'services', 'get-iam-policy', service.serviceName], { region: service.region, project: service.project })] : [];
}
