using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Security;

/// <summary>
/// A peer's certificate chain as OPC UA sends it (SenderCertificate, ServerCertificate): DER certificates back to
/// back, the peer's own first (OPC 10000-6 §6.2.6).
/// </summary>
public static class CertificateChain
{
    /// <summary>More certificates than this in one chain is refused before any is parsed (a chain bomb).</summary>
    public const int MaxCertificates = 8;

    /// <summary>Splits and loads the certificates.</summary>
    /// <exception cref="ServiceResultException">BadCertificateInvalid: empty, not DER, trailing bytes, or too many.</exception>
    public static IReadOnlyList<X509Certificate2> Parse(ReadOnlySpan<byte> der)
    {
        if (der.IsEmpty)
        {
            throw new ServiceResultException(StatusCodes.BadCertificateInvalid, "the certificate is empty");
        }

        var lengths = new List<int>();
        var rest = der;
        while (!rest.IsEmpty)
        {
            if (lengths.Count == MaxCertificates)
            {
                throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                    $"the certificate chain holds more than {MaxCertificates} certificates");
            }

            int length;
            try
            {
                if (!AsnDecoder.TryReadEncodedValue(rest, AsnEncodingRules.DER, out var tag, out _, out _, out length)
                    || tag != Asn1Tag.Sequence)
                {
                    throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                        $"bytes at offset {der.Length - rest.Length} of the certificate chain are not a DER certificate");
                }
            }
            catch (AsnContentException ex)
            {
                throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                    $"bytes at offset {der.Length - rest.Length} of the certificate chain are not DER: {ex.Message}", ex);
            }

            lengths.Add(length);
            rest = rest[length..];
        }

        var certificates = new List<X509Certificate2>(lengths.Count);
        var offset = 0;
        try
        {
            foreach (var length in lengths)
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(der.Slice(offset, length)));
                offset += length;
            }
        }
        catch (CryptographicException ex)
        {
            foreach (var c in certificates)
            {
                c.Dispose();
            }

            throw new ServiceResultException(StatusCodes.BadCertificateInvalid,
                $"certificate {certificates.Count + 1} of the chain does not load: {ex.Message}", ex);
        }

        return certificates;
    }

    /// <summary>SHA-1 of a certificate's DER: the ReceiverCertificateThumbprint of an OPN.</summary>
    public static byte[] Thumbprint(ReadOnlySpan<byte> der) =>
#pragma warning disable CA5350 // OPC 10000-6 §6.7.2.3 defines the thumbprint as SHA-1; it identifies, it does not protect.
        SHA1.HashData(der);
#pragma warning restore CA5350
}
