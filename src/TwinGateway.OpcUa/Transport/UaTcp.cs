using System.Buffers.Binary;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Transport;

/// <summary>Message types of UA-TCP and UA Secure Conversation (OPC 10000-6 §7.1.2, §6.7.2), as the first three header bytes.</summary>
public enum UaMessageType : uint
{
    Hello = 'H' | ('E' << 8) | ('L' << 16),
    Acknowledge = 'A' | ('C' << 8) | ('K' << 16),
    Error = 'E' | ('R' << 8) | ('R' << 16),
    ReverseHello = 'R' | ('H' << 8) | ('E' << 16),
    OpenSecureChannel = 'O' | ('P' << 8) | ('N' << 16),
    Message = 'M' | ('S' << 8) | ('G' << 16),
    CloseSecureChannel = 'C' | ('L' << 8) | ('O' << 16),
}

/// <summary>The fourth header byte: more chunks follow (C), final chunk (F), or the sender aborted the message (A).</summary>
public enum ChunkType : byte
{
    Intermediate = (byte)'C',
    Final = (byte)'F',
    Abort = (byte)'A',
}

/// <summary>The 8-byte header every UA-TCP message and chunk starts with.</summary>
public readonly record struct ChunkHeader(UaMessageType MessageType, ChunkType ChunkType, uint MessageSize)
{
    public const int Size = 8;

    /// <summary>
    /// Parses and validates a header: the type must be known, the chunk type C/F/A (F only for HEL/ACK/ERR),
    /// the size at least the header and at most <paramref name="maxChunkSize"/>.
    /// </summary>
    public static ChunkHeader Parse(ReadOnlySpan<byte> header, uint maxChunkSize)
    {
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var type = (UaMessageType)(raw & 0x00FFFFFFu);
        var chunkType = (ChunkType)(raw >> 24);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        switch (type)
        {
            case UaMessageType.Hello or UaMessageType.Acknowledge or UaMessageType.Error or UaMessageType.ReverseHello:
                if (chunkType != ChunkType.Final)
                {
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                        $"{Describe(header)} message with chunk type '{(char)chunkType}' (must be 'F')");
                }

                break;
            case UaMessageType.OpenSecureChannel or UaMessageType.Message or UaMessageType.CloseSecureChannel:
                if (chunkType is not (ChunkType.Final or ChunkType.Intermediate or ChunkType.Abort))
                {
                    throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                        $"{Describe(header)} chunk with invalid chunk type 0x{(byte)chunkType:X2}");
                }

                break;
            default:
                throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                    $"unknown message type '{Describe(header)}' (bytes {Convert.ToHexString(header[..4])})");
        }

        if (size < Size)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTypeInvalid,
                $"{Describe(header)} chunk declares {size} bytes, less than its own header");
        }

        if (size > maxChunkSize)
        {
            throw new ServiceResultException(StatusCodes.BadTcpMessageTooLarge,
                $"{Describe(header)} chunk of {size} bytes exceeds the negotiated buffer size of {maxChunkSize}");
        }

        return new ChunkHeader(type, chunkType, size);
    }

    public static void Write(Span<byte> destination, UaMessageType type, ChunkType chunkType, uint size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)type | ((uint)chunkType << 24));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], size);
    }

    private static string Describe(ReadOnlySpan<byte> header)
    {
        Span<char> text = stackalloc char[3];
        for (var i = 0; i < 3; i++)
        {
            text[i] = header[i] is >= 0x20 and < 0x7F ? (char)header[i] : '?';
        }

        return new string(text);
    }
}

/// <summary>Buffer and message limits one side announces in Hello or Acknowledge (OPC 10000-6 §7.1.2.3).</summary>
public sealed record TransportLimits
{
    /// <summary>The smallest buffer the specification allows.</summary>
    public const uint MinBufferSize = 8192;

    public static TransportLimits Default { get; } = new();

    public uint ReceiveBufferSize { get; init; } = 65535;
    public uint SendBufferSize { get; init; } = 65535;

    /// <summary>0 means no limit.</summary>
    public uint MaxMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>0 means no limit.</summary>
    public uint MaxChunkCount { get; init; } = 512;

    /// <summary>Checks that the values are usable, listing every problem.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (ReceiveBufferSize < MinBufferSize)
        {
            problems.Add($"ReceiveBufferSize {ReceiveBufferSize} is below {MinBufferSize}");
        }

        if (SendBufferSize < MinBufferSize)
        {
            problems.Add($"SendBufferSize {SendBufferSize} is below {MinBufferSize}");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid transport limits: " + string.Join("; ", problems));
        }
    }
}

/// <summary>The Hello message a client sends first (OPC 10000-6 §7.1.2.3).</summary>
public sealed record HelloMessage(uint ProtocolVersion, uint ReceiveBufferSize, uint SendBufferSize, uint MaxMessageSize, uint MaxChunkCount, string? EndpointUrl)
{
    /// <summary>EndpointUrl is limited to 4096 bytes by the specification.</summary>
    public const int MaxEndpointUrlLength = 4096;

    public byte[] Encode()
    {
        using var writer = new UaWriter(256);
        writer.Reserve(ChunkHeader.Size);
        writer.WriteUInt32(ProtocolVersion);
        writer.WriteUInt32(ReceiveBufferSize);
        writer.WriteUInt32(SendBufferSize);
        writer.WriteUInt32(MaxMessageSize);
        writer.WriteUInt32(MaxChunkCount);
        writer.WriteString(EndpointUrl);
        var bytes = writer.ToArray();
        ChunkHeader.Write(bytes, UaMessageType.Hello, ChunkType.Final, (uint)bytes.Length);
        return bytes;
    }

    public static HelloMessage Decode(ReadOnlySpan<byte> body)
    {
        var reader = new UaReader(body, EncodingLimits.Default with { MaxStringLength = MaxEndpointUrlLength });
        return new HelloMessage(reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadString());
    }
}

/// <summary>The Acknowledge a server answers with: its side of the negotiated limits. Always 28 bytes.</summary>
public sealed record AcknowledgeMessage(uint ProtocolVersion, uint ReceiveBufferSize, uint SendBufferSize, uint MaxMessageSize, uint MaxChunkCount)
{
    public const int EncodedSize = 28;

    public byte[] Encode()
    {
        var bytes = new byte[EncodedSize];
        ChunkHeader.Write(bytes, UaMessageType.Acknowledge, ChunkType.Final, EncodedSize);
        var span = bytes.AsSpan(ChunkHeader.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(span, ProtocolVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], ReceiveBufferSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], SendBufferSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], MaxMessageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], MaxChunkCount);
        return bytes;
    }

    public static AcknowledgeMessage Decode(ReadOnlySpan<byte> body)
    {
        var reader = new UaReader(body);
        return new AcknowledgeMessage(reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32());
    }
}

/// <summary>The Error message either side sends before it closes the socket (OPC 10000-6 §7.1.2.5).</summary>
public sealed record ErrorMessage(StatusCode Error, string? Reason)
{
    public byte[] Encode()
    {
        using var writer = new UaWriter(128);
        writer.Reserve(ChunkHeader.Size);
        writer.WriteStatusCode(Error);
        writer.WriteString(Reason is { Length: > 4096 } ? Reason[..4096] : Reason);
        var bytes = writer.ToArray();
        ChunkHeader.Write(bytes, UaMessageType.Error, ChunkType.Final, (uint)bytes.Length);
        return bytes;
    }

    public static ErrorMessage Decode(ReadOnlySpan<byte> body)
    {
        var reader = new UaReader(body, EncodingLimits.Default with { MaxStringLength = 4096 });
        return new ErrorMessage(reader.ReadStatusCode(), reader.ReadString());
    }
}
