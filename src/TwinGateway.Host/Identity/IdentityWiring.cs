using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using TwinGateway.Commissioning.Identity;
using TwinGateway.Host.Telemetry;

namespace TwinGateway.Host.Identity;

/// <summary>The embedded identity: users and tokens in <c>users.db</c> of the data folder, checked on every gRPC call.</summary>
internal static class IdentityWiring
{
    public static void AddTwinGatewayIdentity(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IUserStore>(sp => SqliteUserStore.Open(
            Path.GetFullPath(sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.DataFolder),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        builder.Services.AddSingleton<JwtCallers>();
        builder.Services.AddSingleton<CallerAuthorization>();
        builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<CallerAuthorization>());
    }

    /// <summary>
    /// Opens the user store before anything starts, so an unreadable <c>users.db</c> fails the start with its reason,
    /// and says how to create the first user when there is none (the gateway runs, but every call is refused).
    /// </summary>
    /// <returns>The problem, or null.</returns>
    public static string? CheckUserStore(IServiceProvider services, ILogger log)
    {
        IUserStore store;
        try
        {
            store = services.GetRequiredService<IUserStore>();
        }
        catch (UserStoreException ex)
        {
            return ex.Message;
        }

        // Microsoft.Data.Sqlite runs its async methods synchronously, so this wait blocks no other thread.
        var users = store.ListAsync().GetAwaiter().GetResult();
        if (users.Count == 0)
        {
            IdentityLog.NoUsers(log, Path.GetFullPath(services.GetRequiredService<IOptions<TelemetryOptions>>().Value.DataFolder));
        }
        else
        {
            IdentityLog.Users(log, users.Count);
        }

        return null;
    }
}

internal static partial class IdentityLog
{
    [LoggerMessage(EventId = 4417, Level = LogLevel.Warning,
        Message = "No users yet, so every API call will be refused: create the first admin with `twingw users add admin --role admin --data {DataFolder}`, then export TWINGW_TOKEN")]
    public static partial void NoUsers(ILogger logger, string dataFolder);

    [LoggerMessage(EventId = 4418, Level = LogLevel.Information, Message = "{Count} API user(s); every gRPC call needs a token")]
    public static partial void Users(ILogger logger, int count);
}
