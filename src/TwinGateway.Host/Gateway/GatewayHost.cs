using Grpc.AspNetCore.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Serilog;
using TwinGateway.Host.Api;
using TwinGateway.Host.Telemetry;

namespace TwinGateway.Host.Gateway;

/// <summary>The gateway service's composition: each method wires one capability (logging, lines, API).</summary>
internal static class GatewayHost
{
    /// <summary>Builds the gateway; <paramref name="overrides"/> are configuration keys set from the command line.</summary>
    public static WebApplication Build(IDictionary<string, string?> overrides, IControllerSimulator? simulator = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json"), optional: true);
        builder.Configuration.AddEnvironmentVariables("TWINGW_");
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.AddTwinGatewayLogging();
        builder.AddTwinGatewayLines(simulator);
        builder.AddTwinGatewayTelemetry();
        builder.AddTwinGatewayApi();
        var app = builder.Build();
        app.MapTwinGatewayApi();
        return app;
    }

    public static void AddTwinGatewayLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext());
    }

    public static void AddTwinGatewayLines(this WebApplicationBuilder builder, IControllerSimulator? simulator)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LineRegistry>();
        if (simulator is null)
        {
            builder.Services.AddSingleton<IControllerSimulator, LoopbackPlcSimulator>();
        }
        else
        {
            builder.Services.AddSingleton(simulator);
        }
        builder.Services.AddHostedService<GatewayService>();
    }

    public static void AddTwinGatewayApi(this WebApplicationBuilder builder)
    {
        var apiUrl = builder.Configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.ApiUrl)}"] ?? new GatewayOptions().ApiUrl;
        builder.WebHost.UseUrls(apiUrl);
        // gRPC without TLS needs HTTP/2 only (h2c) on the listener.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc => grpc.EnableDetailedErrors = true);
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck("lines", () =>
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
    }

    public static void MapTwinGatewayApi(this WebApplication app)
    {
        app.MapGrpcService<LineGrpcService>();
        app.MapGrpcService<TelemetryGrpcService>();
        app.MapGrpcService<ReplayGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
    }
}
