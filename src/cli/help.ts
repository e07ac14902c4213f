export const MAIN_HELP = `cronwarden — find Cloud Scheduler jobs whose calls to Cloud Run and Cloud Functions fail with 401/403 or are wired insecurely.

Usage:
  cronwarden scan [options]          scan an inventory and report findings
  cronwarden rules [--rule-pack F]   list the rules
  cronwarden explain RULE_ID [--rule-pack F]
                                     print a rule's documentation and fixes
  cronwarden report --findings FILE --format FMT --output FILE
                                     an html, markdown, sarif or csv report from scan output
  cronwarden replay-spool FILE       publish undelivered Pub/Sub messages again
  cronwarden --help | --version

Run 'cronwarden scan --help' for the scan options. --rule-pack FILE (repeatable, or
CRONWARDEN_RULE_PACKS) adds the rules of an outside rule pack; see the README.

Exit codes (--exit-mode cli, the default outside Cloud Run):
  0  scan complete; no failing finding at or above --fail-on
  1  failing findings at or above --fail-on
  2  usage, configuration or internal error (nothing trustworthy was produced)
  3  partial: unreadable input, a coverage gap, undelivered findings or an interrupted run
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
  --spool-path FILE     where undeliverable Pub/Sub messages are kept                       [CRONWARDEN_SPOOL_PATH]

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

export const REPLAY_HELP = `Usage: cronwarden replay-spool FILE [--topic projects/P/topics/T]

Publishes every message of a spool file (written by 'scan --topic' for messages Pub/Sub did not
take) again, with its data and attributes unchanged, to its own topic or to --topic. Messages that
fail again, and lines that do not parse, go to FILE.remaining.jsonl; FILE is left as it is.
Exit 0 when every message was delivered, 3 when some failed again, 2 on a usage error.
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
