using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using TwinGateway.Api.V1;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Core.Identity;

namespace TwinGateway.Interop.Tests.Gateway;

/// <summary>Tokens on a real gateway: none, wrong, revoked, and the caller the services see.</summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private readonly GatewayUnderTest _gateway = new();

    public async Task InitializeAsync() => await _gateway.StartAsync(_gateway.DemoYaml);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private LineService.LineServiceClient Lines(string? token) => new(_gateway.CallInvokerFor(token));

    private static void AssertSaysHowToGetAToken(RpcException ex)
    {
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("twingw users add NAME --role ROLE", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("--token", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("TWINGW_TOKEN", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_without_a_token_is_unauthenticated_and_says_how_to_get_one()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Lines(null).ListLinesAsync(new ListLinesRequest()).ResponseAsync);

        AssertSaysHowToGetAToken(ex);
        Assert.Contains("carried none", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(_gateway.Log.Entries, e => e.Id.Id == 4410);
    }

    [Theory]
    [InlineData("tgw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-token")]
    public async Task A_wrong_token_is_unauthenticated_and_says_how_to_get_one(string token)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Lines(token).ListLinesAsync(new ListLinesRequest()).ResponseAsync);

        AssertSaysHowToGetAToken(ex);
        Assert.Contains("not valid", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_streaming_call_without_a_token_is_refused_before_it_streams()
    {
        using var call = Lines(null).WatchSignals(new WatchSignalsRequest { LineId = "demo-line" });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        AssertSaysHowToGetAToken(ex);
    }

    [Fact]
    public async Task A_removed_users_token_stops_working_on_the_next_call()
    {
        var token = await _gateway.AddUserAsync("leaver", Role.Viewer);
        Assert.NotEmpty((await Lines(token).ListLinesAsync(new ListLinesRequest())).Lines);

        await using (var store = SqliteUserStore.Open(_gateway.DataFolder))
        {
            Assert.True(await store.RemoveAsync("leaver"));
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => Lines(token).ListLinesAsync(new ListLinesRequest()).ResponseAsync);
        AssertSaysHowToGetAToken(ex);
    }

    [Fact]
    public async Task A_missing_role_is_permission_denied_naming_the_roles_needed_and_the_users_roles()
    {
        var token = await _gateway.AddUserAsync("watcher", Role.Viewer, Role.Operator);

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = new ReplayService.ReplayServiceClient(_gateway.CallInvokerFor(token)).Replay(new ReplayRequest { LineId = "demo-line" });
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal("/twingateway.v1.ReplayService/Replay needs one of the roles admin, engineer; user 'watcher' has viewer, operator", ex.Status.Detail);
    }

    [Fact]
    public async Task WhoAmI_returns_the_caller_the_services_see()
    {
        var token = await _gateway.AddUserAsync("carol@plant-2", Role.Approver, Role.Engineer);

        var me = await new UserService.UserServiceClient(_gateway.CallInvokerFor(token)).WhoAmIAsync(new WhoAmIRequest());

        Assert.Equal("carol@plant-2", me.Name);
        Assert.Equal(["engineer", "approver"], me.Roles);
    }

    [Fact]
    public async Task An_admin_manages_users_through_the_api_and_a_new_token_works_at_once()
    {
        var admin = new UserService.UserServiceClient(_gateway.CallInvoker!);

        var added = await admin.AddUserAsync(new AddUserRequest { Name = "mes-1", Roles = { "mes" } });
        var duplicate = await Assert.ThrowsAsync<RpcException>(() => admin.AddUserAsync(new AddUserRequest { Name = "MES-1", Roles = { "viewer" } }).ResponseAsync);
        var unknownRole = await Assert.ThrowsAsync<RpcException>(() => admin.AddUserAsync(new AddUserRequest { Name = "x", Roles = { "boss", "viewer" } }).ResponseAsync);
        var badName = await Assert.ThrowsAsync<RpcException>(() => admin.AddUserAsync(new AddUserRequest { Name = "a b", Roles = { "viewer" } }).ResponseAsync);
        var me = await new UserService.UserServiceClient(_gateway.CallInvokerFor(added.Token)).WhoAmIAsync(new WhoAmIRequest());
        var list = await admin.ListUsersAsync(new ListUsersRequest());
        await admin.RemoveUserAsync(new RemoveUserRequest { Name = "mes-1" });
        var missing = await Assert.ThrowsAsync<RpcException>(() => admin.RemoveUserAsync(new RemoveUserRequest { Name = "mes-1" }).ResponseAsync);

        Assert.Equal("mes-1", me.Name);
        Assert.Equal(["mes"], me.Roles);
        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, unknownRole.StatusCode);
        Assert.Contains("'boss'", unknownRole.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, badName.StatusCode);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var listed = Assert.Single(list.Users, u => u.Name == "mes-1");
        Assert.Equal(added.Token[..10], listed.TokenPrefix);
        Assert.NotNull(listed.LastUsed);
        Assert.Contains(list.Users, u => u.Name == GatewayUnderTest.AdminName);
        Assert.DoesNotContain(added.Token, list.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_and_reflection_answer_without_a_token()
    {
        var health = await new Health.HealthClient(_gateway.Channel!).CheckAsync(new HealthCheckRequest());
        using var reflection = new ServerReflection.ServerReflectionClient(_gateway.Channel!).ServerReflectionInfo();
        await reflection.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await reflection.RequestStream.CompleteAsync();
        Assert.True(await reflection.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Contains(reflection.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "twingateway.v1.UserService");
    }
}
