// node-opcua test peer for TwinGateway's interop tests and benchmarks.
//
//   node server.js --port N [--bench-items N] [--users user:password[,user:password]] [--pki DIR]
//                  [--max-notifications-per-publish N] [--allow-anonymous-transfer] [--ignore-stdin]
//                  [--security-policies None,Basic256Sha256,Aes128_Sha256_RsaOaep,Aes256_Sha256_RsaPss]
//                  [--security-modes None,Sign,SignAndEncrypt] [--trusted-certificates DIR]
//
// --security-policies / --security-modes: the endpoints to offer (default None / None). None stays offered for
//   discovery whenever it is listed.
// --trusted-certificates DIR: trust exactly the client certificates (DER files) in DIR and reject every other one;
//   without it the server accepts any client certificate.
//
// --max-notifications-per-publish: the most notifications one Publish response carries (default 100000; node-opcua's
//   own default is 1000). Lower it to make a subscription return MoreNotifications.
// --allow-anonymous-transfer: accept TransferSubscriptions of an anonymous session over SecurityMode None
//   (node-opcua refuses it with BadUserAccessDenied by default, as Part 4 5.13.7 asks).
//
// stdout carries exactly one line, once the server listens:
//   {"event":"listening","port":N,"endpointUrl":"opc.tcp://127.0.0.1:N","namespaceIndex":K,"namespaceUri":"..."}
// Everything else goes to stderr. The process exits on SIGTERM/SIGINT and when stdin closes (so a crashed
// parent never leaves it behind); --ignore-stdin turns the latter off for runs by hand.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

// node-opcua logs through console.log (stdout); stdout is reserved for this script's JSON lines.
console.log = console.info = console.debug = console.error;

const { values: args } = parseArgs({
    options: {
        port: { type: "string" },
        "bench-items": { type: "string", default: "0" },
        users: { type: "string", multiple: true },
        pki: { type: "string" },
        "max-notifications-per-publish": { type: "string", default: "100000" },
        "allow-anonymous-transfer": { type: "boolean", default: false },
        "ignore-stdin": { type: "boolean", default: false },
        "security-policies": { type: "string", default: "None" },
        "security-modes": { type: "string", default: "None" },
        "trusted-certificates": { type: "string" }
    },
    strict: true
});

function fail(message) {
    process.stderr.write(`server.js: ${message}\n`);
    process.exit(2);
}

const port = Number.parseInt(args.port ?? "", 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail("--port N (1..65535) is required");
const benchItems = Number.parseInt(args["bench-items"], 10);
if (!Number.isInteger(benchItems) || benchItems < 0) fail("--bench-items must be a non-negative integer");

const maxNotificationsPerPublish = Number.parseInt(args["max-notifications-per-publish"], 10);
if (!Number.isInteger(maxNotificationsPerPublish) || maxNotificationsPerPublish <= 0) {
    fail("--max-notifications-per-publish must be a positive integer");
}

const users = new Map();
for (const spec of (args.users ?? ["operator:secret1"]).flatMap((s) => s.split(","))) {
    const colon = spec.indexOf(":");
    if (colon <= 0) fail(`--users expects user:password, got '${spec}'`);
    users.set(spec.slice(0, colon), spec.slice(colon + 1));
}

// Without --pki the PKI goes to a temporary folder of our own, removed again on exit.
const ownPkiRoot = args.pki === undefined;
const pkiRoot = args.pki ?? fs.mkdtempSync(path.join(os.tmpdir(), "twingateway-node-opcua-pki-"));
fs.mkdirSync(pkiRoot, { recursive: true });
// node-opcua keeps other per-user state under $XDG_CONFIG_HOME; keep it next to the PKI unless the caller chose.
process.env.XDG_CONFIG_HOME ??= path.join(pkiRoot, "config");

// Imported after XDG_CONFIG_HOME is settled: node-opcua reads it when its modules load.
const {
    DataType,
    MessageSecurityMode,
    MonitoredItem,
    OPCUACertificateManager,
    OPCUAServer,
    SecurityPolicy,
    StatusCodes,
    Subscription,
    UserTokenPolicy,
    UserTokenType,
    Variant,
    VariantArrayType,
    nodesets
} = await import("node-opcua");
const { build_address_space_for_conformance_testing } = await import(
    "node-opcua-address-space-for-conformance-testing"
);

const log = (...parts) => process.stderr.write(`${parts.join(" ")}\n`);
const applicationUri = "urn:twingateway:test:node-opcua-server";

// node-opcua clamps every requested sampling interval to MonitoredItem.minimumSamplingInterval (50 ms) and
// MinSupportedSampleRate (100 ms); the 10 ms variables below need both lowered.
MonitoredItem.minimumSamplingInterval = 10;
// node-opcua caps every Publish response at 1000 notifications, whatever the client asks for; node-opcua's client
// keeps 5 Publish requests in flight, so 10,000 items at 100 ms would be throttled by the server, not the client.
// The cap applies to a request of 0 (no limit) and caps any larger request.
Subscription.maxNotificationPerPublishHighLimit = maxNotificationsPerPublish;

const trustedFolder = args["trusted-certificates"];
const serverCertificateManager = new OPCUACertificateManager({
    automaticallyAcceptUnknownCertificate: trustedFolder === undefined,
    rootFolder: path.join(pkiRoot, "PKI")
});
if (trustedFolder !== undefined) {
    await serverCertificateManager.initialize();
    for (const file of fs.readdirSync(trustedFolder)) {
        await serverCertificateManager.trustCertificate(fs.readFileSync(path.join(trustedFolder, file)));
        log(`trusted client certificate ${file}`);
    }
}

const securityPolicies = args["security-policies"].split(",").map((name) => {
    const policy = SecurityPolicy[name.trim()];
    if (policy === undefined) fail(`--security-policies: unknown policy '${name}'`);
    return policy;
});
const securityModes = args["security-modes"].split(",").map((name) => {
    const mode = MessageSecurityMode[name.trim()];
    if (mode === undefined) fail(`--security-modes: unknown mode '${name}'`);
    return mode;
});
const userCertificateManager = new OPCUACertificateManager({
    automaticallyAcceptUnknownCertificate: true,
    rootFolder: path.join(pkiRoot, "UserPKI")
});

// A structure no client knows in advance, described by its DataTypeDefinition only (the same as TestPointType in our
// server's Test folder): TestPointType { X: Double, Y: Double, Label: String } with its Default Binary encoding.
const typesNamespaceUri = "urn:twingateway:test:types";
const typesNodeSet = path.join(pkiRoot, "twingateway-test-types.NodeSet2.xml");
fs.writeFileSync(
    typesNodeSet,
    `<?xml version="1.0" encoding="utf-8"?>
<UANodeSet xmlns="http://opcfoundation.org/UA/2011/03/UANodeSet.xsd">
  <NamespaceUris><Uri>${typesNamespaceUri}</Uri></NamespaceUris>
  <Models>
    <Model ModelUri="${typesNamespaceUri}" Version="1.0.0" PublicationDate="2026-01-01T00:00:00Z">
      <RequiredModel ModelUri="http://opcfoundation.org/UA/" Version="1.05.03" PublicationDate="2023-12-15T00:00:00Z"/>
    </Model>
  </Models>
  <Aliases>
    <Alias Alias="Double">i=11</Alias>
    <Alias Alias="String">i=12</Alias>
    <Alias Alias="HasEncoding">i=38</Alias>
    <Alias Alias="HasTypeDefinition">i=40</Alias>
    <Alias Alias="HasSubtype">i=45</Alias>
  </Aliases>
  <UADataType NodeId="ns=1;i=3001" BrowseName="1:TestPointType">
    <DisplayName>TestPointType</DisplayName>
    <References>
      <Reference ReferenceType="HasSubtype" IsForward="false">i=22</Reference>
      <Reference ReferenceType="HasEncoding">ns=1;i=5001</Reference>
    </References>
    <Definition Name="1:TestPointType">
      <Field Name="X" DataType="Double"/>
      <Field Name="Y" DataType="Double"/>
      <Field Name="Label" DataType="String"/>
    </Definition>
  </UADataType>
  <UAObject NodeId="ns=1;i=5001" BrowseName="Default Binary" SymbolicName="DefaultBinary">
    <DisplayName>Default Binary</DisplayName>
    <References>
      <Reference ReferenceType="HasTypeDefinition">i=76</Reference>
    </References>
  </UAObject>
</UANodeSet>
`
);

const server = new OPCUAServer({
    port,
    hostname: "127.0.0.1",
    nodeset_filename: [nodesets.standard, typesNodeSet],
    serverCertificateManager,
    userCertificateManager,
    securityPolicies,
    securityModes,
    allowAnonymous: true,
    allowAnonymousSubscriptionTransferOnUnsecuredChannel: args["allow-anonymous-transfer"],
    userManager: {
        isValidUser: (userName, password) => users.has(userName) && users.get(userName) === password
    },
    serverInfo: {
        applicationUri,
        productUri: "urn:twingateway:test:node-opcua",
        applicationName: { text: "TwinGateway node-opcua test peer", locale: "en" }
    },
    buildInfo: { productName: "TwinGateway node-opcua test peer", softwareVersion: "2.186.4" },
    maxConnectionsPerEndpoint: 100,
    serverCapabilities: {
        maxSessions: 100,
        maxSubscriptions: 1000,
        maxSubscriptionsPerSession: 100,
        maxMonitoredItems: 1_000_000,
        maxMonitoredItemsPerSubscription: 100_000,
        maxMonitoredItemsQueueSize: 60_000,
        minSupportedSampleRate: 10,
        maxBrowseContinuationPoints: 100,
        operationLimits: {
            maxMonitoredItemsPerCall: 20_000,
            maxNodesPerRead: 20_000,
            maxNodesPerWrite: 20_000,
            maxNodesPerBrowse: 20_000,
            maxNodesPerMethodCall: 1000,
            maxNodesPerRegisterNodes: 20_000,
            maxNodesPerTranslateBrowsePathsToNodeIds: 20_000
        }
    }
});

await server.initialize();

// With SecurityPolicy None as the only policy, node-opcua offers no UserName token policy at all (the ones it
// would add want the password encrypted with another policy, and OPCUAServer does not pass its
// allowUnsecurePassword option down). Add a plain-text one first in the list, so username/password works on the
// None endpoint; the server takes a token whose policy has no securityPolicyUri as clear text.
// Only None endpoints get it: a secured endpoint keeps node-opcua's own policies, which want the password encrypted.
for (const endpoint of server.endpoints) {
    for (const description of endpoint.endpointDescriptions()) {
        if (description.securityMode !== MessageSecurityMode.None) continue;
        const tokens = description.userIdentityTokens ?? [];
        if (!tokens.some((t) => t.tokenType === UserTokenType.UserName && !t.securityPolicyUri)) {
            tokens.unshift(
                new UserTokenPolicy({
                    policyId: "username_unsecure",
                    tokenType: UserTokenType.UserName,
                    issuedTokenType: null,
                    issuerEndpointUrl: null,
                    securityPolicyUri: null
                })
            );
            description.userIdentityTokens = tokens;
        }
    }
}

const addressSpace = server.engine.addressSpace;
await build_address_space_for_conformance_testing(addressSpace);
const namespace = addressSpace.getOwnNamespace();
const objectsFolder = addressSpace.rootFolder.objects;
const timers = [];

const RW = "CurrentRead | CurrentWrite";
const RO = "CurrentRead";

const test = namespace.addFolder(objectsFolder, { nodeId: "s=Test", browseName: "Test" });

let counter = 0;
const counterVar = namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Counter",
    browseName: "Counter",
    dataType: "Int32",
    accessLevel: RO,
    userAccessLevel: RO,
    minimumSamplingInterval: 10,
    value: new Variant({ dataType: DataType.Int32, value: 0 })
});
const sineVar = namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Sine",
    browseName: "Sine",
    dataType: "Double",
    accessLevel: RO,
    userAccessLevel: RO,
    minimumSamplingInterval: 10,
    value: new Variant({ dataType: DataType.Double, value: 0 })
});
const t0 = Date.now();
timers.push(
    setInterval(() => {
        counter = (counter + 1) | 0;
        counterVar.setValueFromSource(new Variant({ dataType: DataType.Int32, value: counter }));
        sineVar.setValueFromSource(new Variant({ dataType: DataType.Double, value: Math.sin((Date.now() - t0) / 1000) }));
    }, 10)
);

namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Writable.Double",
    browseName: "WritableDouble",
    dataType: "Double",
    accessLevel: RW,
    userAccessLevel: RW,
    minimumSamplingInterval: 10,
    value: new Variant({ dataType: DataType.Double, value: 0 })
});
namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Writable.String",
    browseName: "WritableString",
    dataType: "String",
    accessLevel: RW,
    userAccessLevel: RW,
    minimumSamplingInterval: 10,
    value: new Variant({ dataType: DataType.String, value: "" })
});
namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Writable.Int32Array",
    browseName: "WritableInt32Array",
    dataType: "Int32",
    valueRank: 1,
    arrayDimensions: [0],
    accessLevel: RW,
    userAccessLevel: RW,
    minimumSamplingInterval: 10,
    value: new Variant({ dataType: DataType.Int32, arrayType: VariantArrayType.Array, value: new Int32Array([1, 2, 3]) })
});
namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.ReadOnly",
    browseName: "ReadOnly",
    dataType: "Double",
    accessLevel: RO,
    userAccessLevel: RO,
    minimumSamplingInterval: 100,
    value: new Variant({ dataType: DataType.Double, value: 42.5 })
});

namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Writable.Matrix",
    browseName: "WritableMatrix",
    dataType: "Int32",
    valueRank: 2,
    arrayDimensions: [2, 3],
    accessLevel: RW,
    userAccessLevel: RW,
    minimumSamplingInterval: 10,
    value: new Variant({ dataType: DataType.Int32, arrayType: VariantArrayType.Matrix, dimensions: [2, 3], value: new Int32Array(6) })
});
const pointType = addressSpace.findDataType("TestPointType", addressSpace.getNamespaceIndex(typesNamespaceUri));
if (!pointType) fail("TestPointType did not load from its nodeset");
namespace.addVariable({
    componentOf: test,
    nodeId: "s=Test.Writable.Point",
    browseName: "WritablePoint",
    dataType: pointType,
    accessLevel: RW,
    userAccessLevel: RW,
    minimumSamplingInterval: 10,
    value: new Variant({
        dataType: DataType.ExtensionObject,
        value: addressSpace.constructExtensionObject(pointType, { x: 0, y: 0, label: "origin" })
    })
});

const methods = namespace.addObject({ componentOf: test, nodeId: "s=Test.Methods", browseName: "Methods" });
const add = namespace.addMethod(methods, {
    nodeId: "s=Test.Methods.Add",
    browseName: "Add",
    inputArguments: [
        { name: "a", description: { text: "first addend" }, dataType: DataType.Double },
        { name: "b", description: { text: "second addend" }, dataType: DataType.Double }
    ],
    outputArguments: [{ name: "sum", description: { text: "a + b" }, dataType: DataType.Double }]
});
add.bindMethod((inputArguments, _context, callback) => {
    const [a, b] = inputArguments.map((v) => v.value);
    callback(null, {
        statusCode: StatusCodes.Good,
        outputArguments: [{ dataType: DataType.Double, value: a + b }]
    });
});
const failMethod = namespace.addMethod(methods, { nodeId: "s=Test.Methods.Fail", browseName: "Fail" });
failMethod.bindMethod((_inputArguments, _context, callback) => {
    callback(null, { statusCode: StatusCodes.BadInvalidArgument });
});

// Enough children that a browse with a small maxReferencesPerNode must go on with BrowseNext.
const big = namespace.addFolder(test, { nodeId: "s=Test.Big", browseName: "Big" });
for (let i = 0; i < 1500; i++) {
    const suffix = String(i).padStart(4, "0");
    namespace.addVariable({
        componentOf: big,
        nodeId: `s=Test.Big.${suffix}`,
        browseName: `V${suffix}`,
        dataType: "Double",
        accessLevel: RO,
        userAccessLevel: RO,
        minimumSamplingInterval: 100,
        value: new Variant({ dataType: DataType.Double, value: i })
    });
}

// Benchmark items: one timer changes every value each 100 ms; the sampler (100 ms) reads them through get().
if (benchItems > 0) {
    const bench = namespace.addFolder(objectsFolder, { nodeId: "s=Bench", browseName: "Bench" });
    const values = new Float64Array(benchItems);
    for (let i = 0; i < benchItems; i++) {
        values[i] = i;
        const index = i;
        const variable = namespace.addVariable({
            componentOf: bench,
            nodeId: `s=Bench.${i}`,
            browseName: `B${i}`,
            dataType: "Double",
            accessLevel: RO,
            userAccessLevel: RO,
            minimumSamplingInterval: 100
        });
        variable.bindVariable({ get: () => new Variant({ dataType: DataType.Double, value: values[index] }) }, true);
    }
    timers.push(
        setInterval(() => {
            for (let i = 0; i < benchItems; i++) values[i] += 1;
        }, 100)
    );
}

await server.start();

const namespaceIndex = namespace.index;
process.stdout.write(
    `${JSON.stringify({
        event: "listening",
        port,
        endpointUrl: `opc.tcp://127.0.0.1:${port}`,
        namespaceIndex,
        namespaceUri: namespace.namespaceUri
    })}\n`
);
log(`server.js: listening on port ${port}, pki ${pkiRoot}, bench items ${benchItems}, users ${[...users.keys()].join(",")}`);

let stopping = false;
async function stop(reason) {
    if (stopping) return;
    stopping = true;
    log(`server.js: stopping (${reason})`);
    for (const t of timers) clearInterval(t);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    try {
        await server.shutdown(0);
    } catch (err) {
        log(`server.js: shutdown error ${err?.message ?? err}`);
    }
    if (ownPkiRoot) fs.rmSync(pkiRoot, { recursive: true, force: true });
    process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
if (!args["ignore-stdin"]) {
    process.stdin.on("end", () => stop("stdin closed"));
    process.stdin.on("close", () => stop("stdin closed"));
    process.stdin.on("error", () => stop("stdin error"));
    process.stdin.resume();
}
