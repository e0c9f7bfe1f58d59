#!/bin/sh
# Stands in for kubelogin (kubectl-oidc_login) in the kube tier: there is no OIDC issuer here, so the
# person's static token (from the API server's token file) is what the login would have produced.
# It fails unless kubectl calls it exactly as the person's kubeconfig says ($KEYSTONE_EXPECT_ARGS),
# and answers in the ExecCredential form kubectl asked for (KUBERNETES_EXEC_INFO's apiVersion).
set -eu
if [ "$*" != "$KEYSTONE_EXPECT_ARGS" ]; then
  echo "kubelogin stand-in: called with '$*', expected '$KEYSTONE_EXPECT_ARGS'" >&2
  exit 2
fi
case "${KUBERNETES_EXEC_INFO:-}" in
  *'"apiVersion":"client.authentication.k8s.io/v1beta1"'*) ;;
  *) echo "kubelogin stand-in: unexpected KUBERNETES_EXEC_INFO: ${KUBERNETES_EXEC_INFO:-none}" >&2; exit 2 ;;
esac
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}\n' \
  "$KEYSTONE_PERSON_TOKEN"
