// Small node-opcua client for interop smoke checks.
//
//   node client.js --endpoint URL --read NODEID [--user name:password]
//
// Prints one JSON line to stdout: {"nodeId":"...","value":...,"dataType":"Double","status":"Good"}
// (typed arrays become JSON arrays, ByteStrings base64, dates ISO strings, Int64 node-opcua's [high, low] pair,
// other values their string form). Exit code 0 when the read call went through, whatever the status of the
// value; 1 on a connection or service error.
import { parseArgs } from "node:util";

// node-opcua logs through console.log (stdout); stdout is reserved for this script's JSON lines.
console.log = console.info = console.debug = console.error;
const { AttributeIds, DataType, MessageSecurityMode, OPCUAClient, SecurityPolicy, UserTokenType } = await import("node-opcua");

const { values: args } = parseArgs({
    options: { endpoint: { type: "string" }, read: { type: "string" }, user: { type: "string" } },
    strict: true
});
if (!args.endpoint || !args.read) {
    process.stderr.write("usage: node client.js --endpoint URL --read NODEID [--user name:password]\n");
    process.exit(2);
}

function toJson(value) {
    if (value === null || value === undefined) return null;
    if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !Buffer.isBuffer(value)) return Array.from(value);
    if (Buffer.isBuffer(value)) return value.toString("base64");
    if (Array.isArray(value)) return value.map(toJson);
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return value;
    if (value instanceof Date) return value.toISOString();
    return value.toString();
}

const client = OPCUAClient.create({
    applicationName: "TwinGatewayNodeClient",
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 }
});

let exitCode = 0;
try {
    await client.connect(args.endpoint);
    let userIdentity = { type: UserTokenType.Anonymous };
    if (args.user) {
        const colon = args.user.indexOf(":");
        userIdentity = {
            type: UserTokenType.UserName,
            userName: args.user.slice(0, colon),
            password: args.user.slice(colon + 1)
        };
    }
    const session = await client.createSession(userIdentity);
    const dataValue = await session.read({ nodeId: args.read, attributeId: AttributeIds.Value });
    process.stdout.write(
        `${JSON.stringify({
            nodeId: args.read,
            value: toJson(dataValue.value?.value),
            dataType: DataType[dataValue.value?.dataType ?? DataType.Null],
            status: dataValue.statusCode.name
        })}\n`
    );
    await session.close();
} catch (err) {
    process.stderr.write(`client.js: ${err?.stack ?? err}\n`);
    exitCode = 1;
} finally {
    await client.disconnect().catch(() => {});
}
process.exit(exitCode);
