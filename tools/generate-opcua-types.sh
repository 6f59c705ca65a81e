#!/usr/bin/env bash
# Regenerates src/TwinGateway.OpcUa/Generated/*.g.cs and src/TwinGateway.OpcUa/Server/AddressSpace/StandardNodes.g.cs
# (the server's type nodes) from the specification's machine-readable files.
#
# Inputs (installed with npm into a temporary folder, never into the repository):
#   node-opcua-nodesets     Opc.Ua.Types.bsd (structures, enumerations) and Opc.Ua.NodeSet2.xml (DataType and
#                           encoding ids, well-known node ids, the type hierarchy for StandardNodes.g.cs)
#   node-opcua-status-code  the status-code table (name, value, description)
#   node-opcua-constants    the NodeIds table; Opc.Ua.NodeSet2.xml leaves out the service messages (RequestHeader,
#                           ReadRequest, ...), so their DataType and "Default Binary" ids come from here
# Only data is read from these packages (names, numbers, descriptions); no code is used.
#
# Usage: tools/generate-opcua-types.sh [--check]   (--check: write nothing, exit 1 if a generated file is stale)
set -euo pipefail

NODESETS_VERSION="${NODESETS_VERSION:-2.185.0}"
STATUS_CODE_VERSION="${STATUS_CODE_VERSION:-2.186.1}"
CONSTANTS_VERSION="${CONSTANTS_VERSION:-2.185.0}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/opcua-gen.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(
  cd "$work"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error \
    "node-opcua-nodesets@${NODESETS_VERSION}" \
    "node-opcua-status-code@${STATUS_CODE_VERSION}" \
    "node-opcua-constants@${CONSTANTS_VERSION}" >/dev/null
)

nm="$work/node_modules"
dotnet run --project "$root/tools/TwinGateway.OpcUa.Generator" -- \
  --bsd "$nm/node-opcua-nodesets/nodesets/Opc.Ua.Types.bsd" \
  --nodeset "$nm/node-opcua-nodesets/nodesets/Opc.Ua.NodeSet2.xml" \
  --status-codes "$nm/node-opcua-status-code/dist/_generated_status_codes.js" \
  --node-ids "$nm/node-opcua-constants/dist/opcua_node_ids.js" \
  --out "$root/src/TwinGateway.OpcUa/Generated" \
  --address-space "$root/src/TwinGateway.OpcUa/Server/AddressSpace" \
  "$@"
