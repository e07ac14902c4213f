export const MAIN_HELP = `cronwarden — find Cloud Scheduler jobs whose calls to Cloud Run and Cloud Functions fail with 401/403 or are wired insecurely.

Usage:
  cronwarden scan [options]          scan an inventory and report findings
  cronwarden rules                   list the rules
  cronwarden explain RULE_ID         print a rule's documentation and fixes
  cronwarden --help | --version

Run 'cronwarden scan --help' for the scan options.

Exit codes:
  0  scan complete; no failing finding at or above --fail-on
  1  failing findings at or above --fail-on
  2  usage, configuration or internal error (nothing trustworthy was produced)
  3  partial: unreadable input, a coverage gap, undelivered findings or an interrupted run
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
  --spool-path FILE     where undeliverable Pub/Sub messages are kept                       [CRONWARDEN_SPOOL_PATH]

API listing:
  --concurrency N       concurrent Cloud Asset API calls (default 8)                        [CRONWARDEN_CONCURRENCY]
  --rate-per-minute N   client-side cap on Cloud Asset API calls per minute (default 90)    [CRONWARDEN_RATE_PER_MINUTE]

Logging:
  --log-level LEVEL     debug | info | warn | error | silent (default info)                 [CRONWARDEN_LOG_LEVEL]
  --log-format FMT      text | json (default text)                                          [CRONWARDEN_LOG_FORMAT]

Findings go to stdout (or --output); logs and the summary go to stderr.
`;
