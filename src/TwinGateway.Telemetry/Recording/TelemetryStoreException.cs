namespace TwinGateway.Telemetry.Recording;

/// <summary>The flight recorder cannot do what was asked; the message names the file and the reason.</summary>
public sealed class TelemetryStoreException : Exception
{
    public TelemetryStoreException(string message)
        : base(message)
    {
    }

    public TelemetryStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TelemetryStoreException()
    {
    }
}
