#!/bin/sh
# Checks the tools docs/deploy.md uses before the walk-through starts:
#   scripts/preflight.sh kind|minikube
# One line per tool (ok / missing / too old, with how to install), exit 1 if any is not ok.
# The minimums are the table in docs/deploy.md, section 1.
set -u

usage() {
  echo "usage: $0 kind|minikube" >&2
  exit 2
}

[ $# -eq 1 ] || usage
path=$1
case $path in
  kind) tools="docker kind kubectl helm skaffold curl jq" ;;
  minikube) tools="minikube kubectl helm skaffold curl jq" ;;
  *) usage ;;
esac

# Minimum version and install hint of each tool.
minimum() {
  case $1 in
    docker) echo 20.10.0 ;;
    kind) echo 0.26.0 ;;
    minikube) echo 1.35.0 ;;
    kubectl) echo 1.32.0 ;;
    helm) echo 3.8.0 ;;
    # Helm 4 (which docs/deploy.md installs) needs skaffold 2.19: older ones register their
    # post-renderer plugin as version "0.1", which Helm 4.1.4 refuses.
    skaffold) echo 2.19.0 ;;
    *) echo "" ;;
  esac
}

hint() {
  echo "see docs/deploy.md, section 1 (Tools), for the pinned $1 install"
}

# The installed version as digits and dots, or nothing when it cannot be read.
installed_version() {
  case $1 in
    docker) out=$(docker version --format '{{.Client.Version}}' 2>/dev/null) ;;
    kind) out=$(kind version 2>/dev/null) ;;
    minikube) out=$(minikube version --short 2>/dev/null) ;;
    kubectl) out=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p') ;;
    helm) out=$(helm version --short 2>/dev/null) ;;
    skaffold) out=$(skaffold version 2>/dev/null) ;;
    *) out="" ;;
  esac
  # First x.y[.z] in the output: "kind v0.30.0 go1.24 ...", "v4.1.4+g05fa379", "28.3.3".
  printf '%s\n' "$out" | grep -o '[0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}' | head -n 1
}

# Exit 0 when version $1 >= $2, comparing each dot-separated field as a number (2.9 < 2.19).
version_ge() {
  awk -v have="$1" -v want="$2" 'BEGIN {
    n = split(have, h, "."); m = split(want, w, ".")
    for (i = 1; i <= (n > m ? n : m); i++) {
      a = (i <= n) ? h[i] + 0 : 0; b = (i <= m) ? w[i] + 0 : 0
      if (a > b) exit 0
      if (a < b) exit 1
    }
    exit 0
  }'
}

failed=0
for tool in $tools; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "missing  $tool: not on PATH; $(hint "$tool")"
    failed=1
    continue
  fi
  want=$(minimum "$tool")
  if [ -z "$want" ]; then
    echo "ok       $tool"
    continue
  fi
  have=$(installed_version "$tool")
  if [ -z "$have" ]; then
    echo "too old  $tool: cannot read its version (need >= $want); $(hint "$tool")"
    failed=1
  elif version_ge "$have" "$want"; then
    echo "ok       $tool $have (>= $want)"
  else
    echo "too old  $tool $have (need >= $want); $(hint "$tool")"
    failed=1
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "preflight ($path): fix the lines above, then run it again" >&2
  exit 1
fi
echo "preflight ($path): every tool is ready"
