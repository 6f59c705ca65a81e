using System.Collections.Frozen;
using System.Collections.Immutable;
using TwinGateway.Core.Identity;

namespace TwinGateway.Host.Identity;

/// <summary>
/// THE table of who may call what: every RPC's full name and the roles allowed to call it; admin may call everything.
/// An RPC missing here is refused to everyone (deny by default) and logged as a programming error, and a test fails
/// when a method the host maps is missing, so a new RPC cannot ship without its roles.
/// </summary>
/// <remarks>
/// Entries for the commissioning and audit services are here before those services are mapped, so their roles are
/// reviewed with this table and not scattered through their implementations; an entry for a method that does not
/// exist grants nothing.
/// </remarks>
internal static class RpcRoles
{
    /// <summary>Reads of lines and telemetry: every role that works with the line (admin is allowed anyway).</summary>
    private static readonly ImmutableArray<Role> s_readers = [Role.Viewer, Role.Operator, Role.Engineer, Role.Approver, Role.Safety, Role.Mes];

    /// <summary>Any authenticated caller, whatever its roles.</summary>
    private static readonly ImmutableArray<Role> s_anyone = [.. Roles.All];

    private static readonly ImmutableArray<Role> s_engineers = [Role.Engineer];

    private static readonly ImmutableArray<Role> s_engineersAndMes = [Role.Engineer, Role.Mes];

    /// <summary>Who acts on a drift alert: the operators who watch the line and the engineers who look after its twin.</summary>
    private static readonly ImmutableArray<Role> s_alertHandlers = [Role.Operator, Role.Engineer];

    private static readonly ImmutableArray<Role> s_approvers = [Role.Approver, Role.Safety];

    /// <summary>Admin only (admin is implied).</summary>
    private static readonly ImmutableArray<Role> s_admins = [];

    /// <summary>Method full name (<c>/package.Service/Method</c>) to the roles that may call it, admin always included.</summary>
    public static FrozenDictionary<string, ImmutableArray<Role>> Table { get; } = Build(
        ("twingateway.v1.LineService", [
            ("ListLines", s_readers),
            ("GetLine", s_readers),
            ("ReadSignals", s_readers),
            ("WatchSignals", s_readers),
        ]),
        ("twingateway.v1.TelemetryService", [
            ("QueryRange", s_readers),
            ("StreamSamples", s_readers),
            ("GetTelemetryStatus", s_readers),
        ]),
        ("twingateway.v1.ReplayService", [
            ("Replay", s_engineers),
        ]),
        ("twingateway.v1.UserService", [
            ("AddUser", s_admins),
            ("ListUsers", s_admins),
            ("RemoveUser", s_admins),
            ("WhoAmI", s_anyone),
        ]),
        ("twingateway.v1.CommissioningService", [
            ("SubmitChange", s_engineersAndMes),
            ("WithdrawChange", s_engineersAndMes),
            ("ValidateChange", s_engineers),
            ("ApplyChange", s_engineers),
            ("AbortChange", s_engineers),
            ("ApproveChange", s_approvers),
            ("RejectChange", s_approvers),
            ("GetChange", s_anyone),
            ("ListChanges", s_anyone),
            ("WatchChanges", s_anyone),
            ("ExportEvidence", s_anyone),
        ]),
        ("twingateway.v1.DriftService", [
            ("TrainModel", s_engineers),
            ("ActivateModel", s_engineers),
            ("ApproveModelActivation", s_approvers),
            ("ScoreRange", s_engineers),
            ("ListModels", s_readers),
            ("GetDriftStatus", s_readers),
        ]),
        ("twingateway.v1.AlertService", [
            ("ListAlerts", s_readers),
            ("WatchAlerts", s_readers),
            ("AcknowledgeAlert", s_alertHandlers),
            ("ResolveAlert", s_alertHandlers),
        ]),
        ("twingateway.v1.CertificateService", [
            ("ListCertificates", s_admins),
            ("GetCertificate", s_admins),
            ("TrustCertificate", s_admins),
            ("RejectCertificate", s_admins),
            ("RemoveCertificate", s_admins),
            ("ExportOwnCertificate", s_admins),
        ]),
        ("twingateway.v1.AuditService", [
            ("ListEntries", s_anyone),
            ("VerifyChain", s_anyone),
        ]));

    /// <summary>
    /// Services that answer without a token: the standard health service (probes carry no credentials) and server
    /// reflection (grpcurl's discovery of the schema, which is public in protos/ anyway). Neither reveals line data.
    /// </summary>
    public static FrozenSet<string> ExemptServices { get; } = FrozenSet.Create(StringComparer.Ordinal,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection");

    /// <summary>True when <paramref name="method"/> (<c>/package.Service/Method</c>) belongs to an exempt service.</summary>
    public static bool IsExempt(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        var slash = method.IndexOf('/', 1);
        return method.StartsWith('/') && slash > 1 && ExemptServices.Contains(method[1..slash]);
    }

    /// <summary>The roles that may call <paramref name="method"/>, admin first; false when the method has no entry.</summary>
    public static bool TryGetAllowed(string method, out ImmutableArray<Role> allowed) => Table.TryGetValue(method, out allowed);

    /// <summary>Whether <paramref name="user"/> may call a method that allows <paramref name="allowed"/>.</summary>
    public static bool Permits(ImmutableArray<Role> allowed, UserIdentity user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Roles.Any(r => r == Role.Admin || allowed.Contains(r));
    }

    private static FrozenDictionary<string, ImmutableArray<Role>> Build(params (string Service, (string Method, ImmutableArray<Role> Roles)[] Methods)[] services)
    {
        var table = new Dictionary<string, ImmutableArray<Role>>(StringComparer.Ordinal);
        foreach (var (service, methods) in services)
        {
            foreach (var (method, roles) in methods)
            {
                // Admin is listed so that messages and the matrix test read the whole truth from the table.
                table.Add($"/{service}/{method}", [Role.Admin, .. roles.Where(r => r != Role.Admin)]);
            }
        }

        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
