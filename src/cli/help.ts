export const MAIN_HELP = `cronwarden — find Cloud Scheduler jobs whose calls to Cloud Run and Cloud Functions fail with 401/403 or are wired insecurely.

Usage:
  cronwarden scan [options]          scan an inventory and report findings
  cronwarden rules [--rule-pack F]   list the rules
  cronwarden explain RULE_ID [--rule-pack F]
                                     print a rule's documentation and fixes
  cronwarden replay-spool FILE|DIR   publish undelivered Pub/Sub messages again
  cronwarden --help | --version

Run 'cronwarden scan --help' for the scan options. --rule-pack FILE (repeatable, or
CRONWARDEN_RULE_PACKS) adds the rules of an outside rule pack; see the README.

Exit codes (--exit-mode cli, the default outside Cloud Run):
  0  scan complete; no failing finding at or above --fail-on
  1  failing findings at or above --fail-on
  2  usage, configuration, credentials or internal error, or an --output that cannot be
     opened (nothing trustworthy was produced)
  3  partial: unreadable input, a coverage gap, undelivered findings, an interrupted run,
     an output that failed mid-run, or a rule error
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

Output:
  --format FMT          table | jsonl | json (default: table on a terminal, jsonl otherwise) [CRONWARDEN_FORMAT]
  --output FILE         write findings to FILE instead of stdout                            [CRONWARDEN_OUTPUT]
  --include-passes      also emit passing results                                           [CRONWARDEN_INCLUDE_PASSES]
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
