using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace TwinGateway.Commissioning.Identity;

/// <summary>
/// API tokens: <c>tgw_</c> and 32 random bytes in base64url (47 characters). The prefix makes a leaked token
/// recognisable to secret scanners and to people; only its SHA-256 is stored.
/// </summary>
/// <remarks>
/// SHA-256 and not a slow password KDF (PBKDF2, Argon2) on purpose: a slow hash protects guessable secrets, and a
/// token is 256 random bits that nobody can guess however fast the hash, while a slow hash would cost every call.
/// </remarks>
public static class ApiTokens
{
    public const string Prefix = "tgw_";

    private const int RandomBytes = 32;

    /// <summary>The token's characters kept for display after the prefix: 6 of 43 (36 of 256 bits), enough to tell tokens apart.</summary>
    private const int DisplayCharacters = 6;

    /// <summary>Base64url of 32 bytes without padding.</summary>
    private const int EncodedLength = 43;

    public static string Create()
    {
        Span<byte> secret = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(secret);
        var text = Prefix + Base64Url.EncodeToString(secret);
        CryptographicOperations.ZeroMemory(secret);
        return text;
    }

    /// <summary>True when <paramref name="token"/> has a token's shape (the prefix and 43 base64url characters).</summary>
    public static bool IsWellFormed(string? token) =>
        token is { Length: EncodedLength + 4 } && token.StartsWith(Prefix, StringComparison.Ordinal) && Base64Url.IsValid(token.AsSpan(Prefix.Length));

    /// <summary>The SHA-256 of the token's text, which is all the store keeps.</summary>
    public static byte[] Hash(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>What <c>twingw users list</c> shows of a token.</summary>
    public static string DisplayPrefix(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token[..Math.Min(token.Length, Prefix.Length + DisplayCharacters)];
    }
}
