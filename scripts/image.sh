#!/bin/sh
# The container image's build steps, in one place: the Dockerfile runs them, and
# test/integration/deploy-image.test.ts runs the same outside a container.
#
#   image.sh deps         every dependency, at the versions package-lock.json pins
#   image.sh build DEST   compile, then assemble in DEST what the image runs: the built
#                         package, its production dependencies only, and bin/backlot
#
# npm install rather than npm ci: package-lock.json lacks the other platforms' optional
# packages of @swc/core and @unrs/resolver (npm/cli#4828), which npm ci refuses. Both
# commands install the locked versions; the image test checks that every installed package
# is the version the lock pins.
set -eu
npm_flags="--ignore-scripts --no-audit --no-fund --loglevel=warn"

case "${1:-}" in
  deps)
    # shellcheck disable=SC2086
    npm install $npm_flags
    ;;
  build)
    dest=${2:?usage: image.sh build DEST}
    npm run build
    mkdir -p "$dest/bin"
    cp -R package.json package-lock.json dist crds "$dest/"
    cd "$dest"
    # shellcheck disable=SC2086
    npm install --omit=dev $npm_flags
    chmod 0755 dist/cli/main.js
    ln -sf ../dist/cli/main.js bin/backlot
    ;;
  *)
    echo "usage: image.sh deps | image.sh build DEST" >&2
    exit 2
    ;;
esac
