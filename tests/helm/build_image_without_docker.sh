#!/usr/bin/env bash
# Builds the repository's Dockerfile with buildah (no Docker engine) when Docker Hub is not reachable: the
# python:3.11-slim base is replaced by a Debian bookworm root filesystem (Python 3.11) made with debootstrap
# from Debian's package mirror. Then checks the image: user 65532, port 9308, `kafka-detective serve --help`.
# Not part of `make test` (needs root, buildah, debootstrap and ~5 minutes); run by hand:
#   sudo bash tests/helm/build_image_without_docker.sh [CA_BUNDLE]
# CA_BUNDLE: a CA file to trust for PyPI during the build (for TLS-intercepting proxies), default none.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${WORK:-/tmp/kafka-detective-image}
ca=${1:-}
export STORAGE_DRIVER=vfs
command -v buildah >/dev/null || apt-get install -y buildah
command -v debootstrap >/dev/null || apt-get install -y debootstrap
mkdir -p "$work"
if ! buildah inspect localhost/python-base:3.11-bookworm >/dev/null 2>&1; then
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    bookworm "$work/rootfs" http://deb.debian.org/debian
  ctr=$(buildah from scratch)
  cp -a "$work/rootfs/." "$(buildah mount "$ctr")/"
  buildah unmount "$ctr"
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  buildah commit -q "$ctr" localhost/python-base:3.11-bookworm
  buildah rm "$ctr"
fi
volumes=()
if [ -n "$ca" ]; then
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$work/pip.conf"
  volumes=(-v "$ca:/etc/ssl/certs/ca-certificates.crt:ro" -v "$work/pip.conf:/etc/pip.conf:ro")
fi
buildah bud --isolation chroot --build-arg PYTHON_IMAGE=localhost/python-base:3.11-bookworm "${volumes[@]}" \
  -t localhost/kafka-detective:test "$repo"
test "$(buildah inspect --format '{{.OCIv1.Config.User}}' localhost/kafka-detective:test)" = 65532:65532
buildah inspect --format '{{.OCIv1.Config.ExposedPorts}}' localhost/kafka-detective:test | grep -q 9308/tcp
ctr=$(buildah from -q localhost/kafka-detective:test)
trap 'buildah rm "$ctr" >/dev/null' EXIT
buildah run --isolation chroot "$ctr" -- id -u | grep -qx 65532
buildah run --isolation chroot "$ctr" -- kafka-detective serve --help >/dev/null
echo "image localhost/kafka-detective:test built and checked"
