namespace TwinGateway.Telemetry.Replay;

/// <summary>A replay cannot run: the message says why, naming the line and the range.</summary>
public sealed class ReplayException : InvalidOperationException
{
    public ReplayException()
    {
    }

    public ReplayException(string message)
        : base(message)
    {
    }

    public ReplayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
