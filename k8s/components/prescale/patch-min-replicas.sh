#!/bin/sh
# Sets the minReplicas of the auth, issuance and casting HPAs to $AUTH_MIN,
# $ISSUANCE_MIN and $CASTING_MIN, through the API with the pod's service account
# token (the prescale Role allows exactly this patch). The API's answer (the patched
# HPA, or why it refused) goes to the job's log. The HPA then scales the Deployment
# up at once; lowering minReplicas lets it scale down as load allows.
set -eu
account=/var/run/secrets/kubernetes.io/serviceaccount
namespace=$(cat "$account/namespace")
for target in "auth $AUTH_MIN" "issuance $ISSUANCE_MIN" "casting $CASTING_MIN"; do
  set -- $target
  curl --silent --show-error --fail-with-body --max-time 30 --retry 5 --retry-all-errors \
    --cacert "$account/ca.crt" \
    --header "Authorization: Bearer $(cat "$account/token")" \
    --header "Content-Type: application/merge-patch+json" \
    --request PATCH \
    --data "{\"spec\":{\"minReplicas\":$2}}" \
    "https://kubernetes.default.svc/apis/autoscaling/v2/namespaces/$namespace/horizontalpodautoscalers/$1"
  printf '\nhpa/%s: minReplicas %s\n' "$1" "$2"
done
