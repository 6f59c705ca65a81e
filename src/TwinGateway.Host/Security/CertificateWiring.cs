using Microsoft.Extensions.Options;
using TwinGateway.Host.Telemetry;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Security.Pki;

namespace TwinGateway.Host.Security;

/// <summary>Settings of the gateway's OPC UA certificates (section <c>Certificates</c>).</summary>
public sealed class CertificateOptions
{
    public const string Section = "Certificates";

    /// <summary>The gateway's ApplicationUri as an OPC UA client: the URI its own certificate carries.</summary>
    public string ApplicationUri { get; set; } = "urn:twingateway:client";

    /// <summary>The common name of its own certificate.</summary>
    public string ApplicationName { get; set; } = "TwinGateway";

    /// <summary>RSA key size of a certificate created or renewed here: 2048, 3072 or 4096.</summary>
    public int KeySize { get; set; } = 2048;

    /// <summary>Lifetime of a certificate created or renewed here, in days.</summary>
    public int ValidityDays { get; set; } = 5 * 365;

    /// <summary>How many refused certificates rejected/ keeps (the oldest go first).</summary>
    public int MaxRejected { get; set; } = 100;

    /// <summary>
    /// Whether every CA of a peer's chain must have a CRL in trusted/crl or issuers/crl (OPC 10000-4 §6.1.3); off
    /// accepts a CA-issued certificate whose revocation cannot be checked.
    /// </summary>
    public bool RequireRevocationLists { get; set; } = true;
}

internal sealed class CertificateOptionsValidator : IValidateOptions<CertificateOptions>
{
    public ValidateOptionsResult Validate(string? name, CertificateOptions options)
    {
        var problems = new List<string>();
        if (!Uri.TryCreate(options.ApplicationUri, UriKind.Absolute, out _))
        {
            problems.Add($"Certificates:ApplicationUri '{options.ApplicationUri}' is not an absolute URI");
        }

        if (options.KeySize is not (2048 or 3072 or 4096))
        {
            problems.Add($"Certificates:KeySize {options.KeySize}: use 2048, 3072 or 4096");
        }

        if (options.ValidityDays is < 1 or > 20 * 365)
        {
            problems.Add($"Certificates:ValidityDays {options.ValidityDays}: between 1 and {20 * 365}");
        }

        if (options.MaxRejected is < 1 or > 10_000)
        {
            problems.Add($"Certificates:MaxRejected {options.MaxRejected}: between 1 and 10000");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// The OPC UA certificate stores in <c>&lt;data folder&gt;/pki</c>: the store the CertificateService manages, the
/// trust-list validator the OPC UA channels ask, and our own certificate, created on the first start when missing.
/// </summary>
internal static class CertificateWiring
{
    /// <summary>The PKI folder of a data folder.</summary>
    public static string PkiFolder(string dataFolder) => Path.Combine(Path.GetFullPath(dataFolder), "pki");

    public static void AddTwinGatewayCertificates(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<CertificateOptions>().BindConfiguration(CertificateOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CertificateOptions>, CertificateOptionsValidator>();
        builder.Services.AddSingleton(sp => new DirectoryCertificateStore(
            PkiFolder(sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.DataFolder),
            sp.GetRequiredService<IOptions<CertificateOptions>>().Value.MaxRejected,
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<ICertificateValidator>(sp => new TrustListValidator(
            sp.GetRequiredService<DirectoryCertificateStore>(),
            sp.GetRequiredService<IOptions<CertificateOptions>>().Value.RequireRevocationLists,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<TrustListValidator>()));
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<CertificateOptions>>().Value;
            return new ApplicationCertificates(sp.GetRequiredService<DirectoryCertificateStore>(), new OwnCertificateSettings
            {
                ApplicationUri = options.ApplicationUri,
                ApplicationName = options.ApplicationName,
                KeySize = options.KeySize,
                Validity = TimeSpan.FromDays(options.ValidityDays),
            }, sp.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddHostedService<OwnCertificateStartup>();
    }
}

/// <summary>Creates the store's folders and our own certificate when missing, before the gateway serves; logs which one it uses.</summary>
internal sealed partial class OwnCertificateStartup(ApplicationCertificates own, ILogger<OwnCertificateStartup> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var existed = File.Exists(own.Store.OwnCertificatePath);
        using var certificate = own.LoadOrCreate();
        OwnCertificate(log, existed ? "loaded" : "created", certificate.Subject, certificate.Thumbprint, own.Settings.ApplicationUri,
            certificate.NotAfter.ToUniversalTime(), own.Store.Root);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 4601, Level = LogLevel.Information,
        Message = "OPC UA application certificate {Action}: {Subject} ({Thumbprint}) for {ApplicationUri}, valid until {NotAfter:u}; stores in {Folder}")]
    private static partial void OwnCertificate(ILogger logger, string action, string subject, string thumbprint, string applicationUri, DateTime notAfter, string folder);
}
