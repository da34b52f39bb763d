#!/usr/bin/env bash
# Installs the reference MCP servers that the mcpinterop tests of tools/mcp start, and prints the
# directory they went into (its node_modules/.bin holds mcp-server-everything and
# mcp-server-filesystem). Use:
#
#   dir=$(bash .ci/mcp-setup.sh [DIR])      # DIR defaults to a new temporary directory
#   MCP_SERVERS_DIR="$dir" go test -tags mcpinterop ./tools/mcp/
#
# Needs node and npm (the machine image has them). Versions are pinned; npm's own output goes to
# stderr so that stdout is only the directory.
set -euo pipefail

EVERYTHING_VERSION=2026.8.31
FILESYSTEM_VERSION=2026.8.31

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "mcp-setup: $tool not found on PATH" >&2
    exit 1
  fi
done

dir="${1:-}"
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/mcp-servers.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

npm install --prefix "$dir" --no-audit --no-fund --save-exact \
  "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
  "@modelcontextprotocol/server-filesystem@$FILESYSTEM_VERSION" >&2

for bin in mcp-server-everything mcp-server-filesystem; do
  if [ ! -x "$dir/node_modules/.bin/$bin" ]; then
    echo "mcp-setup: $dir/node_modules/.bin/$bin missing after npm install" >&2
    exit 1
  fi
done

echo "$dir"
