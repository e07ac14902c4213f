export const MAIN_HELP = `cronwarden — find Cloud Scheduler jobs whose calls to Cloud Run and Cloud Functions fail with 401/403 or are wired insecurely.

Usage:
  cronwarden scan [options]          scan an inventory and report findings
  cronwarden rules [--rule-pack F]   list the rules
  cronwarden explain RULE_ID [--rule-pack F]
                                     print a rule's documentation and fixes
  cronwarden report --findings FILE --format FMT --output FILE
                                     an html, markdown, sarif or csv report from scan output
  cronwarden replay-spool FILE|DIR   publish undelivered Pub/Sub messages again
  cronwarden fix plan|apply|undo     plan, apply and undo fixes (see 'cronwarden fix --help')
  cronwarden --help | --version

Run 'cronwarden scan --help' for the scan options. --rule-pack FILE (repeatable, or
CRONWARDEN_RULE_PACKS) adds the rules of an outside rule pack; see the README.

Exit codes (--exit-mode cli, the default outside Cloud Run):
  0  scan complete; no failing finding at or above --fail-on
  1  failing findings at or above --fail-on
  2  usage, configuration, credentials or internal error, or an --output that cannot be
     opened (nothing trustworthy was produced)
  3  partial: unreadable input, a coverage gap, undelivered findings, an interrupted run,
     an output that failed mid-run, a rule error, or a state store (--state) that could
     not be read or written
  4  empty inventory: no Scheduler job at all was found
  5  remediation: at least one change failed
With --exit-mode cloud-run (the default in a Cloud Run job) only what a retry can fix exits
non-zero: 75 transient failure, 70 internal error, 143 stopped by SIGTERM; all else exits 0.
`;

export const SCAN_HELP = `Usage: cronwarden scan (--input FILE... | --org ID | --folder ID | --project ID) [options]

Inventory (one of):
  --input FILE          Cloud Asset Inventory export file (repeatable): 'gcloud asset export'
                        NDJSON or 'gcloud asset list --format=json' output, optionally .gz  [CRONWARDEN_INPUTS]
  --org ID              list assets of an organization through the Cloud Asset API (repeatable) [CRONWARDEN_ORGS]
  --folder ID           ... of a folder (repeatable)                                         [CRONWARDEN_FOLDERS]
  --project ID          ... of a project (repeatable)                                        [CRONWARDEN_PROJECTS]
  --max-input-size SIZE largest size of one input file once decompressed; a larger file fails
                        and the others are read (default 64GiB)                   [CRONWARDEN_MAX_INPUT_SIZE]
  --max-record-size SIZE largest single record (line or array element) (default 16MiB)
                                                                                  [CRONWARDEN_MAX_RECORD_SIZE]

Output:
  --format FMT          table | jsonl | json | html | markdown | sarif | csv
                        (default: table on a terminal, jsonl otherwise)                     [CRONWARDEN_FORMAT]
  --output FILE         write findings to FILE instead of stdout                            [CRONWARDEN_OUTPUT]
  --include-passes      also emit passing results                                           [CRONWARDEN_INCLUDE_PASSES]
  --min-severity SEV    show and emit only findings at least this severe (all are judged)   [CRONWARDEN_MIN_SEVERITY]
  --group-by KEY        table groups: project | rule | none (default project)               [CRONWARDEN_GROUP_BY]
  --wide                table: full messages, the fix and its commands                      [CRONWARDEN_WIDE]
  --fail-on SEVERITY    exit 1 when a failing finding has this severity or higher:
                        critical | high | medium | low | info | never (default: never)      [CRONWARDEN_FAIL_ON]
  --topic NAME          also publish findings to Pub/Sub topic projects/P/topics/T          [CRONWARDEN_TOPIC]
  --spool-dir DIR       directory (created 0700) for one spool file per run of the Pub/Sub
                        messages not delivered (default ./cronwarden-spool)                 [CRONWARDEN_SPOOL_DIR]
  --spool-path FILE     this spool file instead (must not exist; created 0600)              [CRONWARDEN_SPOOL_PATH]

API listing:
  --concurrency N       concurrent Cloud Asset API calls (default 8)                        [CRONWARDEN_CONCURRENCY]
  --rate-per-minute N   client-side cap on Cloud Asset API calls per minute (default 80)    [CRONWARDEN_RATE_PER_MINUTE]

Rules:
  --rule-pack FILE      also run the rules an outside rule pack (an ES module) exports;
                        repeatable. Packs are code: load only packs you trust             [CRONWARDEN_RULE_PACKS]
  --only-rule ID        run only this rule (repeatable)                                     [CRONWARDEN_ONLY_RULES]
  --skip-rule ID        do not run this rule (repeatable); the summary lists the rules run  [CRONWARDEN_SKIP_RULES]

Evidence beyond the inventory (off unless asked for):
  --attempts-window W   read refused attempts (401/403) from Scheduler's execution logs over
                        W (7d, 36h, 90m; default 7d when --attempts-from is given)        [CRONWARDEN_ATTEMPTS_WINDOW]
  --attempts-from SRC   projects (each project's _Default bucket; roles/logging.viewer) or a
                        log view projects/P/locations/L/buckets/B/views/V fed by an
                        aggregated sink (roles/logging.viewAccessor on it)                [CRONWARDEN_ATTEMPTS_FROM]
  --resolve-groups      settle grants to group: members through Cloud Identity; needs the
                        Groups Reader admin role in the Admin console (docs/evidence.md)   [CRONWARDEN_RESOLVE_GROUPS]
  --groups-rate-per-minute N  cap on Cloud Identity calls per minute (default 600)       [CRONWARDEN_GROUPS_RATE_PER_MINUTE]

Unattended remediation (docs/remediation.md; off by default):
  --remediate MODE      off | plan | apply                                                  [CRONWARDEN_REMEDIATE]
  --remediate-rule ID   rule whose findings may be fixed (repeatable; required)             [CRONWARDEN_REMEDIATE_RULES]
  --remediate-project P project whose jobs may be fixed (repeatable; required)              [CRONWARDEN_REMEDIATE_PROJECTS]
  --plan-output FILE    where the plan goes (default cronwarden-remediation-plan.json)     [CRONWARDEN_PLAN_OUTPUT]
  --max-changes N       changes started at most (default 10)                                [CRONWARDEN_MAX_CHANGES]
  --invoker-account P=EMAIL  account for project P's jobs that name none (repeatable)      [CRONWARDEN_INVOKER_ACCOUNTS]

Lifecycle and exceptions:
  --state LOCATION      keep finding state between scans: a file PATH, or
                        firestore://PROJECT[/DATABASE[/COLLECTION]]; findings then carry
                        lifecycle new|open|reopened and resolutions are reported              [CRONWARDEN_STATE]
  --exceptions FILE     accepted risks (YAML or JSON): covered findings are reported with
                        their suppression and do not count for --fail-on                  [CRONWARDEN_EXCEPTIONS]
  --exceptions-max-days N  refuse exceptions expiring more than N days ahead (default 365) [CRONWARDEN_EXCEPTIONS_MAX_DAYS]

Logging:
  --log-level LEVEL     debug | info | warn | error | silent (default info)                 [CRONWARDEN_LOG_LEVEL]
  --log-format FMT      text | json: Cloud Logging structured lines; findings on stdout become
                        log entries too (default json in a Cloud Run job, else text)        [CRONWARDEN_LOG_FORMAT]

Runtime:
  --exit-mode MODE      cli | cloud-run: exit non-zero only for what a Cloud Run retry can fix
                        (default cloud-run in a Cloud Run job, else cli)                    [CRONWARDEN_EXIT_MODE]
  In a Cloud Run job with several tasks, each task judges the jobs whose name hashes to its
  CLOUD_RUN_TASK_INDEX. SIGTERM or SIGINT stops taking jobs, flushes findings and exits.

Findings go to stdout (or --output); logs and the summary go to stderr.
`;

export const REPLAY_HELP = `Usage: cronwarden replay-spool FILE|DIR [--topic projects/P/topics/T]

Publishes every message of a spool file, or of every *.spool.jsonl file in a spool directory
(written by 'scan --topic' for messages Pub/Sub did not take), again, with its data and attributes
unchanged, to --topic or else to the topic in the file's header (never to a topic a line names).
Each message is checked against the schema of its eventType first. Messages that fail again, and
lines that do not validate (named by file and line), go to a new NAME.remaining-TIME.spool.jsonl
beside the file; the file is then renamed NAME.spool.jsonl.replayed.
Exit 0 when every message was delivered, 3 when some were not, 2 on a usage error.
`;

export const FIX_HELP = `Usage:
  cronwarden fix plan (--input FILE... | --org ID | --folder ID | --project ID) --output PLAN [options]
  cronwarden fix apply PLAN [--yes] [--max-changes N] [options]
  cronwarden fix undo RECORDS [--yes] [--max-changes N] [options]

plan   scans, and writes a plan (JSON, docs/remediation.md) with one entry per change: the
       finding, the resource, the exact before and after of the fields or binding it touches,
       and why. Prints it as a diff. Writes nothing to Google Cloud.
apply  makes the changes left in PLAN (delete an entry to withhold it), each re-checked on the
       live job or policy just before it is made. Writes one record per change (JSON lines) to
       --output or stdout, to the log and, with --topic, to Pub/Sub.
undo   restores what the applied records in RECORDS replaced, where the resource still shows
       what the change set.

Options:
  --output FILE             plan: the plan file; apply/undo: the records file    [CRONWARDEN_FIX_OUTPUT]
  --invoker-account P=EMAIL plan: the account for project P's jobs that name none (repeatable) [CRONWARDEN_INVOKER_ACCOUNTS]
  --yes                     apply/undo without asking (required without a terminal) [CRONWARDEN_FIX_YES]
  --max-changes N           changes started in one run at most, retries included (default 10) [CRONWARDEN_MAX_CHANGES]
  --fix-concurrency N       jobs and policies worked on at once, 1-64 (default 8) [CRONWARDEN_FIX_CONCURRENCY]
  --topic NAME              also publish each record to this Pub/Sub topic        [CRONWARDEN_TOPIC]
  --rule-pack FILE, --only-rule ID, --skip-rule ID, --log-level, --log-format, and the scan's
  inventory options: as for 'cronwarden scan'.

Unattended (cronwarden scan): --remediate off|plan|apply [CRONWARDEN_REMEDIATE] with
  --remediate-rule ID [CRONWARDEN_REMEDIATE_RULES] and --remediate-project P
  [CRONWARDEN_REMEDIATE_PROJECTS] allow-lists, plan written to --plan-output [CRONWARDEN_PLAN_OUTPUT].

Exit codes: 0 done, 2 usage or configuration error, 3 partial (scan gaps, records not
published, stopped by SIGTERM), 5 at least one change failed.
`;

export const REPORT_HELP = `Usage: cronwarden report --findings FILE [--findings FILE...] --format FMT --output FILE [--rule-pack F]

Writes a report from scan output: 'scan --format json' (findings and the summary: coverage gaps
and partial-scan warnings are shown at the top) or 'scan --format jsonl' (findings only: the
report then says that coverage and partial-scan information was not available).

  --findings FILE   scan output to read (repeatable; findings of all files are merged)
  --format FMT      html | markdown | sarif | csv
                      html      one self-contained page: charts, filters, evidence, fix commands
                      markdown  for tickets and pull-request comments, under 65,536 characters
                      sarif     SARIF 2.1.0 for code-scanning uploads
                      csv       one row per finding (RFC 4180)
  --output FILE     where to write the report ('-' for stdout)
  --rule-pack FILE  load a rule pack, for its rules' help text (repeatable)  [CRONWARDEN_RULE_PACKS]

Exit 0 when the report was written from readable input, 3 when some findings or summaries could
not be read (they are named on stderr and in the report), 2 on a usage error.
`;
