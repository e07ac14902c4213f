#!/usr/bin/env bash
# Deploys cronwarden as a nightly Cloud Run job, with least privilege. Safe to run again: each
# step creates what is missing and brings what exists to the settings below.
#
#   PROJECT=sec-tools ORG_ID=123456789012 deploy/deploy.sh            # everything
#   PROJECT=sec-tools ORG_ID=123456789012 deploy/deploy.sh --dry-run  # print the commands only
#   deploy/deploy.sh --only=job --image=IMAGE                          # just the Run job (Cloud Build)
#
# What it creates and why each grant is needed: docs/deploy.md.
set -euo pipefail

# Settings. Each one can be given in the environment.
PROJECT="${PROJECT:-}"                              # project that hosts the job, topic and accounts
PROJECT_NUMBER="${PROJECT_NUMBER:-}"                # looked up when empty
ORG_ID="${ORG_ID:-}"                                # organization to scan
REGION="${REGION:-europe-west1}"                    # Cloud Run, Scheduler and Artifact Registry region
REPOSITORY="${REPOSITORY:-cronwarden}"              # Artifact Registry repository
IMAGE="${IMAGE:-}"                                  # default: REGION-docker.pkg.dev/PROJECT/REPOSITORY/cronwarden:latest
JOB="${JOB:-cronwarden-scan}"                       # Cloud Run job
TOPIC="${TOPIC:-cronwarden-findings}"               # Pub/Sub topic for findings
STATE_DATABASE="${STATE_DATABASE:-cronwarden}"      # Firestore (Native mode) database for finding state
STATE_LOCATION="${STATE_LOCATION:-}"                # its location; default: REGION
STATE_COLLECTION="${STATE_COLLECTION:-cronwarden}"  # collection of the state documents
SCANNER_SA="${SCANNER_SA:-cronwarden-scanner}"      # account the job runs as
TRIGGER_SA="${TRIGGER_SA:-cronwarden-trigger}"      # account Scheduler calls the Run Admin API as
SCHEDULER_JOB="${SCHEDULER_JOB:-cronwarden-nightly}"
SCHEDULE="${SCHEDULE:-17 3 * * *}"                  # nightly, off the hour
TIME_ZONE="${TIME_ZONE:-Etc/UTC}"
TASKS="${TASKS:-1}"                                 # parallel tasks; each judges its shard of the jobs
MAX_RETRIES="${MAX_RETRIES:-3}"                     # per task; only transient failures exit non-zero
TASK_TIMEOUT="${TASK_TIMEOUT:-3600s}"
MEMORY="${MEMORY:-1Gi}"
REMEDIATION="${REMEDIATION:-false}"                 # true: also grant the remediation custom roles
REMEDIATION_TOKEN_SAS="${REMEDIATION_TOKEN_SAS:-}"  # comma-separated accounts remediation may put in jobs

DRY_RUN=false
ONLY=all
usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    --only=job) ONLY=job ;;
    --image=*) IMAGE="${arg#--image=}" ;;
    -h | --help) usage 0 ;;
    *) echo "deploy.sh: unknown argument: $arg" >&2; usage 2 >&2 ;;
  esac
done

[[ -n "$PROJECT" ]] || { echo "deploy.sh: set PROJECT" >&2; exit 2; }
[[ "$ORG_ID" =~ ^[0-9]+$ ]] || { echo "deploy.sh: set ORG_ID to the organization's number" >&2; exit 2; }
IMAGE="${IMAGE:-${REGION}-docker.pkg.dev/${PROJECT}/${REPOSITORY}/cronwarden:latest}"
SCANNER_EMAIL="${SCANNER_SA}@${PROJECT}.iam.gserviceaccount.com"
TRIGGER_EMAIL="${TRIGGER_SA}@${PROJECT}.iam.gserviceaccount.com"
TOPIC_NAME="projects/${PROJECT}/topics/${TOPIC}"
STATE_LOCATION="${STATE_LOCATION:-$REGION}"
STATE_URL="firestore://${PROJECT}/${STATE_DATABASE}/${STATE_COLLECTION}"
RUN_URI="https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/${JOB}:run"
REMEDIATOR_PERMISSIONS="cloudscheduler.jobs.get,cloudscheduler.jobs.update,run.services.getIamPolicy,run.services.setIamPolicy,cloudfunctions.functions.getIamPolicy,cloudfunctions.functions.setIamPolicy"

# Prints a command the way a shell would read it back.
quote() {
  local out=() a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then out+=("$a"); else out+=("'${a//\'/\'\\\'\'}'"); fi
  done
  printf '%s\n' "${out[*]}"
}
# Runs a command, or only prints it with --dry-run.
run() {
  if $DRY_RUN; then quote "$@"; else echo "+ $(quote "$@")" >&2; "$@"; fi
}
# Whether a resource exists (its describe command succeeds); a dry run assumes nothing exists.
exists() {
  if $DRY_RUN; then return 1; fi
  "$@" >/dev/null 2>&1
}

deploy_job() {
  run gcloud run jobs deploy "$JOB" --project="$PROJECT" --region="$REGION" --image="$IMAGE" \
    --service-account="$SCANNER_EMAIL" --tasks="$TASKS" --max-retries="$MAX_RETRIES" \
    --task-timeout="$TASK_TIMEOUT" --memory="$MEMORY" --labels=app=cronwarden \
    --set-env-vars="CRONWARDEN_ORGS=${ORG_ID},CRONWARDEN_TOPIC=${TOPIC_NAME},CRONWARDEN_STATE=${STATE_URL}"
}

if [[ "$ONLY" == job ]]; then
  deploy_job
  exit 0
fi

echo "# APIs" >&2
run gcloud services enable run.googleapis.com cloudscheduler.googleapis.com cloudasset.googleapis.com \
  pubsub.googleapis.com artifactregistry.googleapis.com iam.googleapis.com firestore.googleapis.com --project="$PROJECT"

echo "# Artifact Registry repository for the image" >&2
exists gcloud artifacts repositories describe "$REPOSITORY" --project="$PROJECT" --location="$REGION" ||
  run gcloud artifacts repositories create "$REPOSITORY" --project="$PROJECT" --location="$REGION" --repository-format=docker

echo "# Service accounts: the scanner, and the trigger Scheduler calls as" >&2
exists gcloud iam service-accounts describe "$SCANNER_EMAIL" --project="$PROJECT" ||
  run gcloud iam service-accounts create "$SCANNER_SA" --project="$PROJECT" --display-name="cronwarden scanner"
exists gcloud iam service-accounts describe "$TRIGGER_EMAIL" --project="$PROJECT" ||
  run gcloud iam service-accounts create "$TRIGGER_SA" --project="$PROJECT" --display-name="cronwarden nightly trigger"

echo "# Findings topic" >&2
exists gcloud pubsub topics describe "$TOPIC" --project="$PROJECT" ||
  run gcloud pubsub topics create "$TOPIC" --project="$PROJECT"

echo "# Finding state: a Firestore database of its own (Native mode); its packed state field needs no index" >&2
exists gcloud firestore databases describe --database="$STATE_DATABASE" --project="$PROJECT" ||
  run gcloud firestore databases create --database="$STATE_DATABASE" --location="$STATE_LOCATION" \
    --type=firestore-native --project="$PROJECT"
run gcloud firestore indexes fields update state --collection-group="$STATE_COLLECTION" \
  --database="$STATE_DATABASE" --disable-indexes --project="$PROJECT" --quiet

echo "# Scanner: read the organization's inventory; publish to the findings topic only" >&2
run gcloud organizations add-iam-policy-binding "$ORG_ID" --member="serviceAccount:${SCANNER_EMAIL}" \
  --role=roles/cloudasset.viewer --condition=None
run gcloud pubsub topics add-iam-policy-binding "$TOPIC" --project="$PROJECT" \
  --member="serviceAccount:${SCANNER_EMAIL}" --role=roles/pubsub.publisher
echo "# Scanner: read and write the finding state, in this project only" >&2
run gcloud projects add-iam-policy-binding "$PROJECT" --member="serviceAccount:${SCANNER_EMAIL}" \
  --role=roles/datastore.user --condition=None

echo "# The Cloud Run job" >&2
deploy_job

echo "# Trigger: run this one job (run.jobs.run), nothing else" >&2
run gcloud run jobs add-iam-policy-binding "$JOB" --project="$PROJECT" --region="$REGION" \
  --member="serviceAccount:${TRIGGER_EMAIL}" --role=roles/run.invoker

echo "# Cloud Scheduler service agent: mints the trigger's OAuth token (missing in projects from before 2019-03-19)" >&2
if [[ -z "$PROJECT_NUMBER" ]]; then
  if $DRY_RUN; then PROJECT_NUMBER=PROJECT_NUMBER; else PROJECT_NUMBER="$(gcloud projects describe "$PROJECT" --format='value(projectNumber)')"; fi
fi
run gcloud beta services identity create --service=cloudscheduler.googleapis.com --project="$PROJECT"
run gcloud projects add-iam-policy-binding "$PROJECT" \
  --member="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-cloudscheduler.iam.gserviceaccount.com" \
  --role=roles/cloudscheduler.serviceAgent --condition=None

echo "# Nightly trigger: POST to the Run Admin API with an OAuth token (a *.googleapis.com target)" >&2
scheduler_flags=(--project="$PROJECT" --location="$REGION" --schedule="$SCHEDULE" --time-zone="$TIME_ZONE"
  --uri="$RUN_URI" --http-method=POST --oauth-service-account-email="$TRIGGER_EMAIL"
  --oauth-token-scope=https://www.googleapis.com/auth/cloud-platform --attempt-deadline=180s
  --max-retry-attempts=2 --min-backoff=60s --description="Runs the ${JOB} Cloud Run job (cronwarden)")
if exists gcloud scheduler jobs describe "$SCHEDULER_JOB" --project="$PROJECT" --location="$REGION"; then
  run gcloud scheduler jobs update http "$SCHEDULER_JOB" "${scheduler_flags[@]}"
else
  run gcloud scheduler jobs create http "$SCHEDULER_JOB" "${scheduler_flags[@]}"
fi

if [[ "$REMEDIATION" == true ]]; then
  echo "# Remediation: exactly the permissions it uses, as organization custom roles" >&2
  for role in cronwardenRemediator cronwardenActAs; do
    if [[ "$role" == cronwardenRemediator ]]; then perms="$REMEDIATOR_PERMISSIONS"; else perms=iam.serviceAccounts.actAs; fi
    if exists gcloud iam roles describe "$role" --organization="$ORG_ID"; then
      run gcloud iam roles update "$role" --organization="$ORG_ID" --permissions="$perms" --stage=GA
    else
      run gcloud iam roles create "$role" --organization="$ORG_ID" --permissions="$perms" --stage=GA \
        --title="cronwarden ${role#cronwarden}" --description="cronwarden remediation (docs/deploy.md)"
    fi
  done
  run gcloud organizations add-iam-policy-binding "$ORG_ID" --member="serviceAccount:${SCANNER_EMAIL}" \
    --role="organizations/${ORG_ID}/roles/cronwardenRemediator" --condition=None
  # actAs only on the accounts remediation writes into jobs, never organization-wide.
  IFS=',' read -r -a token_sas <<<"$REMEDIATION_TOKEN_SAS"
  for sa in "${token_sas[@]}"; do
    [[ -n "$sa" ]] || continue
    run gcloud iam service-accounts add-iam-policy-binding "$sa" --member="serviceAccount:${SCANNER_EMAIL}" \
      --role="organizations/${ORG_ID}/roles/cronwardenActAs"
  done
fi
