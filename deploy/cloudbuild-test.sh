#!/usr/bin/env bash
# Cloud Build's test step: runs in the Cloud CLI `emulators` image (gcloud, the Pub/Sub emulator,
# Java) with the Node 24 that the `node-runtime` step copied into the workspace first.
set -euo pipefail
node_home=/workspace/.node
[ -x "$node_home/bin/node" ] || { echo "cloudbuild-test: no Node in $node_home; run the node-runtime step first" >&2; exit 2; }
export PATH="$node_home/bin:$PATH"
node --version
# Cloud Build builds and pushes the real image in its next steps; the local image test is for machines without Docker.
export CRONWARDEN_SKIP_IMAGE_TEST=1
exec bash .ci/run
