// node-opcua client on a secured channel, for TwinGateway's interop tests of OUR server's security.
//
//   node secure-client.js --endpoint URL --policy None|Basic256Sha256|Aes128_Sha256_RsaOaep|Aes256_Sha256_RsaPss
//        --mode None|Sign|SignAndEncrypt --cert client.pem --key client-key.pem --application-uri URI --pki DIR
//        [--user name:password] [--read NODEID] [--browse NODEID] [--subscribe NODEID] [--notifications N]
//
// --cert/--key: the client's application instance certificate and its private key (PEM), made by the test so that
// it can trust (pin) it in our server; --application-uri must be the URI in its subject alternative name. --pki: a
// folder for node-opcua's certificate manager, which accepts the server's certificate (automaticallyAcceptUnknown).
// It connects, creates a session (anonymous or --user), then reads, browses and subscribes (waiting for N data
// changes, default 2, 100 ms sampling) as asked, and prints ONE JSON line:
//   {"ok":true,"securityPolicy":"...","securityMode":"...","read":{"status","value"},"browse":{"status","names":[...]},
//    "notifications":[values...],"serverCertificateLength":N}
//   {"ok":false,"stage":"connect|session|read|browse|subscribe","error":"message"}
// Exit code 0 in both cases (the test decides); 2 on bad arguments. node-opcua's own logging goes to stderr.
import { parseArgs } from "node:util";

console.log = console.info = console.debug = console.warn = console.error;

const {
    AttributeIds,
    ClientSubscription,
    ClientMonitoredItem,
    MessageSecurityMode,
    OPCUACertificateManager,
    OPCUAClient,
    SecurityPolicy,
    TimestampsToReturn,
    UserTokenType
} = await import("node-opcua");

const { values: args } = parseArgs({
    options: {
        endpoint: { type: "string" },
        policy: { type: "string", default: "None" },
        mode: { type: "string", default: "None" },
        cert: { type: "string" },
        key: { type: "string" },
        "application-uri": { type: "string" },
        pki: { type: "string" },
        user: { type: "string" },
        read: { type: "string" },
        browse: { type: "string" },
        subscribe: { type: "string" },
        notifications: { type: "string", default: "2" }
    },
    strict: true
});
if (!args.endpoint || !(args.policy in SecurityPolicy) || !(args.mode in MessageSecurityMode) || !args.pki) {
    process.stderr.write("usage: node secure-client.js --endpoint URL --policy P --mode M --pki DIR [--cert PEM --key PEM --application-uri URI] ...\n");
    process.exit(2);
}

const result = { ok: true };
let stage = "connect";
const certificateManager = new OPCUACertificateManager({ rootFolder: args.pki, automaticallyAcceptUnknownCertificate: true });
await certificateManager.initialize();
const client = OPCUAClient.create({
    applicationName: "TwinGatewaySecureNodeClient",
    applicationUri: args["application-uri"],
    clientCertificateManager: certificateManager,
    certificateFile: args.cert,
    privateKeyFile: args.key,
    securityMode: MessageSecurityMode[args.mode],
    securityPolicy: SecurityPolicy[args.policy],
    endpointMustExist: true,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: 20000
});

function toJson(value) {
    if (value === null || value === undefined) return null;
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return value;
    return value.toString();
}

let session;
try {
    await client.connect(args.endpoint);
    result.securityPolicy = args.policy;
    result.securityMode = args.mode;
    stage = "session";
    let userIdentity = { type: UserTokenType.Anonymous };
    if (args.user) {
        const colon = args.user.indexOf(":");
        userIdentity = { type: UserTokenType.UserName, userName: args.user.slice(0, colon), password: args.user.slice(colon + 1) };
    }
    session = await client.createSession(userIdentity);
    result.serverCertificateLength = client.serverCertificate?.length ?? 0;
    if (args.read) {
        stage = "read";
        const dataValue = await session.read({ nodeId: args.read, attributeId: AttributeIds.Value });
        result.read = { status: dataValue.statusCode.name, value: toJson(dataValue.value?.value) };
    }
    if (args.browse) {
        stage = "browse";
        const browse = await session.browse(args.browse);
        result.browse = { status: browse.statusCode.name, names: (browse.references ?? []).map(r => r.browseName.name) };
    }
    if (args.subscribe) {
        stage = "subscribe";
        const wanted = parseInt(args.notifications, 10);
        const subscription = ClientSubscription.create(session, {
            requestedPublishingInterval: 100, requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 10,
            maxNotificationsPerPublish: 100, publishingEnabled: true, priority: 1
        });
        const values = [];
        await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${wanted} notifications within 10 s`)), 10000);
            const item = ClientMonitoredItem.create(subscription,
                { nodeId: args.subscribe, attributeId: AttributeIds.Value },
                { samplingInterval: 100, discardOldest: true, queueSize: 10 },
                TimestampsToReturn.Both);
            item.on("changed", dataValue => {
                values.push(toJson(dataValue.value?.value));
                if (values.length >= wanted) {
                    clearTimeout(timer);
                    resolve();
                }
            });
            item.on("err", message => {
                clearTimeout(timer);
                reject(new Error(`monitored item: ${message}`));
            });
        });
        result.notifications = values;
        await subscription.terminate();
    }
} catch (err) {
    result.ok = false;
    result.stage = stage;
    result.error = `${err?.message ?? err}`;
    process.stderr.write(`secure-client.js: ${err?.stack ?? err}\n`);
} finally {
    if (session) await session.close().catch(() => {});
    await client.disconnect().catch(() => {});
    await certificateManager.dispose().catch(() => {});
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
