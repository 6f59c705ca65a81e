using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinGateway.OpcUa.Security.Pki;

/// <summary>
/// A certificate revocation list (RFC 5280 §5) read offline from a store's <c>crl/</c> folder: its issuer's name, its
/// dates and the revoked serial numbers. .NET builds CRLs (CertificateRevocationListBuilder) but does not read them, so
/// the TBSCertList is read here with System.Formats.Asn1 and its signature checked with the issuer's key.
/// </summary>
public sealed class RevocationList
{
    private readonly byte[] _tbs;
    private readonly byte[] _signature;
    private readonly string _signatureAlgorithm;
    private readonly HashSet<BigInteger> _revoked;

    private RevocationList(byte[] tbs, string algorithm, byte[] signature, X500DistinguishedName issuer, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate, HashSet<BigInteger> revoked)
    {
        _tbs = tbs;
        _signatureAlgorithm = algorithm;
        _signature = signature;
        Issuer = issuer;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        _revoked = revoked;
    }

    public X500DistinguishedName Issuer { get; }

    public DateTimeOffset ThisUpdate { get; }

    public DateTimeOffset? NextUpdate { get; }

    public int Count => _revoked.Count;

    /// <summary>Parses a DER or PEM ("X509 CRL") revocation list; null when it is not one.</summary>
    public static RevocationList? TryRead(ReadOnlySpan<byte> content)
    {
        byte[] der;
        if (CertificateFacts.LooksLikePem(content))
        {
            var text = System.Text.Encoding.ASCII.GetString(content);
            if (!PemEncoding.TryFind(text, out var fields) || text[fields.Label] != "X509 CRL")
            {
                return null;
            }

            try
            {
                der = Convert.FromBase64String(text[fields.Base64Data]);
            }
            catch (FormatException)
            {
                return null;
            }
        }
        else
        {
            der = content.ToArray();
        }

        try
        {
            return Parse(der);
        }
        catch (AsnContentException)
        {
            return null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static RevocationList Parse(byte[] der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER);
        var certList = outer.ReadSequence();
        outer.ThrowIfNotEmpty();
        var tbsEncoded = certList.PeekEncodedValue().ToArray();
        var tbs = certList.ReadSequence();
        var algorithm = certList.ReadSequence().ReadObjectIdentifier();
        var signature = certList.ReadBitString(out _);
        certList.ThrowIfNotEmpty();

        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            tbs.ReadInteger();
        }

        tbs.ReadSequence();
        var issuer = new X500DistinguishedName(tbs.ReadEncodedValue().Span);
        var thisUpdate = ReadTime(tbs);
        DateTimeOffset? nextUpdate = null;
        if (tbs.HasData && (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)) || tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.GeneralizedTime))))
        {
            nextUpdate = ReadTime(tbs);
        }

        var revoked = new HashSet<BigInteger>();
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var entries = tbs.ReadSequence();
            while (entries.HasData)
            {
                var entry = entries.ReadSequence();
                revoked.Add(entry.ReadInteger());
            }
        }

        return new RevocationList(tbsEncoded, algorithm, signature, issuer, thisUpdate, nextUpdate, revoked);
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();

    /// <summary>Whether <paramref name="issuer"/> issued this list: same name and its key verifies the signature.</summary>
    public bool IsIssuedBy(X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        if (!issuer.SubjectName.RawData.AsSpan().SequenceEqual(Issuer.RawData))
        {
            return false;
        }

        try
        {
            return _signatureAlgorithm switch
            {
                "1.2.840.113549.1.1.11" => VerifyRsa(issuer, HashAlgorithmName.SHA256),
                "1.2.840.113549.1.1.12" => VerifyRsa(issuer, HashAlgorithmName.SHA384),
                "1.2.840.113549.1.1.13" => VerifyRsa(issuer, HashAlgorithmName.SHA512),
                "1.2.840.113549.1.1.5" => VerifyRsa(issuer, HashAlgorithmName.SHA1),
                "1.2.840.10045.4.3.2" => VerifyEcdsa(issuer, HashAlgorithmName.SHA256),
                "1.2.840.10045.4.3.3" => VerifyEcdsa(issuer, HashAlgorithmName.SHA384),
                "1.2.840.10045.4.3.4" => VerifyEcdsa(issuer, HashAlgorithmName.SHA512),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Whether the certificate with <paramref name="certificate"/>'s serial number is on the list.</summary>
    public bool Revokes(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _revoked.Contains(new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true));
    }

    private bool VerifyRsa(X509Certificate2 issuer, HashAlgorithmName hash)
    {
        using var rsa = issuer.GetRSAPublicKey();
        return rsa is not null && rsa.VerifyData(_tbs, _signature, hash, RSASignaturePadding.Pkcs1);
    }

    private bool VerifyEcdsa(X509Certificate2 issuer, HashAlgorithmName hash)
    {
        using var ecdsa = issuer.GetECDsaPublicKey();
        return ecdsa is not null && ecdsa.VerifyData(_tbs, _signature, hash, DSASignatureFormat.Rfc3279DerSequence);
    }
}
