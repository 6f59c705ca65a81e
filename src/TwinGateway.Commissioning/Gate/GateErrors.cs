namespace TwinGateway.Commissioning.Gate;

/// <summary>Why the gate refused a request; the API maps each to its status code.</summary>
public enum RefusalKind
{
    /// <summary>The request itself is wrong (static checks, a missing reason): InvalidArgument.</summary>
    Invalid,

    /// <summary>No such change or line: NotFound.</summary>
    NotFound,

    /// <summary>Not now: the change is in a state that does not allow it, or the line is not in the condition the policy needs: FailedPrecondition.</summary>
    NotNow,

    /// <summary>Not by this person (their own change, a role the rule needs): PermissionDenied.</summary>
    NotAllowed,
}

/// <summary>The gate refused a request: nothing was changed, nothing was written to a controller.</summary>
public sealed class ChangeRefusedException : Exception
{
    public ChangeRefusedException()
    {
    }

    public ChangeRefusedException(string message)
        : base(message)
    {
    }

    public ChangeRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ChangeRefusedException(RefusalKind kind, string message, IReadOnlyList<string>? problems = null)
        : base(problems is { Count: > 0 } ? message + ":\n" + string.Join("\n", problems) : message)
    {
        Kind = kind;
        Problems = problems ?? [];
    }

    public RefusalKind Kind { get; }

    /// <summary>Every problem found (static checks list them all), each naming its field.</summary>
    public IReadOnlyList<string> Problems { get; } = [];
}
