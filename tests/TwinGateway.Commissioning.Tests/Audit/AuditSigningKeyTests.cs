using System.Security.Cryptography;
using TwinGateway.Commissioning.Audit;

namespace TwinGateway.Commissioning.Tests.Audit;

public sealed class AuditSigningKeyTests : IDisposable
{
    private readonly AuditTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string PrivatePath => Path.Combine(_folder.Path, AuditSigningKey.PrivateKeyFileName);

    private string PublicPath => Path.Combine(_folder.Path, AuditSigningKey.PublicKeyFileName);

    [Fact]
    public void The_key_is_created_once_owner_only_and_reused()
    {
        string publicPem;
        using (var created = AuditSigningKey.LoadOrCreate(_folder.Path))
        {
            Assert.True(created.Created);
            publicPem = created.ExportPublicKeyPem();
        }

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(PrivatePath), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", publicPem, StringComparison.Ordinal);
        Assert.Equal(publicPem, File.ReadAllText(PublicPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(PrivatePath));
        }

        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp"));
        if (!OperatingSystem.IsWindows())
        {
            using var check = AuditSigningKey.LoadOrCreate(_folder.Path);
            Assert.False(check.IsReadableByOthers);
            File.SetUnixFileMode(PrivatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            using var exposed = AuditSigningKey.LoadOrCreate(_folder.Path);
            Assert.True(exposed.IsReadableByOthers);
            File.SetUnixFileMode(PrivatePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        using var loaded = AuditSigningKey.LoadOrCreate(_folder.Path);
        Assert.False(loaded.Created);
        Assert.Equal(publicPem, loaded.ExportPublicKeyPem());

        // What the loaded key signs, the created key's public half verifies.
        var hash = SHA256.HashData("entry"u8);
        using var verifier = AuditPublicKey.FromPem(publicPem).CreateVerifier();
        Assert.True(verifier.VerifyHash(hash, loaded.SignHash(hash), DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void A_damaged_key_file_is_a_clear_error_and_is_left_alone()
    {
        using (AuditSigningKey.LoadOrCreate(_folder.Path))
        {
        }

        var pem = File.ReadAllText(PrivatePath);
        var damaged = pem.Replace("-----BEGIN PRIVATE KEY-----\n", "-----BEGIN PRIVATE KEY-----\n!!", StringComparison.Ordinal);
        File.WriteAllText(PrivatePath, damaged);

        var error = Assert.Throws<AuditKeyException>(() => AuditSigningKey.LoadOrCreate(_folder.Path));
        Assert.Contains(PrivatePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("restore it from a backup", error.Message, StringComparison.Ordinal);
        Assert.Equal(damaged, File.ReadAllText(PrivatePath));
    }

    [Fact]
    public void A_key_file_replaced_by_another_key_is_a_clear_error()
    {
        using (AuditSigningKey.LoadOrCreate(_folder.Path))
        {
        }

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(PrivatePath, other.ExportPkcs8PrivateKeyPem());

        var error = Assert.Throws<AuditKeyException>(() => AuditSigningKey.LoadOrCreate(_folder.Path));
        Assert.Contains("does not match the public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_on_another_curve_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Directory.CreateDirectory(_folder.Path);
        File.WriteAllText(PrivatePath, p384.ExportPkcs8PrivateKeyPem());

        var error = Assert.Throws<AuditKeyException>(() => AuditSigningKey.LoadOrCreate(_folder.Path));
        Assert.Contains("not a P-256 key", error.Message, StringComparison.Ordinal);
    }
}
