namespace TwinGateway.OpcUa.Security.Pki;

/// <summary>Why a certificate store operation was refused: the caller named something that is not there, or gave bad input.</summary>
public enum PkiProblem
{
    /// <summary>No certificate with that thumbprint (or no own certificate yet).</summary>
    NotFound,

    /// <summary>The input is wrong: an unreadable file, a key that does not match, a wrong URI, an ambiguous thumbprint.</summary>
    InvalidInput,

    /// <summary>The store itself could not be read or written (permissions, disk).</summary>
    StoreFailed,
}

/// <summary>A certificate store operation refused, with a message that names the file or thumbprint and what to do.</summary>
public sealed class PkiException : Exception
{
    public PkiException()
    {
    }

    public PkiException(string message)
        : base(message)
    {
    }

    public PkiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PkiException(PkiProblem problem, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Problem = problem;
    }

    public PkiProblem Problem { get; } = PkiProblem.InvalidInput;
}
