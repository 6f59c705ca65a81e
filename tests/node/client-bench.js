// node-opcua's own client as the benchmark's reference point.
//
//   node client-bench.js --endpoint URL --items N --interval MS --duration S --warmup S
//                        [--ns K | --namespace-uri URI] [--batch N]
//
// Monitors ns=K;s=Bench.0 .. Bench.{N-1} (server.js --bench-items N) in one subscription, counts the data-change
// notifications that arrive during `duration` seconds after `warmup` seconds, measures this process's CPU over
// exactly that window, prints one JSON line to stdout and exits 0:
//   {"client":"node-opcua","items":N,"durationS":..,"notifications":..,"notificationsPerSec":..,
//    "cpuUserMs":..,"cpuSystemMs":..,"cpuNsPerNotification":..}
// Diagnostics go to stderr.
import { parseArgs } from "node:util";

// node-opcua logs through console.log (stdout); stdout is reserved for this script's JSON lines.
console.log = console.info = console.debug = console.error;
const { AttributeIds, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn, UserTokenType } = await import(
    "node-opcua"
);

const { values: args } = parseArgs({
    options: {
        endpoint: { type: "string" },
        items: { type: "string" },
        interval: { type: "string", default: "100" },
        duration: { type: "string", default: "10" },
        warmup: { type: "string", default: "3" },
        ns: { type: "string" },
        "namespace-uri": { type: "string", default: "urn:twingateway:test:node-opcua-server" },
        batch: { type: "string", default: "1000" }
    },
    strict: true
});

const log = (message) => process.stderr.write(`client-bench.js: ${message}\n`);
function number(name, min) {
    const value = Number(args[name]);
    if (!Number.isFinite(value) || value < min) {
        log(`--${name} must be a number >= ${min}`);
        process.exit(2);
    }
    return value;
}
if (!args.endpoint) {
    log("--endpoint URL is required");
    process.exit(2);
}
const items = Math.trunc(number("items", 1));
const interval = number("interval", 0);
const durationS = number("duration", 0.1);
const warmupS = number("warmup", 0);
const batch = Math.trunc(number("batch", 1));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const client = OPCUAClient.create({
    applicationName: "TwinGatewayNodeBench",
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    keepSessionAlive: true,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 }
});

let exitCode = 0;
try {
    await client.connect(args.endpoint);
    const session = await client.createSession({ type: UserTokenType.Anonymous });

    let ns;
    if (args.ns !== undefined) {
        ns = Number.parseInt(args.ns, 10);
    } else {
        const namespaceArray = await session.readNamespaceArray();
        ns = namespaceArray.indexOf(args["namespace-uri"]);
        if (ns < 0) throw new Error(`namespace ${args["namespace-uri"]} not in NamespaceArray ${JSON.stringify(namespaceArray)}`);
    }

    const subscription = await session.createSubscription2({
        requestedPublishingInterval: interval,
        requestedLifetimeCount: 6000,
        requestedMaxKeepAliveCount: 20,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 1
    });

    let notifications = 0;
    const onChanged = () => {
        notifications++;
    };
    const created = Date.now();
    const groups = [];
    for (let start = 0; start < items; start += batch) {
        const end = Math.min(items, start + batch);
        const itemsToMonitor = [];
        for (let i = start; i < end; i++) {
            itemsToMonitor.push({ nodeId: `ns=${ns};s=Bench.${i}`, attributeId: AttributeIds.Value });
        }
        const group = await subscription.monitorItems(
            itemsToMonitor,
            { samplingInterval: interval, queueSize: 1, discardOldest: true },
            TimestampsToReturn.Both
        );
        group.on("changed", onChanged);
        groups.push(group);
    }
    log(`monitoring ${items} items in ns=${ns} (${groups.length} calls, ${Date.now() - created} ms)`);

    await sleep(warmupS * 1000);
    const startCount = notifications;
    const startCpu = process.cpuUsage();
    const startTime = process.hrtime.bigint();
    await sleep(durationS * 1000);
    const cpu = process.cpuUsage(startCpu);
    const elapsedS = Number(process.hrtime.bigint() - startTime) / 1e9;
    const count = notifications - startCount;

    const round = (x, digits) => Number(x.toFixed(digits));
    process.stdout.write(
        `${JSON.stringify({
            client: "node-opcua",
            items,
            durationS: round(elapsedS, 3),
            notifications: count,
            notificationsPerSec: round(count / elapsedS, 1),
            cpuUserMs: round(cpu.user / 1000, 1),
            cpuSystemMs: round(cpu.system / 1000, 1),
            cpuNsPerNotification: count > 0 ? round(((cpu.user + cpu.system) * 1000) / count, 1) : null
        })}\n`
    );

    await subscription.terminate().catch((err) => log(`terminate: ${err.message}`));
    await session.close().catch((err) => log(`close session: ${err.message}`));
} catch (err) {
    log(err?.stack ?? String(err));
    exitCode = 1;
} finally {
    await client.disconnect().catch(() => {});
}
process.exit(exitCode);
