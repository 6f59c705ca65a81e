namespace TwinGateway.OpcUa.Types;

/// <summary>A failure that carries an OPC UA status code; the message always names the code and the reason.</summary>
public class ServiceResultException : Exception
{
    public ServiceResultException()
        : this(new StatusCode(StatusCodes.BadUnexpectedError), "unexpected error")
    {
    }

    public ServiceResultException(string message)
        : this(new StatusCode(StatusCodes.BadUnexpectedError), message)
    {
    }

    public ServiceResultException(string message, Exception innerException)
        : this(new StatusCode(StatusCodes.BadUnexpectedError), message, innerException)
    {
    }

    public ServiceResultException(StatusCode statusCode, string reason, Exception? innerException = null)
        : base($"{statusCode.Name}: {reason}", innerException)
    {
        StatusCode = statusCode;
        Reason = reason;
    }

    public StatusCode StatusCode { get; }

    /// <summary>The reason without the status code prefix.</summary>
    public string Reason { get; } = "";
}
