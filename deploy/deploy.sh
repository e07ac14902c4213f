#!/usr/bin/env bash
# Deploys cronwarden as a nightly Cloud Run job, with least privilege. Safe to run again: each
# step creates what is missing and brings what exists to the settings below.
#
#   PROJECT=sec-tools ORG_ID=123456789012 deploy/deploy.sh            # everything, building the image
#   PROJECT=sec-tools ORG_ID=123456789012 deploy/deploy.sh --dry-run  # print the commands only
#   ORG_ID=123456789012 deploy/deploy.sh --only=job --image=IMAGE      # just the Run job (Cloud Build)
#
# The job runs an image by digest: IMAGE (or --image=) when given, else one the script builds from
# this checkout with Cloud Build and pushes to REGION-docker.pkg.dev/PROJECT/REPOSITORY/cronwarden.
# What it creates and why each grant is needed: docs/deploy.md.
set -euo pipefail

# Settings. Each one can be given in the environment.
PROJECT="${PROJECT:-}"                              # project that hosts the job, topic and accounts
PROJECT_NUMBER="${PROJECT_NUMBER:-}"                # looked up when empty
ORG_ID="${ORG_ID:-}"                                # organization to scan
REGION="${REGION:-europe-west1}"                    # Cloud Run, Scheduler and Artifact Registry region
REPOSITORY="${REPOSITORY:-cronwarden}"              # Artifact Registry repository
IMAGE="${IMAGE:-}"                                  # image to run; empty: build one (see above)
BUILD_TAG="${BUILD_TAG:-}"                          # tag of the image the script builds; default: the UTC time
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
REMEDIATION="${REMEDIATION:-false}"                 # true: a remediation account with the remediation custom roles
REMEDIATION_SA="${REMEDIATION_SA:-cronwarden-remediator}"  # the account fix apply (and the remediation job) runs as
REMEDIATION_TOKEN_SAS="${REMEDIATION_TOKEN_SAS:-}"  # comma-separated accounts remediation may put in jobs
ATTEMPTS="${ATTEMPTS:-off}"                         # off | sink (aggregated sink, bucket, view) | projects: read refused attempts
ATTEMPTS_WINDOW="${ATTEMPTS_WINDOW:-7d}"            # how far back the scan reads them
LOG_BUCKET="${LOG_BUCKET:-cronwarden-scheduler}"    # ATTEMPTS=sink: central bucket in PROJECT
LOG_VIEW="${LOG_VIEW:-scanner}"                     # ATTEMPTS=sink: the view the scanner reads
LOG_SINK="${LOG_SINK:-cronwarden-scheduler-executions}"  # ATTEMPTS=sink: organization aggregated sink
RESOLVE_GROUPS="${RESOLVE_GROUPS:-false}"           # true: settle group grants through Cloud Identity (Admin console step too)
REMEDIATE_MODE="${REMEDIATE_MODE:-off}"             # plan | apply: also deploy the unattended remediation job
REMEDIATE_RULES="${REMEDIATE_RULES:-}"              # its rule allow-list (comma-separated, required with REMEDIATE_MODE)
REMEDIATE_PROJECTS="${REMEDIATE_PROJECTS:-}"        # its project allow-list (comma-separated, required with REMEDIATE_MODE)
REMEDIATE_JOB="${REMEDIATE_JOB:-cronwarden-remediate}"

DRY_RUN=false
ONLY=all
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
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

# An Artifact Registry image names its project: --only=job --image=IMAGE needs no PROJECT.
if [[ -z "$PROJECT" && "$IMAGE" =~ ^[a-z0-9-]+-docker\.pkg\.dev/([a-z][a-z0-9-]+)/ ]]; then PROJECT="${BASH_REMATCH[1]}"; fi
[[ -n "$PROJECT" ]] || { echo "deploy.sh: set PROJECT (the project of the job; with --image, an Artifact Registry image names it)" >&2; exit 2; }
[[ "$ORG_ID" =~ ^[0-9]+$ ]] || { echo "deploy.sh: set ORG_ID to the organization's number" >&2; exit 2; }
[[ "$ATTEMPTS" =~ ^(off|sink|projects)$ ]] || { echo "deploy.sh: ATTEMPTS is off, sink or projects" >&2; exit 2; }
[[ "$RESOLVE_GROUPS" =~ ^(true|false)$ ]] || { echo "deploy.sh: RESOLVE_GROUPS is true or false" >&2; exit 2; }
# Where the script pushes what it builds; cloudbuild.yaml pushes to the same repository and name.
IMAGE_REPO="${REGION}-docker.pkg.dev/${PROJECT}/${REPOSITORY}/cronwarden"
SCANNER_EMAIL="${SCANNER_SA}@${PROJECT}.iam.gserviceaccount.com"
TRIGGER_EMAIL="${TRIGGER_SA}@${PROJECT}.iam.gserviceaccount.com"
TOPIC_NAME="projects/${PROJECT}/topics/${TOPIC}"
REMEDIATION_EMAIL="${REMEDIATION_SA}@${PROJECT}.iam.gserviceaccount.com"
if [[ "$REMEDIATE_MODE" != off ]]; then
  [[ "$REMEDIATE_MODE" == plan || "$REMEDIATE_MODE" == apply ]] || { echo "deploy.sh: REMEDIATE_MODE is off, plan or apply" >&2; exit 2; }
  [[ "$REMEDIATION" == true ]] || { echo "deploy.sh: REMEDIATE_MODE needs REMEDIATION=true (the account it runs as)" >&2; exit 2; }
  [[ -n "$REMEDIATE_RULES" && -n "$REMEDIATE_PROJECTS" ]] || { echo "deploy.sh: REMEDIATE_MODE needs REMEDIATE_RULES and REMEDIATE_PROJECTS" >&2; exit 2; }
fi
STATE_LOCATION="${STATE_LOCATION:-$REGION}"
STATE_URL="firestore://${PROJECT}/${STATE_DATABASE}/${STATE_COLLECTION}"
RUN_URI="https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/${JOB}:run"
LOG_VIEW_NAME="projects/${PROJECT}/locations/global/buckets/${LOG_BUCKET}/views/${LOG_VIEW}"
EXECUTIONS_FILTER='resource.type="cloud_scheduler_job" AND log_id("cloudscheduler.googleapis.com/executions")'
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

# The image to deploy, by digest: a tag can be moved later, a digest is the image that was tested.
image_by_digest() {
  local ref="$1" repo digest
  if [[ "$ref" == *@sha256:* ]]; then echo "$ref"; return; fi
  repo="${ref%:*}"
  [[ "$repo" == */* && "${ref##*/}" == *:* ]] || repo="$ref"
  if $DRY_RUN; then
    quote gcloud artifacts docker images describe "$ref" --format='value(image_summary.digest)' >&2
    echo "${repo}@DIGEST"
    return
  fi
  digest="$(gcloud artifacts docker images describe "$ref" --format='value(image_summary.digest)')"
  [[ "$digest" == sha256:* ]] || { echo "deploy.sh: no digest for $ref (is it pushed?)" >&2; exit 2; }
  echo "${repo}@${digest}"
}

# Builds this checkout's Dockerfile with Cloud Build and pushes it; prints nothing, sets IMAGE.
build_image() {
  local tag="${BUILD_TAG:-$(date -u +%Y%m%d-%H%M%S)}"
  echo "# Image: build this checkout with Cloud Build and push it" >&2
  run gcloud builds submit --project="$PROJECT" --region="$REGION" --tag="${IMAGE_REPO}:${tag}" .
  IMAGE="${IMAGE_REPO}:${tag}"
}

deploy_job() {
  if [[ -z "$IMAGE" ]]; then build_image; fi
  local image
  image="$(image_by_digest "$IMAGE")"
  local env="CRONWARDEN_ORGS=${ORG_ID},CRONWARDEN_TOPIC=${TOPIC_NAME},CRONWARDEN_STATE=${STATE_URL}"
  case "$ATTEMPTS" in
    sink) env+=",CRONWARDEN_ATTEMPTS_FROM=${LOG_VIEW_NAME},CRONWARDEN_ATTEMPTS_WINDOW=${ATTEMPTS_WINDOW}" ;;
    projects) env+=",CRONWARDEN_ATTEMPTS_FROM=projects,CRONWARDEN_ATTEMPTS_WINDOW=${ATTEMPTS_WINDOW}" ;;
  esac
  if [[ "$RESOLVE_GROUPS" == true ]]; then env+=",CRONWARDEN_RESOLVE_GROUPS=true"; fi
  run gcloud run jobs deploy "$JOB" --project="$PROJECT" --region="$REGION" --image="$image" \
    --service-account="$SCANNER_EMAIL" --tasks="$TASKS" --max-retries="$MAX_RETRIES" \
    --task-timeout="$TASK_TIMEOUT" --memory="$MEMORY" --labels=app=cronwarden \
    --set-env-vars="$env"
}

if [[ "$ONLY" == job ]]; then
  cd "$(dirname "$0")/.."
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

if [[ "$ATTEMPTS" == sink ]]; then
  echo "# Execution logs: an organization aggregated sink into one bucket; the scanner reads one view of it" >&2
  run gcloud services enable logging.googleapis.com --project="$PROJECT"
  exists gcloud logging buckets describe "$LOG_BUCKET" --project="$PROJECT" --location=global ||
    run gcloud logging buckets create "$LOG_BUCKET" --project="$PROJECT" --location=global --retention-days=30 \
      --description="Cloud Scheduler execution logs of organization ${ORG_ID} (cronwarden)"
  exists gcloud logging views describe "$LOG_VIEW" --bucket="$LOG_BUCKET" --project="$PROJECT" --location=global ||
    run gcloud logging views create "$LOG_VIEW" --bucket="$LOG_BUCKET" --project="$PROJECT" --location=global \
      --log-filter='LOG_ID("cloudscheduler.googleapis.com/executions")' --description="Scheduler executions, for cronwarden"
  # The sink copies entries written after it exists; the scan's window fills over the next days.
  exists gcloud logging sinks describe "$LOG_SINK" --organization="$ORG_ID" ||
    run gcloud logging sinks create "$LOG_SINK" "logging.googleapis.com/projects/${PROJECT}/locations/global/buckets/${LOG_BUCKET}" \
      --organization="$ORG_ID" --include-children --log-filter="$EXECUTIONS_FILTER"
  if $DRY_RUN; then writer="serviceAccount:SINK_WRITER_IDENTITY"; else writer="$(gcloud logging sinks describe "$LOG_SINK" --organization="$ORG_ID" --format='value(writerIdentity)')"; fi
  # The sink's own writer identity may write into buckets of this project (Logging's sink setup).
  run gcloud projects add-iam-policy-binding "$PROJECT" --member="$writer" --role=roles/logging.bucketWriter --condition=None
  run gcloud logging views add-iam-policy-binding "$LOG_VIEW" --bucket="$LOG_BUCKET" --location=global --project="$PROJECT" \
    --member="serviceAccount:${SCANNER_EMAIL}" --role=roles/logging.viewAccessor
elif [[ "$ATTEMPTS" == projects ]]; then
  echo "# Execution logs: read from each project's _Default bucket" >&2
  run gcloud organizations add-iam-policy-binding "$ORG_ID" --member="serviceAccount:${SCANNER_EMAIL}" \
    --role=roles/logging.viewer --condition=None
fi

if [[ "$RESOLVE_GROUPS" == true ]]; then
  echo "# Group membership: the Cloud Identity API; the Groups Reader admin role is given in the Admin console (docs/evidence.md)" >&2
  run gcloud services enable cloudidentity.googleapis.com --project="$PROJECT"
  echo "deploy.sh: now assign the Groups Reader admin role to ${SCANNER_EMAIL} in the Admin console (docs/evidence.md); no gcloud command can" >&2
fi

echo "# The Cloud Run job" >&2
cd "$(dirname "$0")/.."
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
  echo "# Remediation: its own account, with exactly the permissions it uses, as organization custom roles" >&2
  exists gcloud iam service-accounts describe "$REMEDIATION_EMAIL" --project="$PROJECT" ||
    run gcloud iam service-accounts create "$REMEDIATION_SA" --project="$PROJECT" --display-name="cronwarden remediator"
  for role in cronwardenRemediator cronwardenActAs; do
    if [[ "$role" == cronwardenRemediator ]]; then perms="$REMEDIATOR_PERMISSIONS"; else perms=iam.serviceAccounts.actAs; fi
    if exists gcloud iam roles describe "$role" --organization="$ORG_ID"; then
      run gcloud iam roles update "$role" --organization="$ORG_ID" --permissions="$perms" --stage=GA
    else
      run gcloud iam roles create "$role" --organization="$ORG_ID" --permissions="$perms" --stage=GA \
        --title="cronwarden ${role#cronwarden}" --description="cronwarden remediation (docs/deploy.md)"
    fi
  done
  run gcloud organizations add-iam-policy-binding "$ORG_ID" --member="serviceAccount:${REMEDIATION_EMAIL}" \
    --role="organizations/${ORG_ID}/roles/cronwardenRemediator" --condition=None
  # actAs only on the accounts remediation writes into jobs, never organization-wide.
  IFS=',' read -r -a token_sas <<<"$REMEDIATION_TOKEN_SAS"
  for sa in "${token_sas[@]}"; do
    [[ -n "$sa" ]] || continue
    run gcloud iam service-accounts add-iam-policy-binding "$sa" --member="serviceAccount:${REMEDIATION_EMAIL}" \
      --role="organizations/${ORG_ID}/roles/cronwardenActAs"
  done
  if [[ "$REMEDIATE_MODE" != off ]]; then
    echo "# Unattended remediation: a second job, run by hand or on its own schedule, as the remediation account" >&2
    # It scans before it plans: the same read access as the scanner, and the topic for its records.
    run gcloud organizations add-iam-policy-binding "$ORG_ID" --member="serviceAccount:${REMEDIATION_EMAIL}" \
      --role=roles/cloudasset.viewer --condition=None
    run gcloud pubsub topics add-iam-policy-binding "$TOPIC" --project="$PROJECT" \
      --member="serviceAccount:${REMEDIATION_EMAIL}" --role=roles/pubsub.publisher
    run gcloud run jobs deploy "$REMEDIATE_JOB" --project="$PROJECT" --region="$REGION" --image="$IMAGE" \
      --service-account="$REMEDIATION_EMAIL" --tasks=1 --max-retries=0 \
      --task-timeout="$TASK_TIMEOUT" --memory="$MEMORY" --labels=app=cronwarden \
      --set-env-vars="^;^CRONWARDEN_ORGS=${ORG_ID};CRONWARDEN_TOPIC=${TOPIC_NAME};CRONWARDEN_REMEDIATE=${REMEDIATE_MODE};CRONWARDEN_REMEDIATE_RULES=${REMEDIATE_RULES};CRONWARDEN_REMEDIATE_PROJECTS=${REMEDIATE_PROJECTS};CRONWARDEN_PLAN_OUTPUT=/tmp/cronwarden-remediation-plan.json"
  fi
fi
