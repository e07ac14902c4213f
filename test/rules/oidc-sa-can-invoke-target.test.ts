import { describe, expect, it } from 'vitest';
import rule from '../../rules/oidc-sa-can-invoke-target.js';
import type { AssetRecord, IamBindingJson } from '../../src/inventory/asset-record.js';
import { InventoryBuilder } from '../../src/model/inventory.js';
import { ruleTester } from '../support/rule-tester.js';
import {
  FOLDER, GEN1_URL, GEN2_RUN_URL, GEN2_URL, NUMBER, ORG, PROJECT, RUN_URL, SA, baseWorld, bind, customRole, defaultProjectBindings, folderPolicy, functionPolicy,
  job, orgPolicy, projectPolicy, runName, runPolicy, runService, withRecords, without,
} from '../support/builders.js';

const ME = `serviceAccount:${SA}`;
const PROJECT_ROLE = `projects/${PROJECT}/roles/schedulerInvoker`;
const ORG_ROLE = `organizations/${ORG}/roles/schedulerInvoker`;

/** baseWorld with no invoker binding on `svc`, plus the given records. */
const noServiceGrant = (...records: AssetRecord[]): AssetRecord[] => withRecords(baseWorld(), runPolicy('svc'), ...records);
const projectGrant = (...bindings: IamBindingJson[]): AssetRecord => projectPolicy(...defaultProjectBindings(), ...bindings);
const isPolicyOf = (name: string) => (r: AssetRecord): boolean => r.iamPolicy !== undefined && r.name === name;
const ORG_POLICY = orgPolicy().name;
const saSet = (container: string): string => `principalSet://cloudresourcemanager.googleapis.com/${container}/type/ServiceAccount`;
/** An account of a project the inventory does not hold. */
const STRANGER = 'runner@proj-unknown.iam.gserviceaccount.com';
const FOLDER_POLICY = folderPolicy().name;

ruleTester(rule, {
  valid: [
    { name: 'run.invoker on the service', assets: [...baseWorld(), job()] },
    { name: 'run.invoker inherited from the project', assets: [...noServiceGrant(projectGrant(bind('roles/run.invoker', ME))), job()] },
    { name: 'run.invoker inherited from the folder', assets: [...noServiceGrant(folderPolicy(bind('roles/run.invoker', ME))), job()] },
    {
      name: 'run.invoker inherited from the organization',
      assets: [...noServiceGrant(orgPolicy(bind('roles/resourcemanager.organizationAdmin', 'group:admins@example.com'), bind('roles/run.invoker', ME))), job()],
    },
    { name: 'roles/editor at the project', assets: [...noServiceGrant(projectGrant(bind('roles/editor', ME))), job()] },
    { name: 'roles/owner at the project', assets: [...noServiceGrant(projectGrant(bind('roles/owner', ME))), job()] },
    { name: 'roles/run.servicesInvoker on the service', assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.servicesInvoker', ME))), job()] },
    {
      name: 'project custom role from the inventory that holds run.routes.invoke',
      assets: [...withRecords(baseWorld(), customRole(PROJECT_ROLE, ['run.routes.invoke', 'run.services.get']), runPolicy('svc', bind(PROJECT_ROLE, ME))), job()],
    },
    {
      name: 'organization custom role granted at the organization',
      assets: [...noServiceGrant(customRole(ORG_ROLE, ['run.routes.invoke']), orgPolicy(bind(ORG_ROLE, ME))), job()],
    },
    { name: 'allUsers holds run.invoker', assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', 'allUsers'))), job()] },
    {
      name: 'allAuthenticatedUsers holds run.invoker',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', 'allAuthenticatedUsers'))), job()],
    },
    { name: 'invoker IAM check disabled (v2 shape), no binding', assets: [...noServiceGrant(runService({ invokerIamDisabled: true })), job()] },
    { name: 'invoker IAM check disabled (v1 shape), no binding', assets: [...noServiceGrant(runService({ shape: 'v1', invokerIamDisabled: true })), job()] },
    {
      name: 'folder and organization policies missing, but a direct grant on the service',
      assets: [...without(baseWorld(), (r) => isPolicyOf(ORG_POLICY)(r) || isPolicyOf(FOLDER_POLICY)(r)), job()],
    },
    { name: 'email in the binding differs in case', assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', `serviceAccount:${SA.toUpperCase()}`))), job()] },
    { name: 'email in the job differs in case', assets: [...baseWorld(), job({ oidc: { sa: SA.replace('invoker', 'Invoker'), audience: RUN_URL } })] },
    { name: 'gen1 function: cloudfunctions.invoker on the function', assets: [...baseWorld(), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL } })] },
    { name: 'gen1 function: roles/cloudfunctions.invoker inherited from the project', assets: [
      ...withRecords(baseWorld(), functionPolicy('fn1'), projectGrant(bind('roles/cloudfunctions.invoker', ME))),
      job({ uri: GEN1_URL, oidc: { audience: GEN1_URL } }),
    ] },
    { name: 'gen2 function on its cloudfunctions.net URL: run.invoker on its Run service', assets: [...baseWorld(), job({ uri: GEN2_URL, oidc: { audience: GEN2_RUN_URL } })] },
    { name: 'gen2 function on its Run URL: run.invoker on its Run service', assets: [...baseWorld(), job({ uri: GEN2_RUN_URL, oidc: { audience: GEN2_RUN_URL } })] },
    {
      name: 'custom role at GA stage grants',
      assets: [...noServiceGrant(customRole(PROJECT_ROLE, ['run.routes.invoke'], { stage: 'GA' }), projectGrant(bind(PROJECT_ROLE, ME))), job()],
    },
    { name: 'principal set of the account’s project', assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', saSet(`projects/${NUMBER}`)))), job()] },
    { name: 'principal set of the account’s folder', assets: [...noServiceGrant(projectGrant(bind('roles/run.invoker', saSet(`folders/${FOLDER}`)))), job()] },
    { name: 'principal set of the account’s organization', assets: [...noServiceGrant(orgPolicy(bind('roles/run.invoker', saSet(`organizations/${ORG}`)))), job()] },
    {
      name: 'principal set resolved from the email when the account asset is missing',
      assets: [...without(withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', saSet(`folders/${FOLDER}`)))), (r) => r.assetType === 'iam.googleapis.com/ServiceAccount'), job()],
    },
    {
      name: 'a traffic-tag URL resolves to its service, whose IAM applies',
      assets: [...baseWorld(), job({ uri: `https://beta---svc-${NUMBER}.us-central1.run.app/run`, oidc: { audience: RUN_URL } })],
    },
    { name: 'job without an OIDC token yields no result', assets: [...baseWorld(), job({ oidc: false })] },
    { name: 'external target is not this rule’s business', assets: [...baseWorld(), job({ uri: 'https://hooks.example.com/x' })] },
  ],
  invalid: [
    {
      name: 'no binding anywhere',
      assets: [...noServiceGrant(), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high', messageIncludes: [SA, 'run.routes.invoke', 'services/svc'] }],
    },
    {
      name: 'run.invoker held by another account only',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', `serviceAccount:other@${PROJECT}.iam.gserviceaccount.com`))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'roles/viewer at the project does not grant invoke',
      assets: [...noServiceGrant(projectGrant(bind('roles/viewer', ME))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'roles/run.viewer on the service does not grant invoke',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.viewer', ME))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'custom role from the inventory without run.routes.invoke',
      assets: [...withRecords(baseWorld(), customRole(PROJECT_ROLE, ['run.services.get']), runPolicy('svc', bind(PROJECT_ROLE, ME))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'deleted custom role grants nothing',
      assets: [...noServiceGrant(customRole(PROJECT_ROLE, ['run.routes.invoke'], { deleted: true }), projectGrant(bind(PROJECT_ROLE, ME))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'DISABLED custom role holding run.routes.invoke grants nothing',
      assets: [...noServiceGrant(customRole(PROJECT_ROLE, ['run.routes.invoke'], { stage: 'DISABLED' }), projectGrant(bind(PROJECT_ROLE, ME))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'DISABLED organization custom role on the service grants nothing',
      assets: [...withRecords(baseWorld(), customRole(ORG_ROLE, ['run.routes.invoke'], { stage: 'DISABLED' }), runPolicy('svc', bind(ORG_ROLE, ME))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'principal set of another project is no grant',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', saSet('projects/999999999999')))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'principal set of another folder is no grant',
      assets: [...noServiceGrant(projectGrant(bind('roles/run.invoker', saSet('folders/777777777777')))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'principal set of another organization is no grant',
      assets: [...noServiceGrant(orgPolicy(bind('roles/run.invoker', saSet('organizations/555555555555')))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'principal set, account of a project the inventory does not hold: unverifiable',
      assets: [
        ...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', saSet(`folders/${FOLDER}`)))),
        job({ oidc: { sa: STRANGER, audience: RUN_URL } }),
      ],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['proj-unknown', 'not in the inventory'] }],
    },
    {
      name: 'principal set of a Google-managed account’s project cannot be resolved: unverifiable',
      assets: [
        ...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', saSet(`projects/${NUMBER}`)))),
        job({ oidc: { sa: `service-${NUMBER}@gcp-sa-example.iam.gserviceaccount.com`, audience: RUN_URL } }),
      ],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium' }],
    },
    {
      name: 'workload identity pool principal set stays unresolved',
      assets: [
        ...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', `principalSet://iam.googleapis.com/projects/${NUMBER}/locations/global/workloadIdentityPools/p/*`))),
        job(),
      ],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['does not resolve'] }],
    },
    {
      name: 'custom role missing from the inventory: unverifiable',
      assets: [...noServiceGrant(projectGrant(bind(PROJECT_ROLE, ME))), job()],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: [`custom role ${PROJECT_ROLE} is not in the inventory`] }],
    },
    {
      name: 'only a group holds run.invoker: unverifiable',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', 'group:schedulers@example.com'))), job()],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['group schedulers@example.com'] }],
    },
    {
      name: 'only a domain holds run.invoker: unverifiable',
      assets: [...noServiceGrant(projectGrant(bind('roles/run.invoker', 'domain:example.com'))), job()],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['domain example.com'] }],
    },
    {
      name: 'the only binding has an IAM condition: unverifiable',
      assets: [
        ...withRecords(baseWorld(), runPolicy('svc', {
          role: 'roles/run.invoker',
          members: [ME],
          condition: { title: 'business-hours', expression: 'request.time.getHours("Europe/Berlin") < 18' },
        })),
        job(),
      ],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['business-hours'] }],
    },
    {
      name: 'deleted:serviceAccount member grants nothing',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', `deleted:serviceAccount:${SA}?uid=112233445566778899001`))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'user member never covers a service account',
      assets: [...withRecords(baseWorld(), runPolicy('svc', bind('roles/run.invoker', `user:${SA}`))), job()],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'folder policy missing, no direct grant: coverage gap',
      assets: [...without(noServiceGrant(), isPolicyOf(FOLDER_POLICY)), job()],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['coverage gap', 'folders/'] }],
    },
    {
      name: 'organization policy missing, no direct grant: coverage gap',
      assets: [...without(noServiceGrant(), isPolicyOf(ORG_POLICY)), job()],
      expect: [{ status: 'unverifiable', messageId: 'unverifiable', severity: 'medium', messageIncludes: ['coverage gap', `organizations/${ORG}`] }],
    },
    {
      name: 'gen2 with only roles/cloudfunctions.invoker on the function',
      assets: [
        ...withRecords(baseWorld(), runPolicy('fn2'), functionPolicy('fn2', bind('roles/cloudfunctions.invoker', ME))),
        job({ uri: GEN2_RUN_URL, oidc: { audience: GEN2_RUN_URL } }),
      ],
      expect: [{ status: 'fail', messageId: 'deniedGen2WrongRole', severity: 'high', messageIncludes: ['functions/fn2', 'services/fn2'] }],
    },
    {
      name: 'gen2 with only roles/cloudfunctions.invoker on the function, called on its cloudfunctions.net URL',
      assets: [
        ...withRecords(baseWorld(), runPolicy('fn2'), functionPolicy('fn2', bind('roles/cloudfunctions.invoker', ME))),
        job({ uri: GEN2_URL, oidc: { audience: GEN2_RUN_URL } }),
      ],
      expect: [{ status: 'fail', messageId: 'deniedGen2WrongRole', severity: 'high' }],
    },
    {
      name: 'gen2 with roles/cloudfunctions.invoker at the project only',
      assets: [...withRecords(baseWorld(), runPolicy('fn2'), projectGrant(bind('roles/cloudfunctions.invoker', ME))), job({ uri: GEN2_RUN_URL, oidc: { audience: GEN2_RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high' }],
    },
    {
      name: 'gen2 whose Run service is missing from the inventory: unverifiable',
      assets: [...without(baseWorld(), (r) => r.name === runName('fn2')), job({ uri: GEN2_URL, oidc: { audience: GEN2_RUN_URL } })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low', messageIncludes: ['functions/fn2'] }],
    },
    {
      name: 'gen1 with roles/run.invoker only is denied',
      assets: [...withRecords(baseWorld(), functionPolicy('fn1', bind('roles/run.invoker', ME))), job({ uri: GEN1_URL, oidc: { audience: GEN1_URL } })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high', messageIncludes: ['cloudfunctions.functions.invoke', 'functions/fn1'] }],
    },
    {
      name: 'a traffic-tag URL of a service without a grant is denied, not unknown',
      assets: [...noServiceGrant(), job({ uri: `https://beta---${new URL(RUN_URL).host}/run`, oidc: { audience: RUN_URL } })],
      expect: [{ status: 'fail', messageId: 'denied', severity: 'high', messageIncludes: ['services/svc'] }],
    },
    {
      name: 'unknown run.app target: unverifiable',
      assets: [...baseWorld(), job({ uri: 'https://ghost-zz9yy8-uc.a.run.app/', oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low' }],
    },
    {
      name: 'unknown cloudfunctions.net target: unverifiable',
      assets: [...baseWorld(), job({ uri: 'https://europe-west1-other-proj.cloudfunctions.net/x', oidc: {} })],
      expect: [{ status: 'unverifiable', messageId: 'targetUnknown', severity: 'low' }],
    },
  ],
});

describe('oidc-sa-can-invoke-target with a malformed binding', () => {
  /** The RuleTester refuses records that raise problems; this case needs the warning. */
  function judge(assets: AssetRecord[]): { status: string; messageId: string; problems: string[] } {
    const problems: string[] = [];
    const builder = new InventoryBuilder((p) => problems.push(p.message));
    for (const a of assets) builder.add(a);
    const inventory = builder.finish();
    const j = inventory.jobs[0]!;
    const [result] = rule.evaluate(j, { inventory, target: inventory.target(j) });
    return { status: result!.status, messageId: result!.messageId, problems };
  }
  const malformed = { role: 'roles/run.invoker', members: 'serviceAccount:someone' } as unknown as IamBindingJson;

  it('turns a denial into unverifiable', () => {
    const out = judge([...noServiceGrant(projectGrant(malformed)), job()]);
    expect(out.problems).toEqual([expect.stringMatching(/binding 2 is malformed/)]);
    expect(out).toMatchObject({ status: 'unverifiable', messageId: 'unverifiable' });
  });

  it('does not undo a definite grant', () => {
    const out = judge([...withRecords(baseWorld(), projectGrant(malformed)), job()]);
    expect(out).toMatchObject({ status: 'pass', messageId: 'granted' });
  });
});
