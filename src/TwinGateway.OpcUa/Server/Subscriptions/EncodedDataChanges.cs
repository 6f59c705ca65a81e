using System.Buffers;
using TwinGateway.OpcUa.Encoding;
using TwinGateway.OpcUa.Types;

namespace TwinGateway.OpcUa.Server.Subscriptions;

/// <summary>
/// The body of a DataChangeNotification the engine encoded straight from its item queues, in a buffer rented from
/// <see cref="ArrayPool{T}.Shared"/>. It sits in an <see cref="ExtensionObject"/> of a sent <see cref="NotificationMessage"/>
/// and encodes as those bytes.
/// </summary>
/// <remarks>
/// <para>
/// Why pooled: at 100,000 items and 100 ms a body is 50,000 values x 32 B = 1.6 MB, twenty a second. As fresh arrays
/// (<c>UaWriter.ToArray</c>) that was 32 MB/s on the large object heap, freed only by gen2 collections, and the
/// resident memory carried that garbage (peak 306 to 424 MB in the <c>server-load</c> runs of issue 3, 275 MB when the
/// LOH threshold kept it out of the LOH). Pooled, the bodies alive are those not yet acknowledged (2 to 6 with a client
/// that keeps 3 Publish requests outstanding).
/// </para>
/// <para>
/// Who holds it: the retransmission queue (from the send until the client acknowledges it, or it is evicted or the
/// subscription is deleted) and each response being encoded (a Publish response, a Republish answer). Each holder
/// releases once; the last one returns the buffer. A holder that never releases (a response dropped with its
/// connection) only costs the pool one array, which the GC collects; releasing too often is what must never happen,
/// as the buffer would then be encoded while it already carries another subscription's values.
/// </para>
/// </remarks>
internal sealed class EncodedDataChanges : IEncodeable
{
    private byte[]? _buffer;
    private readonly int _length;
    private int _holders = 1;

    /// <summary>Takes ownership of <paramref name="buffer"/> (rented from the shared pool); the creator is its first holder.</summary>
    public EncodedDataChanges(byte[] buffer, int length, int count)
    {
        _buffer = buffer;
        _length = length;
        Count = count;
    }

    public NodeId BinaryEncodingId => DataChangeNotification.BinaryEncodingNodeId;

    /// <summary>MonitoredItemNotifications in the body.</summary>
    public int Count { get; }

    /// <summary>Encoded size in bytes (for the retransmission queue's byte bound).</summary>
    public int Length => _length;

    /// <summary>False once the last holder released it.</summary>
    public bool IsAlive => Volatile.Read(ref _holders) > 0;

    /// <summary>Adds a holder; false when the buffer was already returned (the message must not be sent any more).</summary>
    public bool TryHold()
    {
        var holders = Volatile.Read(ref _holders);
        while (holders > 0)
        {
            var seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
            {
                return true;
            }

            holders = seen;
        }

        return false;
    }

    /// <summary>Drops one holder; the last returns the buffer to the pool.</summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _holders);
        if (left == 0 && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("an encoded DataChangeNotification was released more often than it was held");
        }
    }

    public void Encode(UaWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var buffer = Volatile.Read(ref _buffer)
            ?? throw new ObjectDisposedException(nameof(EncodedDataChanges), "the notification's buffer went back to the pool before it was encoded");
        writer.WriteBytes(buffer.AsSpan(0, _length));
    }

    public void Decode(ref UaReader reader) =>
        throw new NotSupportedException("an encoded DataChangeNotification is only written; clients decode DataChangeNotification");

    /// <summary>Holds every encoded body in <paramref name="message"/> for one more user; false (holding none) when one is gone.</summary>
    public static bool TryHoldAll(NotificationMessage message)
    {
        var data = message.NotificationData ?? [];
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i]?.Body is EncodedDataChanges body && !body.TryHold())
            {
                for (var j = 0; j < i; j++)
                {
                    (data[j]?.Body as EncodedDataChanges)?.Release();
                }

                return false;
            }
        }

        return true;
    }

    /// <summary>Releases one holder of every encoded body in <paramref name="message"/>.</summary>
    public static void ReleaseAll(NotificationMessage? message)
    {
        foreach (var extension in message?.NotificationData ?? [])
        {
            (extension?.Body as EncodedDataChanges)?.Release();
        }
    }

    /// <summary>Encoded bytes of the bodies in <paramref name="message"/>.</summary>
    public static long SizeOf(NotificationMessage message)
    {
        long size = 0;
        foreach (var extension in message.NotificationData ?? [])
        {
            size += (extension?.Body as EncodedDataChanges)?.Length ?? 0;
        }

        return size;
    }
}
