using System.Net;
using System.Text.Json;
using Grpc.AspNetCore.HealthChecks;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Serilog;
using ILogger = Microsoft.Extensions.Logging.ILogger;
using TwinGateway.Core.Lines;
using TwinGateway.Core.Twins;
using TwinGateway.Gateway;
using TwinGateway.Gateway.Health;
using TwinGateway.Host.Api;
using TwinGateway.Host.Commissioning;
using TwinGateway.Host.Drift;
using TwinGateway.Host.Identity;
using TwinGateway.Host.Secrets;
using TwinGateway.Host.Security;
using TwinGateway.Host.Telemetry;
using TwinGateway.Host.Web;
using TwinGateway.PlcSim;
using TwinGateway.Simulation;

namespace TwinGateway.Host.Gateway;

/// <summary>The gateway service's composition: each method wires one capability (logging, lines, API, health).</summary>
internal static class GatewayHost
{
    /// <summary>
    /// Builds the gateway; <paramref name="overrides"/> are configuration keys set from the command line, and
    /// <paramref name="configure"/> adds services (another sink, say) before the host is built; <paramref name="time"/>
    /// is the one clock of the lines, the supervisors and the Quartz schedules (the system's by default).
    /// </summary>
    public static WebApplication Build(IDictionary<string, string?> overrides, Action<IServiceCollection>? configure = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        var settingsFiles = AddSettingsFiles(builder.Configuration);
        builder.Configuration.AddEnvironmentVariables("TWINGW_");
        builder.Configuration.AddInMemoryCollection(overrides);
        var secrets = builder.Configuration.AddTwinGatewaySecrets();
        builder.AddTwinGatewayLogging();
        builder.Services.AddSingleton(time);
        builder.AddTwinGatewayLines();
        builder.AddTwinGatewayTelemetry(time);
        builder.AddTwinGatewayCommissioning();
        builder.AddTwinGatewayDrift(time);
        builder.AddTwinGatewayApi();
        builder.AddTwinGatewayIdentity();
        builder.AddTwinGatewayCertificates();
        if (WebConsoleOn(builder.Configuration))
        {
            builder.AddTwinGatewayWeb();
        }

        configure?.Invoke(builder.Services);
        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TwinGateway.Host");
        try
        {
            CheckConfiguration(app.Services);
            if (IdentityWiring.CheckUserStore(app.Services, log) is { } problem)
            {
                throw new GatewayConfigurationException([problem]);
            }
        }
        catch (GatewayConfigurationException)
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        if (WebConsoleOn(app.Configuration))
        {
            app.MapTwinGatewayWeb();
        }

        app.MapTwinGatewayApi();
        secrets.Log(log);
        app.Services.GetRequiredService<JwtCallers>().LogSettings();
        app.Services.GetService<TlsCertificate>()?.Log(log);
        HostLog.Settings(log, settingsFiles.Count == 0 ? "none (built-in defaults only)" : string.Join(", ", settingsFiles));
        return app;
    }

    /// <summary>
    /// Everything about the configuration that can be known before anything starts, checked at once: every settings
    /// section's validation and the line definitions' problems, so one start lists every problem.
    /// </summary>
    /// <exception cref="GatewayConfigurationException">Something is wrong; it lists every problem.</exception>
    private static void CheckConfiguration(IServiceProvider services)
    {
        var problems = new List<string>();
        var gateway = Validated<GatewayOptions>(services, problems);
        Validated<TelemetryOptions>(services, problems);
        Validated<DriftOptions>(services, problems);
        Validated<JwtOptions>(services, problems);
        if (gateway is not null)
        {
            problems.AddRange(services.GetRequiredService<LineConfiguration>().Problems);
        }
        else if ((services.GetRequiredService<IConfiguration>().GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions()) is { } raw
            && !string.IsNullOrWhiteSpace(raw.LinesDirectory))
        {
            // Other Gateway settings are wrong; the line files are still checked, so this start lists their problems too.
            problems.AddRange(LineConfiguration.Load(raw).Problems);
        }

        if (problems.Count > 0)
        {
            throw new GatewayConfigurationException(problems);
        }
    }

    private static T? Validated<T>(IServiceProvider services, List<string> problems)
        where T : class
    {
        try
        {
            return services.GetRequiredService<IOptions<T>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            problems.AddRange(ex.Failures);
            return null;
        }
    }

    /// <summary>
    /// The settings files, lowest precedence first: the built-in defaults beside the binary, then
    /// <c>config/appsettings.json</c> in the working directory (what a user edits). Returns the files it found.
    /// </summary>
    private static List<string> AddSettingsFiles(IConfigurationBuilder configuration)
    {
        var found = new List<string>();
        var builtIn = Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json");
        var local = Path.GetFullPath(Path.Combine("config", "appsettings.json"));
        foreach (var file in new[] { builtIn, local }.Distinct(StringComparer.Ordinal))
        {
            if (File.Exists(file))
            {
                configuration.AddJsonFile(file, optional: false);
                found.Add(file);
            }
        }

        return found;
    }

    /// <summary>
    /// The data folder <c>twingw run</c> in this working directory would use (settings files, then <c>TWINGW_</c>
    /// variables, as the gateway reads them), so <c>twingw users</c> finds the gateway's <c>users.db</c> without a flag.
    /// </summary>
    public static string ConfiguredDataFolder()
    {
        using var configuration = new ConfigurationManager();
        AddSettingsFiles(configuration);
        configuration.AddEnvironmentVariables("TWINGW_");
        var folder = configuration[$"{TelemetryOptions.Section}:{nameof(TelemetryOptions.DataFolder)}"];
        return Path.GetFullPath(string.IsNullOrWhiteSpace(folder) ? new TelemetryOptions().DataFolder : folder);
    }

    public static void AddTwinGatewayLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext());
    }

    /// <summary>The line runtime: its options, the twin engine, the simulated PLCs (embedded default), the lines and their health.</summary>
    public static void AddTwinGatewayLines(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton<ITwinFactory, LineTwinFactory>();
        services.AddSingleton<IControllerSimulator, LoopbackPlcSimulator>();
        services.AddSingleton(sp => LineConfiguration.Load(sp.GetRequiredService<IOptions<GatewayOptions>>().Value));
        services.AddSingleton<LineRegistry>();
        services.AddHostedService<GatewayService>();
        services.AddHealthChecks().AddCheck<LinesHealthCheck>("lines");
    }

    private static bool WebConsoleOn(IConfiguration configuration) =>
        !bool.TryParse(configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.WebConsole)}"], out var on) || on;

    /// <summary>
    /// gRPC and the web console on <c>Gateway:ApiUrl</c> (every gRPC call but health and reflection authenticated: see
    /// <see cref="IdentityWiring"/>), and <c>/healthz</c> on <c>Gateway:HealthUrl</c> over HTTP/1.1 for probes. Over
    /// TLS, ALPN lets one endpoint speak HTTP/1.1 and HTTP/2; in cleartext, Kestrel speaks h2c only on an endpoint that
    /// speaks nothing else, so the endpoint is HTTP/2 and <see cref="CleartextMultiplexer"/> relays the browsers'
    /// HTTP/1.1 connections to an internal HTTP/1.1 listener.
    /// </summary>
    public static void AddTwinGatewayApi(this WebApplicationBuilder builder)
    {
        var defaults = new GatewayOptions();
        var apiUrl = builder.Configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.ApiUrl)}"] ?? defaults.ApiUrl;
        var healthUrl = builder.Configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.HealthUrl)}"] ?? defaults.HealthUrl;
        var web = WebConsoleOn(builder.Configuration);
        var multiplexer = web && apiUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase) ? new CleartextMultiplexer() : null;
        var tls = LoadTlsCertificate(builder.Configuration, apiUrl, healthUrl);
        if (tls is not null)
        {
            builder.Services.AddSingleton(tls);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (multiplexer is not null)
            {
                multiplexer.DeleteSocket();
                kestrel.ListenUnixSocket(multiplexer.SocketPath, listen => listen.Protocols = HttpProtocols.Http1);
                Listen(kestrel, apiUrl, HttpProtocols.Http2, tls, listen => listen.Use(multiplexer.Middleware));
            }
            else
            {
                Listen(kestrel, apiUrl, web ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http2, tls);
            }

            if (!string.IsNullOrEmpty(healthUrl))
            {
                Listen(kestrel, healthUrl, HttpProtocols.Http1, tls);
            }
        });
        if (multiplexer is not null)
        {
            builder.Services.AddSingleton(multiplexer);
            builder.Services.AddHostedService<MultiplexerSocketCleanup>();
        }

        builder.Services.AddGrpc(grpc => grpc.EnableDetailedErrors = true);
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks();
    }

    /// <summary>
    /// The certificate of the https endpoints (Gateway:Tls, else the self-signed one in the data folder); null when
    /// neither URL is https.
    /// </summary>
    private static TlsCertificate? LoadTlsCertificate(ConfigurationManager configuration, string apiUrl, string? healthUrl)
    {
        if (!apiUrl.StartsWith("https:", StringComparison.OrdinalIgnoreCase) && healthUrl?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) != true)
        {
            return null;
        }

        var options = configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        var dataFolder = configuration[$"{TelemetryOptions.Section}:{nameof(TelemetryOptions.DataFolder)}"];
        return TlsCertificates.Load(options, string.IsNullOrWhiteSpace(dataFolder) ? new TelemetryOptions().DataFolder : dataFolder, apiUrl, TimeProvider.System);
    }

    /// <summary>Listens where <paramref name="url"/> says; an invalid URL is left to the options validation, which names it.</summary>
    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, TlsCertificate? tls, Action<ListenOptions>? more = null)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return;
        }

        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            more?.Invoke(listen);
            if (uri.Scheme == "https" && tls is not null)
            {
                listen.UseHttps(tls.Certificate);
            }
        }

        if (uri.Host is "localhost")
        {
            kestrel.ListenLocalhost(uri.Port, Configure);
        }
        else if (uri.Host is "*" or "+" || (IPAddress.TryParse(uri.Host, out var any) && any.Equals(IPAddress.Any)))
        {
            kestrel.ListenAnyIP(uri.Port, Configure);
        }
        else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address))
        {
            kestrel.Listen(address, uri.Port, Configure);
        }
        else
        {
            foreach (var resolved in Dns.GetHostAddresses(uri.Host))
            {
                kestrel.Listen(resolved, uri.Port, Configure);
            }
        }
    }

    public static void MapTwinGatewayApi(this WebApplication app)
    {
        app.MapGrpcService<LineGrpcService>();
        app.MapGrpcService<TelemetryGrpcService>();
        app.MapGrpcService<ReplayGrpcService>();
        app.MapGrpcService<AuditGrpcService>();
        app.MapGrpcService<CommissioningGrpcService>();
        app.MapGrpcService<UserGrpcService>();
        app.MapGrpcService<DriftGrpcService>();
        app.MapGrpcService<AlertGrpcService>();
        app.MapGrpcService<CertificateGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            // Degraded still serves (a probe must not restart a gateway because a PLC is down); Unhealthy is 503.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = Microsoft.AspNetCore.Http.StatusCodes.Status200OK,
                [HealthStatus.Degraded] = Microsoft.AspNetCore.Http.StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = Microsoft.AspNetCore.Http.StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteHealthAsync,
        });
    }

    /// <summary><c>{"status":"Degraded","checks":{"lines":{"status":"Degraded","description":"..."},...}}</c></summary>
    private static Task WriteHealthAsync(Microsoft.AspNetCore.Http.HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                json.WriteString("description", entry.Description ?? entry.Exception?.Message ?? "");
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return context.Response.Body.WriteAsync(buffer.ToArray()).AsTask();
    }
}

internal static partial class HostLog
{
    [LoggerMessage(EventId = 4401, Level = LogLevel.Information, Message = "Settings read from {Files}")]
    public static partial void Settings(ILogger logger, string files);
}
