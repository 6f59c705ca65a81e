using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using TwinGateway.Core.Identity;
using TwinGateway.Host.Identity;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>
/// The role table against the real gateway: every RPC the host maps is called by a user holding a single role, and
/// must be refused with PermissionDenied exactly when the table does not allow that role. The requests are empty, so
/// an allowed call usually fails later (NotFound, InvalidArgument): any status but PermissionDenied and
/// Unauthenticated proves it got past authorization. The methods are read from the host's endpoints, so a method
/// that is in the table but not mapped yet (the commissioning service on this branch) is skipped, and a mapped method
/// without an entry fails <see cref="Every_method_the_host_maps_has_roles_in_the_table"/>.
/// </summary>
public sealed class RoleMatrixTests : IAsyncLifetime
{
    private static readonly Marshaller<byte[]> s_bytes = Marshallers.Create(b => b, b => b);
    private readonly GatewayUnderTest _gateway = new();

    public async Task InitializeAsync() => await _gateway.StartAsync(_gateway.DemoYaml);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    /// <summary>Every gRPC method the host maps, exempt services (health, reflection) left out.</summary>
    private List<IMethod> MappedMethods() =>
        [.. ((IEndpointRouteBuilder)_gateway.App!).DataSources
            .SelectMany(d => d.Endpoints)
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .OfType<IMethod>()
            .Where(m => !m.FullName.Contains('{', StringComparison.Ordinal) && !RpcRoles.IsExempt(m.FullName))
            .DistinctBy(m => m.FullName)
            .OrderBy(m => m.FullName, StringComparer.Ordinal)];

    [Fact]
    public void Every_method_the_host_maps_has_roles_in_the_table()
    {
        var methods = MappedMethods();

        Assert.Contains(methods, m => m.FullName == "/twingateway.v1.LineService/ListLines");
        Assert.Contains(methods, m => m.FullName == "/twingateway.v1.UserService/AddUser");
        var missing = methods.Select(m => m.FullName).Where(m => !RpcRoles.Table.ContainsKey(m)).ToList();
        Assert.True(missing.Count == 0, $"RPCs without roles in RpcRoles.Table (every caller is refused): {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_exempt_services_are_health_and_reflection_only()
    {
        Assert.True(RpcRoles.IsExempt("/grpc.health.v1.Health/Check"));
        Assert.True(RpcRoles.IsExempt("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
        Assert.False(RpcRoles.IsExempt("/twingateway.v1.LineService/ListLines"));
        Assert.False(RpcRoles.IsExempt("/grpc.health.v1.HealthX/Check"));
        Assert.False(RpcRoles.IsExempt("grpc.health.v1.Health/Check"));
    }

    [Fact]
    public async Task Each_role_is_refused_exactly_the_rpcs_the_table_does_not_allow_it()
    {
        var tokens = new Dictionary<Role, string>();
        foreach (var role in Roles.All)
        {
            tokens[role] = await _gateway.AddUserAsync("only-" + role.ToText(), role);
        }

        var methods = MappedMethods();
        var mismatches = new List<string>();
        var walked = 0;
        foreach (var method in methods)
        {
            Assert.True(RpcRoles.TryGetAllowed(method.FullName, out var allowed), $"{method.FullName} has no roles (see the other test)");
            foreach (var role in Roles.All)
            {
                var status = await CallAsync(_gateway.CallInvokerFor(tokens[role]), method);
                walked++;
                var expectAllowed = role == Role.Admin || allowed.Contains(role);
                if (status == StatusCode.Unauthenticated)
                {
                    mismatches.Add($"{method.FullName} as {role.ToText()}: Unauthenticated (the token was not accepted)");
                }
                else if (expectAllowed == (status == StatusCode.PermissionDenied))
                {
                    mismatches.Add($"{method.FullName} as {role.ToText()}: {status}, expected {(expectAllowed ? "to pass authorization" : "PermissionDenied")}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
        Assert.True(walked >= 12 * Roles.All.Count, $"only {walked} calls walked over {methods.Count} methods");
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4412 && e.Message.Contains("only-viewer", StringComparison.Ordinal));
    }

    /// <summary>
    /// Calls <paramref name="method"/> with an empty request; the status it ends with (OK when it passed or streamed).
    /// The role walks of other callers (JWT over TLS) use it too.
    /// </summary>
    internal static async Task<StatusCode> CallAsync(CallInvoker invoker, IMethod method)
    {
        var call = new Method<byte[], byte[]>(method.Type, method.ServiceName, method.Name, s_bytes, s_bytes);

        // A safety net for unary calls. A stream that waits for events (WatchChanges with nothing to watch) may send nothing:
        // the interceptor decides before the handler runs, so a refusal comes at once and a stream still open after a few
        // seconds was let through (counted as OK below).
        var streaming = method.Type != MethodType.Unary;
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(streaming ? 5 : 60));
        try
        {
            switch (method.Type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(call, null, options, []);
                    break;
                case MethodType.ServerStreaming:
                    {
                        using var stream = invoker.AsyncServerStreamingCall(call, null, options, []);
                        await stream.ResponseStream.MoveNext(CancellationToken.None);
                        break;
                    }

                case MethodType.ClientStreaming:
                    {
                        using var stream = invoker.AsyncClientStreamingCall(call, null, options);
                        await stream.RequestStream.CompleteAsync();
                        await stream.ResponseAsync;
                        break;
                    }

                default:
                    {
                        using var stream = invoker.AsyncDuplexStreamingCall(call, null, options);
                        await stream.RequestStream.CompleteAsync();
                        await stream.ResponseStream.MoveNext(CancellationToken.None);
                        break;
                    }
            }

            return StatusCode.OK;
        }
        catch (RpcException ex) when (streaming && ex.StatusCode == StatusCode.DeadlineExceeded)
        {
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
