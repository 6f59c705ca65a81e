// node-opcua client driven by arguments, for TwinGateway's interop tests against our own server.
//
//   node ua-client.js MODE --endpoint URL [--user name:password] [options]
//
//   browse   --node ID [--direction Forward|Inverse|Both] [--max-refs N]
//            one line: {"op":"browse","nodeId","status","references":[...],"browseNextCalls","continuationPoints"}
//            (every reference, BrowseNext followed until no continuation point is left; --max-refs sets
//            requestedMaxReferencesPerNode, 0 leaves the limit to the server)
//   read     --node ID [--node ID ...] [--attribute Value|DataType|BrowseName|DisplayName|NodeClass|AccessLevel]
//            one line per node: {"op":"read","nodeId","attribute","status","dataType","arrayType","value"}
//   write    --node ID --type Double|Float|Int32|...|String|Boolean --value V
//            one line: {"op":"write","nodeId","status"}
//   call     --object ID --method ID --args '[{"type":"Double","value":1}, ...]'
//            one line: {"op":"call","status","inputArgumentResults":[...],"outputArguments":[{"dataType","value"}]}
//   subscribe --ns K --prefix Scale. --count N [--digits 5] [--interval MS] [--duration S]
//            one summary line: {"op":"subscribe","items","created","badCreates","notifications","itemsWithValue",
//            "itemsWithoutValue","badStatuses","firstMissing":[...],"revisedPublishingInterval",...}
//   reconnect-transfer --nodes ID[,ID...] [--duration-after S] [--retry-delay MS] [--session-timeout MS] [--timeout S]
//            subscribes (100 ms publishing, 50 ms sampling, queue 10), prints {"event":"ready",...} once values arrive,
//            then waits for "drop" on stdin or for the socket to close; after node-opcua's client recovers (or
//            --timeout S, default 40, passes) it counts values for --duration-after S and prints one summary line:
//            {"op":"reconnect-transfer","connectionLost","reconnected","sessionRestored","sessionRepaired",
//             "sessionIdChanged","transferCalls":[{"ids","results"}],"republishCalls","subscriptionIdBefore",
//             "subscriptionIdAfter","valuesBefore","valuesAfter","badAfter","badStatusesAfter","overflowsAfter",
//             "itemsWithValueAfter","events":[...]}
//            (bad means Bad or Uncertain severity; a Good value with the Overflow bit counts in overflowsAfter only)
//            --retry-delay delays node-opcua's first reconnection attempt (default 1000 ms, node-opcua's own), so a
//            short --session-timeout lets the server expire the session first: the client must then create a new
//            session and transfer its subscription instead of reactivating the old session.
//   publish-after-delete
//            raw CreateSubscription (an hour's publishing interval: no keep-alive answers), two raw Publish requests,
//            DeleteSubscriptions of that subscription; one line: {"op":"publish-after-delete","deleteResults":[...],
//            "publishes":["BadNoSubscription", ...] or "timeout"} (how each parked Publish was answered within 10 s)
//
// Value encoding in JSON: numbers and booleans as such, Int64/UInt64 as decimal strings, ByteString base64, DateTime
// ISO strings, LocalizedText {locale,text}, StatusCode its name, NodeId/ExpandedNodeId/QualifiedName/Guid/XmlElement
// their string forms; arrays element by element.
// Exit code 0 when the script ran its mode (whatever the OPC UA status codes), 1 on a connection or service error, 2
// on bad arguments. node-opcua's own logging goes to stderr: stdout carries only these JSON lines.
import { parseArgs } from "node:util";

// node-opcua logs through console.log/info/warn (stdout); stdout is reserved for this script's JSON lines.
console.log = console.info = console.debug = console.warn = console.error;

const {
    AttributeIds,
    BrowseDirection,
    ClientMonitoredItemGroup,
    DataType,
    MessageSecurityMode,
    OPCUAClient,
    SecurityPolicy,
    TimestampsToReturn,
    UserTokenType,
    VariantArrayType
} = await import("node-opcua");

const mode = process.argv[2];
const { values: args } = parseArgs({
    args: process.argv.slice(3),
    options: {
        endpoint: { type: "string" },
        user: { type: "string" },
        node: { type: "string", multiple: true },
        nodes: { type: "string" },
        attribute: { type: "string", default: "Value" },
        direction: { type: "string", default: "Forward" },
        "max-refs": { type: "string", default: "0" },
        type: { type: "string" },
        value: { type: "string" },
        object: { type: "string" },
        method: { type: "string" },
        args: { type: "string", default: "[]" },
        ns: { type: "string", default: "1" },
        prefix: { type: "string", default: "Scale." },
        count: { type: "string", default: "1000" },
        digits: { type: "string", default: "5" },
        interval: { type: "string", default: "100" },
        duration: { type: "string", default: "3" },
        "duration-after": { type: "string", default: "2" },
        "retry-delay": { type: "string" },
        "session-timeout": { type: "string", default: "60000" },
        timeout: { type: "string", default: "40" }
    },
    strict: true
});

function usage(message) {
    process.stderr.write(`ua-client.js: ${message}\n`);
    process.exit(2);
}

const modes = ["browse", "read", "write", "call", "subscribe", "reconnect-transfer", "publish-after-delete"];
if (!modes.includes(mode)) usage(`MODE must be one of ${modes.join(", ")}`);
if (!args.endpoint) usage("--endpoint URL is required");

const int = (name) => {
    const n = Number.parseInt(args[name], 10);
    if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a non-negative integer`);
    return n;
};

const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const log = (...parts) => process.stderr.write(`ua-client.js: ${parts.join(" ")}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- JSON forms of node-opcua values ----

function int64ToString(value, signed) {
    if (!Array.isArray(value) || value.length !== 2) return String(value);
    const big = (BigInt(value[0] >>> 0) << 32n) | BigInt(value[1] >>> 0);
    return (signed ? BigInt.asIntN(64, big) : big).toString();
}

function scalarToJson(value, dataType) {
    if (value === null || value === undefined) return null;
    switch (dataType) {
        case DataType.Int64:
            return int64ToString(value, true);
        case DataType.UInt64:
            return int64ToString(value, false);
        case DataType.ByteString:
            return Buffer.isBuffer(value) ? value.toString("base64") : null;
        case DataType.DateTime:
            return value instanceof Date ? value.toISOString() : String(value);
        case DataType.StatusCode:
            return value.name ?? String(value);
        case DataType.LocalizedText:
            return { locale: value.locale ?? null, text: value.text ?? null };
        case DataType.QualifiedName:
            return `${value.namespaceIndex}:${value.name}`;
        case DataType.NodeId:
        case DataType.ExpandedNodeId:
            return value.toString();
        case DataType.Boolean:
        case DataType.String:
        case DataType.XmlElement:
        case DataType.Guid:
            return typeof value === "object" ? String(value) : value;
        default:
            if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return value;
            return String(value);
    }
}

function variantToJson(variant) {
    if (!variant) return { dataType: "Null", arrayType: "Scalar", value: null };
    const dataType = variant.dataType ?? DataType.Null;
    const arrayType = VariantArrayType[variant.arrayType ?? VariantArrayType.Scalar];
    let value;
    if (variant.arrayType === VariantArrayType.Array || variant.arrayType === VariantArrayType.Matrix) {
        value = Array.from(variant.value ?? [], (v) => scalarToJson(v, dataType));
    } else {
        value = scalarToJson(variant.value, dataType);
    }
    return { dataType: DataType[dataType], arrayType, value };
}

function parseValue(type, text) {
    const dataType = DataType[type];
    if (dataType === undefined) usage(`unknown --type ${type}`);
    switch (dataType) {
        case DataType.Boolean:
            return { dataType, value: text === "true" };
        case DataType.String:
            return { dataType, value: text };
        case DataType.Int64:
        case DataType.UInt64:
            return { dataType, value: Number(text) };
        default:
            return { dataType, value: Number(text) };
    }
}

// ---- connection ----

function userIdentity() {
    if (!args.user) return { type: UserTokenType.Anonymous };
    const colon = args.user.indexOf(":");
    if (colon <= 0) usage("--user expects name:password");
    return { type: UserTokenType.UserName, userName: args.user.slice(0, colon), password: args.user.slice(colon + 1) };
}

const reconnecting = mode === "reconnect-transfer";
const client = OPCUAClient.create({
    applicationName: "TwinGatewayNodeClient",
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    requestedSessionTimeout: int("session-timeout"),
    keepSessionAlive: false,
    // Only the reconnect mode retries; every other mode fails fast on a dead server.
    connectionStrategy: reconnecting
        ? { maxRetry: 100, initialDelay: 200, maxDelay: 1000 }
        : { maxRetry: 0, initialDelay: 100, maxDelay: 200 }
});

if (args["retry-delay"] !== undefined) {
    // node-opcua waits ClientBaseImpl.retryDelay (a static of the client's base class, not exported) before its first
    // reconnection attempt; find the class that owns it.
    const delay = int("retry-delay");
    for (let ctor = client.constructor; ctor && ctor !== Function.prototype; ctor = Object.getPrototypeOf(ctor)) {
        if (Object.hasOwn(ctor, "retryDelay")) {
            ctor.retryDelay = delay;
            break;
        }
    }
}

let session;

async function browseAll(nodeId) {
    session.requestedMaxReferencesPerNode = int("max-refs");
    const direction = BrowseDirection[args.direction];
    if (direction === undefined) usage("--direction must be Forward, Inverse or Both");
    let result = await session.browse({
        nodeId,
        browseDirection: direction,
        referenceTypeId: null,
        includeSubtypes: true,
        nodeClassMask: 0,
        resultMask: 0x3f
    });
    const status = result.statusCode.name;
    const references = [...(result.references ?? [])];
    let browseNextCalls = 0;
    const continuationPoints = new Set();
    while (result.statusCode.isGood() && result.continuationPoint && result.continuationPoint.length > 0) {
        continuationPoints.add(result.continuationPoint.toString("hex"));
        if (browseNextCalls > 10_000) throw new Error("BrowseNext never ends");
        result = await session.browseNext(result.continuationPoint, false);
        browseNextCalls++;
        if (!result.statusCode.isGood()) break;
        references.push(...(result.references ?? []));
    }
    out({
        op: "browse",
        nodeId,
        status,
        lastStatus: result.statusCode.name,
        browseNextCalls,
        continuationPoints: continuationPoints.size,
        references: references.map((r) => ({
            nodeId: r.nodeId.toString(),
            browseName: r.browseName?.name ?? null,
            browseNameNs: r.browseName?.namespaceIndex ?? 0,
            displayName: r.displayName?.text ?? null,
            nodeClass: r.nodeClass,
            referenceTypeId: r.referenceTypeId?.toString() ?? null,
            isForward: r.isForward,
            typeDefinition: r.typeDefinition?.toString() ?? null
        }))
    });
}

async function readNodes(nodeIds) {
    const attributeId = AttributeIds[args.attribute];
    if (attributeId === undefined) usage(`unknown --attribute ${args.attribute}`);
    const results = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId })));
    for (let i = 0; i < nodeIds.length; i++) {
        const dv = results[i];
        out({ op: "read", nodeId: nodeIds[i], attribute: args.attribute, status: dv.statusCode.name, ...variantToJson(dv.value) });
    }
}

async function writeNode() {
    if (!args.node?.length || !args.type || args.value === undefined) usage("write needs --node, --type and --value");
    const nodeId = args.node[0];
    const statusCode = await session.write({
        nodeId,
        attributeId: AttributeIds.Value,
        value: { value: parseValue(args.type, args.value) }
    });
    out({ op: "write", nodeId, type: args.type, status: statusCode.name });
}

async function callMethod() {
    if (!args.object || !args.method) usage("call needs --object and --method");
    let specs;
    try {
        specs = JSON.parse(args.args);
    } catch (err) {
        usage(`--args is not JSON: ${err.message}`);
    }
    const inputArguments = specs.map((s) => {
        const dataType = DataType[s.type];
        if (dataType === undefined) usage(`unknown argument type ${s.type}`);
        return { dataType, value: s.value };
    });
    const result = await session.call({ objectId: args.object, methodId: args.method, inputArguments });
    out({
        op: "call",
        objectId: args.object,
        methodId: args.method,
        status: result.statusCode.name,
        inputArgumentResults: (result.inputArgumentResults ?? []).map((s) => s.name),
        outputArguments: (result.outputArguments ?? []).map(variantToJson)
    });
}

async function createSubscription(intervalMs) {
    return session.createSubscription2({
        requestedPublishingInterval: intervalMs,
        requestedLifetimeCount: 1000,
        requestedMaxKeepAliveCount: 10,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 1
    });
}

/**
 * Bad or Uncertain severity. Info bits on a Good value do not count: a queue that overflowed while the client was away
 * marks its oldest value Good with the Overflow bit (OPC 10000-4 §5.12.1.5), which node-opcua's isGood() rejects.
 */
const notGood = (statusCode) => ((statusCode.value >>> 0) & 0xc0000000) !== 0;

/** Creates the items in one CreateMonitoredItems call; resolves once node-opcua has the results. */
function monitorGroup(subscription, nodeIds, samplingInterval, onChanged) {
    const group = ClientMonitoredItemGroup.create(
        subscription,
        nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
        { samplingInterval, discardOldest: true, queueSize: 10 },
        TimestampsToReturn.Both
    );
    // Listen before the first notification can arrive: values may come with the very first Publish response.
    group.on("changed", onChanged);
    return new Promise((resolve, reject) => {
        group.once("initialized", () => resolve(group));
        group.once("err", (message) => reject(new Error(`CreateMonitoredItems failed: ${message}`)));
    });
}

async function subscribeMany() {
    const count = int("count");
    const digits = int("digits");
    const intervalMs = int("interval");
    const nodeIds = Array.from({ length: count }, (_, i) => `ns=${int("ns")};s=${args.prefix}${String(i).padStart(digits, "0")}`);
    const subscription = await createSubscription(intervalMs);
    const perItem = new Array(count).fill(0);
    const badStatuses = {};
    let notifications = 0;
    const group = await monitorGroup(subscription, nodeIds, intervalMs, (_item, dataValue, index) => {
        notifications++;
        perItem[index]++;
        if (notGood(dataValue.statusCode)) {
            const name = dataValue.statusCode.name;
            badStatuses[name] = (badStatuses[name] ?? 0) + 1;
        }
    });
    const badCreates = {};
    let created = 0;
    for (const item of group.monitoredItems) {
        if (item.statusCode.isGood()) created++;
        else badCreates[item.statusCode.name] = (badCreates[item.statusCode.name] ?? 0) + 1;
    }
    const started = Date.now();
    await sleep(Number(args.duration) * 1000);
    const elapsed = (Date.now() - started) / 1000;
    const missing = [];
    for (let i = 0; i < count; i++) if (perItem[i] === 0) missing.push(nodeIds[i]);
    out({
        op: "subscribe",
        items: count,
        created,
        badCreates,
        notifications,
        itemsWithValue: count - missing.length,
        itemsWithoutValue: missing.length,
        firstMissing: missing.slice(0, 10),
        badStatuses,
        seconds: elapsed,
        subscriptionId: subscription.subscriptionId,
        revisedPublishingInterval: subscription.publishingInterval
    });
    await subscription.terminate().catch(() => {});
}

async function reconnectTransfer() {
    const nodeIds = (args.nodes ?? "").split(",").filter((s) => s.length > 0);
    if (nodeIds.length === 0) usage("reconnect-transfer needs --nodes ID[,ID...]");
    const timeoutMs = Number(args.timeout) * 1000;
    const events = [];
    const t0 = Date.now();
    const note = (name, detail) => {
        events.push(detail === undefined ? { t: Date.now() - t0, event: name } : { t: Date.now() - t0, event: name, detail });
        log(`event ${name}${detail === undefined ? "" : ` ${JSON.stringify(detail)}`}`);
    };

    const state = {
        connectionLost: false,
        reconnected: false,
        sessionRestored: false,
        sessionRepaired: false,
        repairFailed: null,
        dropSignalled: false
    };
    let phase = "before";
    let valuesBefore = 0;
    let valuesAfter = 0;
    let badAfter = 0;
    const badStatusesAfter = {};
    let overflowsAfter = 0;
    const itemsAfter = new Set();

    for (const name of ["connection_lost", "start_reconnection", "after_reconnection", "reconnection_attempt_has_failed", "connection_reestablished", "close"]) {
        client.on(name, (err) => note(name, err?.message));
    }
    client.on("connection_lost", () => {
        state.connectionLost = true;
    });
    client.on("connection_reestablished", () => {
        state.reconnected = true;
    });

    const sessionIdBefore = session.sessionId.toString();
    session.on("session_restored", () => {
        state.sessionRestored = true;
        note("session_restored", session.sessionId.toString());
    });
    session.on("session_repaired", () => {
        state.sessionRepaired = true;
        note("session_repaired");
    });
    session.on("session_repaired_failed", (err) => {
        state.repairFailed = err?.message ?? String(err);
        note("session_repaired_failed", state.repairFailed);
    });

    // Record what the recovery asks of the server. node-opcua repairs a lost session by creating a new one on the
    // same ClientSession object, so wrapping the instance's methods catches the calls its reconnection code makes.
    const transferCalls = [];
    const originalTransfer = session.transferSubscriptions.bind(session);
    session.transferSubscriptions = (request, callback) => {
        const ids = [...(request.subscriptionIds ?? [])];
        note("transferSubscriptions", { ids, sendInitialValues: request.sendInitialValues });
        const record = (response) => {
            const results = (response?.results ?? []).map((r) => ({
                status: r.statusCode.name,
                availableSequenceNumbers: [...(r.availableSequenceNumbers ?? [])]
            }));
            transferCalls.push({ ids, results });
            note("transferSubscriptions result", results);
        };
        if (typeof callback === "function") {
            return originalTransfer(request, (err, response) => {
                if (err) {
                    transferCalls.push({ ids, error: err.message });
                    note("transferSubscriptions failed", err.message);
                } else {
                    record(response);
                }
                callback(err, response);
            });
        }
        return originalTransfer(request).then((response) => {
            record(response);
            return response;
        });
    };
    let republishCalls = 0;
    const originalRepublish = session.republish.bind(session);
    session.republish = (...rest) => {
        republishCalls++;
        return originalRepublish(...rest);
    };

    const subscription = await createSubscription(100);
    const subscriptionIdBefore = subscription.subscriptionId;
    subscription.on("status_changed", (status) => note("subscription status_changed", status?.name ?? String(status)));
    subscription.on("terminated", () => note("subscription terminated"));
    await monitorGroup(subscription, nodeIds, 50, (_item, dataValue, index) => {
        if (phase === "before") {
            valuesBefore++;
        } else if (phase === "after") {
            valuesAfter++;
            if (((dataValue.statusCode.value >>> 0) & 0x480) === 0x480) overflowsAfter++;
            itemsAfter.add(index);
            if (notGood(dataValue.statusCode)) {
                badAfter++;
                const name = dataValue.statusCode.name;
                badStatusesAfter[name] = (badStatusesAfter[name] ?? 0) + 1;
                if (badAfter <= 10) note("bad value", { item: nodeIds[index], status: name, value: variantToJson(dataValue.value).value });
            }
        }
    });

    const deadline = t0 + timeoutMs;
    while (valuesBefore < nodeIds.length && Date.now() < deadline) await sleep(50);
    out({ event: "ready", sessionId: sessionIdBefore, subscriptionId: subscriptionIdBefore, valuesBefore });

    // Either the test tells us on stdin, or we see the socket go.
    const dropped = new Promise((resolve) => {
        let buffered = "";
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (chunk) => {
            buffered += chunk;
            if (buffered.split("\n").some((line) => line.trim() === "drop")) {
                state.dropSignalled = true;
                note("drop signalled on stdin");
                resolve();
            }
        });
        process.stdin.on("error", () => {});
        client.on("connection_lost", resolve);
    });
    await Promise.race([dropped, sleep(Math.max(0, deadline - Date.now()))]);
    phase = "during";

    while (!(state.reconnected && (state.sessionRestored || state.sessionRepaired)) && Date.now() < deadline) await sleep(50);
    const recoveredAt = Date.now() - t0;
    phase = "after";
    const afterMs = Number(args["duration-after"]) * 1000;
    await sleep(Math.max(0, Math.min(afterMs, deadline - Date.now())));
    phase = "done";

    out({
        op: "reconnect-transfer",
        ...state,
        recoveredAtMs: recoveredAt,
        sessionIdBefore,
        sessionIdAfter: session.sessionId.toString(),
        sessionIdChanged: session.sessionId.toString() !== sessionIdBefore,
        subscriptionIdBefore,
        subscriptionIdAfter: subscription.subscriptionId,
        transferCalls,
        republishCalls,
        valuesBefore,
        valuesAfter,
        badAfter,
        badStatusesAfter,
        overflowsAfter,
        itemsWithValueAfter: itemsAfter.size,
        items: nodeIds.length,
        events
    });
    await subscription.terminate().catch(() => {});
}

/** Publish requests parked for a session whose last subscription is deleted (OPC 10000-4 §5.13.8.1). */
async function publishAfterDelete() {
    const { CreateSubscriptionRequest, DeleteSubscriptionsRequest, PublishRequest } = await import("node-opcua");
    // Raw requests: node-opcua's publish engine would send and answer its own Publish requests.
    const transact = (request) =>
        new Promise((resolve) => session.performMessageTransaction(request, (err, response) => resolve({ err, response })));
    const statusOf = ({ err, response }) =>
        err ? (/Bad[A-Za-z]+/.exec(String(err.message ?? err))?.[0] ?? String(err.message ?? err)) : response.responseHeader.serviceResult.name;
    const created = await transact(
        new CreateSubscriptionRequest({
            requestedPublishingInterval: 3_600_000,
            requestedLifetimeCount: 30,
            requestedMaxKeepAliveCount: 10,
            maxNotificationsPerPublish: 0,
            publishingEnabled: true,
            priority: 0
        })
    );
    if (created.err) throw created.err;
    const publishes = [1, 2].map(() => transact(new PublishRequest({ subscriptionAcknowledgements: [] })));
    const deleted = await transact(new DeleteSubscriptionsRequest({ subscriptionIds: [created.response.subscriptionId] }));
    if (deleted.err) throw deleted.err;
    let timer;
    const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve("timeout"), 10_000);
    });
    const answered = await Promise.race([Promise.all(publishes), timeout]);
    clearTimeout(timer);
    out({
        op: "publish-after-delete",
        deleteResults: deleted.response.results.map((s) => s.name),
        publishes: answered === "timeout" ? "timeout" : answered.map(statusOf)
    });
}

let exitCode = 0;
try {
    await client.connect(args.endpoint);
    session = await client.createSession(userIdentity());
    switch (mode) {
        case "browse":
            if (!args.node?.length) usage("browse needs --node");
            await browseAll(args.node[0]);
            break;
        case "read":
            if (!args.node?.length) usage("read needs --node");
            await readNodes(args.node);
            break;
        case "write":
            await writeNode();
            break;
        case "call":
            await callMethod();
            break;
        case "subscribe":
            await subscribeMany();
            break;
        case "reconnect-transfer":
            await reconnectTransfer();
            break;
        case "publish-after-delete":
            await publishAfterDelete();
            break;
    }
    await session.close(true).catch((err) => log(`close session: ${err.message}`));
} catch (err) {
    log(err?.stack ?? String(err));
    exitCode = 1;
} finally {
    await client.disconnect().catch(() => {});
}
process.stdin.pause();
// stdout to a pipe is asynchronous: let every line drain before exiting.
await new Promise((resolve) => process.stdout.write("", resolve));
process.exit(exitCode);

