namespace TwinGateway.Drift.Alerts;

/// <summary>The alert store cannot be opened or written: the message names the file and the reason.</summary>
public sealed class AlertStoreException : Exception
{
    public AlertStoreException()
    {
    }

    public AlertStoreException(string message)
        : base(message)
    {
    }

    public AlertStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A person's action on an alert is refused (unknown id, already resolved): the message says why.</summary>
public sealed class AlertActionException : InvalidOperationException
{
    public AlertActionException()
    {
    }

    public AlertActionException(string message)
        : base(message)
    {
    }

    public AlertActionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
