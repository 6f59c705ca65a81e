using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Channel;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Client;

/// <summary>
/// Builds the user identity token for ActivateSession from what the server's endpoints allow (OPC 10000-4 §7.40).
/// A user name token on a None channel is still encrypted with the server's certificate when its token policy names
/// a security policy (most servers, node-opcua among them, ask for that); the secret is
/// length(4) | password | server nonce, RSA-OAEP encrypted (SHA-1 for Basic256Sha256/Aes128, SHA-256 for Aes256_RsaPss).
/// </summary>
internal static class UserTokens
{
    public static IEncodeable Create(UserIdentity identity, EndpointDescription[] endpoints, byte[]? serverNonce, byte[]? serverCertificate, string endpointUrl,
        string channelPolicyUri = SecurityPolicies.None, MessageSecurityMode channelMode = MessageSecurityMode.None)
    {
        var wanted = identity is UserNameIdentity ? UserTokenType.UserName : UserTokenType.Anonymous;
        var (policy, endpoint) = FindPolicy(endpoints, wanted, channelPolicyUri, channelMode);
        if (policy is null && endpoints.Length > 0)
        {
            var offered = string.Join(", ", endpoints
                .Where(e => Matches(e, channelPolicyUri, channelMode))
                .SelectMany(e => e.UserIdentityTokens ?? [])
                .Select(p => p.TokenType.ToString())
                .Distinct());
            throw new ServiceResultException(StatusCodes.BadIdentityTokenRejected,
                $"{endpointUrl} offers no {wanted} token on its {channelPolicyUri}/{channelMode} endpoint (it offers: {(offered.Length == 0 ? "none" : offered)})");
        }

        switch (identity)
        {
            case UserNameIdentity user:
                var password = System.Text.Encoding.UTF8.GetBytes(user.Password);
                var policyUri = policy?.SecurityPolicyUri;
                if (string.IsNullOrEmpty(policyUri))
                {
                    policyUri = endpoint?.SecurityPolicyUri;
                }

                if (string.IsNullOrEmpty(policyUri) || policyUri == SecurityPolicies.None)
                {
                    return new UserNameIdentityToken { PolicyId = policy?.PolicyId, UserName = user.UserName, Password = password };
                }

                var certificate = serverCertificate is { Length: > 0 } ? serverCertificate : endpoint?.ServerCertificate;
                if (certificate is not { Length: > 0 })
                {
                    throw new ServiceResultException(StatusCodes.BadIdentityTokenInvalid,
                        $"the user token policy '{policy?.PolicyId}' asks for {policyUri} but the server sent no certificate to encrypt the password with");
                }

                var (padding, algorithm) = policyUri switch
                {
                    SecurityPolicies.Aes256Sha256RsaPss => (RSAEncryptionPadding.OaepSHA256, "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256"),
                    SecurityPolicies.Basic256Sha256 or SecurityPolicies.Aes128Sha256RsaOaep or "http://opcfoundation.org/UA/SecurityPolicy#Basic256"
                        => (RSAEncryptionPadding.OaepSHA1, "http://www.w3.org/2001/04/xmlenc#rsa-oaep"),
                    _ => throw new ServiceResultException(StatusCodes.BadSecurityPolicyRejected,
                        $"the user token policy '{policy?.PolicyId}' asks for {policyUri}, which this client cannot encrypt a password for"),
                };
                var nonce = serverNonce ?? [];
                var secret = new byte[4 + password.Length + nonce.Length];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(secret, password.Length + nonce.Length);
                password.CopyTo(secret, 4);
                nonce.CopyTo(secret, 4 + password.Length);
                using (var cert = X509CertificateLoader.LoadCertificate(certificate))
                using (var rsa = cert.GetRSAPublicKey() ?? throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "the server certificate has no RSA key"))
                {
                    return new UserNameIdentityToken
                    {
                        PolicyId = policy?.PolicyId,
                        UserName = user.UserName,
                        Password = EncryptBlocks(rsa, secret, padding),
                        EncryptionAlgorithm = algorithm,
                    };
                }

            default:
                return new AnonymousIdentityToken { PolicyId = policy?.PolicyId ?? "anonymous" };
        }
    }

    /// <summary>The endpoints of the channel's policy and mode (None: every None endpoint).</summary>
    private static bool Matches(EndpointDescription endpoint, string channelPolicyUri, MessageSecurityMode channelMode) =>
        endpoint.SecurityMode == channelMode && (channelMode == MessageSecurityMode.None || endpoint.SecurityPolicyUri == channelPolicyUri);

    private static (UserTokenPolicy? Policy, EndpointDescription? Endpoint) FindPolicy(EndpointDescription[] endpoints, UserTokenType type, string channelPolicyUri, MessageSecurityMode channelMode)
    {
        foreach (var endpoint in endpoints.Where(e => Matches(e, channelPolicyUri, channelMode)))
        {
            foreach (var policy in endpoint.UserIdentityTokens ?? [])
            {
                if (policy.TokenType == type)
                {
                    return (policy, endpoint);
                }
            }
        }

        return (null, null);
    }

    /// <summary>RSA-OAEP works on blocks of at most key size minus the padding overhead; long secrets take several.</summary>
    private static byte[] EncryptBlocks(RSA rsa, byte[] data, RSAEncryptionPadding padding)
    {
        var keyBytes = rsa.KeySize / 8;
        var hashBytes = padding == RSAEncryptionPadding.OaepSHA256 ? 32 : 20;
        var blockSize = keyBytes - (2 * hashBytes) - 2;
        using var output = new MemoryStream();
        for (var offset = 0; offset < data.Length; offset += blockSize)
        {
            var block = data.AsSpan(offset, Math.Min(blockSize, data.Length - offset)).ToArray();
            output.Write(rsa.Encrypt(block, padding));
        }

        return output.ToArray();
    }
}
