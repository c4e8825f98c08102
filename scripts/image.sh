#!/bin/sh
# The container image's build steps, in one place: the Dockerfile runs them, and
# test/integration/deploy-image.test.ts runs the same outside a container.
#
#   image.sh deps         Backlot's own dependencies, at the versions package-lock.json pins;
#                         not the npm workspace test/backstage (the real Backstage backend
#                         the tests run, 640 packages that nothing in the image uses)
#   image.sh build DEST   bundle, then assemble in DEST what the image runs: the bundle
#                         (dist/backlot-bundle.mjs, every run-time dependency inside), the
#                         executable that loads it (dist/backlot.mjs) and bin/backlot;
#                         no node_modules
#
# npm install rather than npm ci: package-lock.json lacks the other platforms' optional
# packages of @swc/core and @unrs/resolver (npm/cli#4828), which npm ci refuses. Both
# commands install the locked versions; the image test checks that every installed package
# is the version the lock pins. --workspaces=false leaves the workspaces out whether or not
# their folders are in the build context (.dockerignore keeps test/ out).
set -eu
npm_flags="--ignore-scripts --no-audit --no-fund --loglevel=warn"

case "${1:-}" in
  deps)
    # shellcheck disable=SC2086
    npm install --workspaces=false $npm_flags
    ;;
  build)
    dest=${2:?usage: image.sh build DEST}
    npm run build
    mkdir -p "$dest/bin" "$dest/dist"
    cp dist/backlot.mjs dist/backlot-bundle.mjs "$dest/dist/"
    chmod 0644 "$dest/dist/backlot-bundle.mjs"
    chmod 0755 "$dest/dist/backlot.mjs"
    ln -sf ../dist/backlot.mjs "$dest/bin/backlot"
    ;;
  *)
    echo "usage: image.sh deps | image.sh build DEST" >&2
    exit 2
    ;;
esac
