using System.Collections.Immutable;
using TwinGateway.Core.Identity;

namespace TwinGateway.Commissioning.Identity;

/// <summary>
/// The gateway's own users and their API tokens (the embedded default identity). Every call reads the store (nothing
/// is cached), so removing a user revokes its token for the next call, whichever process removed it.
/// </summary>
public interface IUserStore : IAsyncDisposable
{
    /// <summary>Adds a user with a new token; the token is in the result only, never stored in clear.</summary>
    /// <exception cref="UserRefusedException">The name is invalid or taken, or no role was given.</exception>
    /// <exception cref="UserStoreException">The store cannot be written.</exception>
    Task<NewUser> AddAsync(string name, IReadOnlyCollection<Role> roles, CancellationToken cancellationToken = default);

    /// <summary>Every user, by name.</summary>
    Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes a user and so revokes its token; false when there is no such user.</summary>
    Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The user holding <paramref name="token"/>, or null for an unknown, revoked or malformed token.</summary>
    Task<UserRecord?> FindByTokenAsync(string token, CancellationToken cancellationToken = default);
}

/// <summary>A user as the store keeps it: never the token, only its first characters to tell tokens apart.</summary>
/// <param name="Name">Unique, compared without case (<c>Alice</c> and <c>alice</c> are one user, so they cannot approve each other's changes).</param>
/// <param name="Roles">At least one.</param>
/// <param name="Created">When the user (and its token) was created.</param>
/// <param name="TokenPrefix">The token's first characters, e.g. <c>tgw_Ab3xQ9</c>, to recognise which token is which.</param>
/// <param name="LastUsed">When the token last authenticated a call (recorded at most once a minute), or null.</param>
public sealed record UserRecord(string Name, ImmutableArray<Role> Roles, DateTimeOffset Created, string TokenPrefix, DateTimeOffset? LastUsed)
{
    public UserIdentity ToIdentity() => new(Name, Roles);
}

/// <summary>A user just added and its token, which is shown this once.</summary>
public sealed record NewUser(UserRecord User, string Token);

/// <summary>The store refused a request (a bad or duplicate name, no role): the message says what to change.</summary>
public sealed class UserRefusedException(string message) : Exception(message);

/// <summary>The store's database cannot be opened, read or written: the message names the file and the reason.</summary>
public sealed class UserStoreException(string message, Exception? inner = null) : Exception(message, inner);
