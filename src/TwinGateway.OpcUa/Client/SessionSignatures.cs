using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Security;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// The proofs of possession of a secured session (OPC 10000-4 §5.6.2, §5.6.3): the server signs our certificate and
/// nonce in its CreateSession response, we sign its certificate and nonce in ActivateSession.
/// </summary>
internal static class SessionSignatures
{
    /// <summary>Checks the server's nonce, its certificate (the endpoint's) and its signature over clientCertificate | clientNonce.</summary>
    public static void CheckServer(SecurityPolicy policy, EndpointDescription? endpoint, CreateSessionResponse created, byte[] clientCertificate, byte[] clientNonce, string endpointUrl)
    {
        if (created.ServerNonce is not { } nonce || nonce.Length < policy.NonceLength)
        {
            throw new ServiceResultException(StatusCodes.BadNonceInvalid,
                $"CreateSession of {endpointUrl} returned a server nonce of {created.ServerNonce?.Length ?? 0} bytes; {policy.Name} needs {policy.NonceLength}");
        }

        if (created.ServerCertificate is not { Length: > 0 } serverCertificate)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"CreateSession of {endpointUrl} returned no server certificate");
        }

        if (endpoint?.ServerCertificate is { Length: > 0 } expected && !FirstCertificate(serverCertificate).AsSpan().SequenceEqual(FirstCertificate(expected)))
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                $"CreateSession of {endpointUrl} returned a server certificate other than the one of the endpoint the channel was secured for");
        }

        var signature = created.ServerSignature;
        if (signature?.Signature is not { Length: > 0 } bytes || signature.Algorithm != policy.AsymmetricSignatureAlgorithmUri)
        {
            throw new ServiceResultException(StatusCodes.BadApplicationSignatureInvalid,
                $"CreateSession of {endpointUrl} is signed with '{signature?.Algorithm}', {policy.Name} asks for {policy.AsymmetricSignatureAlgorithmUri}");
        }

        using var certificate = X509CertificateLoader.LoadCertificate(FirstCertificate(serverCertificate));
        using var key = certificate.GetRSAPublicKey()
            ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, $"the certificate of {endpointUrl} has no RSA key");
        if (!policy.Verify(key, [.. clientCertificate, .. clientNonce], bytes))
        {
            throw new ServiceResultException(StatusCodes.BadApplicationSignatureInvalid,
                $"the server signature of {endpointUrl}'s CreateSession response does not verify over our certificate and nonce");
        }
    }

    /// <summary>Our signature over serverCertificate | serverNonce for ActivateSession.</summary>
    public static SignatureData Sign(SecurityPolicy policy, ApplicationCertificate own, byte[]? serverCertificate, byte[]? serverNonce) => new()
    {
        Algorithm = policy.AsymmetricSignatureAlgorithmUri,
        Signature = policy.Sign(own.PrivateKey, [.. serverCertificate ?? [], .. serverNonce ?? []]),
    };

    private static byte[] FirstCertificate(byte[] chain)
    {
        var certificates = CertificateChain.Parse(chain);
        try
        {
            return certificates[0].RawData;
        }
        finally
        {
            foreach (var c in certificates)
            {
                c.Dispose();
            }
        }
    }
}
