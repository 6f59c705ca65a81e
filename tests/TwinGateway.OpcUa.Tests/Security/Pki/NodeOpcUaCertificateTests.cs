using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Client;
using TwinGateway.OpcUa.Security.Pki;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Tests.Security.Pki;

/// <summary>
/// The validator on the certificate of an independent stack: node-opcua 2.186.4's server certificate as its
/// GetEndpoints response carries it (DER in a ByteString), refused as untrusted, kept in rejected, then trusted.
/// </summary>
public sealed class NodeOpcUaCertificateTests(NodeOpcUaServerFixture node) : IClassFixture<NodeOpcUaServerFixture>, IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Node_opcuas_server_certificate_is_untrusted_then_trusted_for_its_application_uri()
    {
        var endpoints = await OpcUaClient.GetEndpointsAsync(node.Server.EndpointUrl);
        var endpoint = endpoints.First(e => e.ServerCertificate is { Length: > 0 });
        var uri = endpoint.Server!.ApplicationUri!;
        var store = new DirectoryCertificateStore(_folder.File("pki"));
        store.EnsureCreated();
        var validator = new TrustListValidator(store);

        var first = validator.ValidateEncoded(endpoint.ServerCertificate, uri);
        var rejected = Assert.Single(store.List(PkiStoreName.Rejected));
        store.Trust(rejected.Thumbprint);
        var second = validator.ValidateEncoded(endpoint.ServerCertificate, uri);
        var wrongUri = validator.ValidateEncoded(endpoint.ServerCertificate, "urn:someone:else");

        Assert.Equal(new StatusCode(StatusCodes.BadCertificateUntrusted), first.Status);
        Assert.Equal(uri, rejected.ApplicationUri);
        Assert.True(second.IsTrusted, second.Reason);
        Assert.Equal(new StatusCode(StatusCodes.BadCertificateUriInvalid), wrongUri.Status);
        using var certificate = X509CertificateLoader.LoadCertificate(endpoint.ServerCertificate!);
        Assert.Equal(certificate.Thumbprint, rejected.Thumbprint);
    }
}
